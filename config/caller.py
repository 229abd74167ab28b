"""Who is calling, as one string: the configured resolver's answer, else the client address."""

import functools
from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework.request import Request

from config.clientip import client_ip


def _resolver() -> Callable[[Request], str | None]:
    # A dotted path, not an import: config never imports the app that knows the keys.
    return _imported(settings.AISLE_CALLER_RESOLVER)


@functools.lru_cache(maxsize=4)
def _imported(path: str) -> Callable[[Request], str | None]:
    return import_string(path)


def caller(request: Request) -> str:
    """The caller a limit or an Idempotency-Key belongs to: the API key, else the client address.

    The address is the one `config.clientip` believes (forwarded headers only from trusted
    proxies), so a client cannot pick its own identity.
    """
    return _resolver()(request) or f"ip:{client_ip(request)}"
