"""Who is calling, as one string: for per-caller limits and idempotency namespaces."""

from rest_framework.request import Request

from apikeys.permissions import request_key
from config.clientip import client_ip


def caller_id(request: Request) -> str | None:
    """`"key:<prefix>"` for a call with a valid API key; None for an anonymous call.

    The prefix is unique per key and not secret (it is half of the key a caller sends, and the
    admin lists it), so it can name Redis keys and database rows.
    """
    key = request_key(request)
    return f"key:{key.prefix}" if key is not None else None


def caller(request: Request) -> str:
    """The caller a limit or an Idempotency-Key belongs to: the API key, else the client address.

    The address is the one `config.clientip` believes (forwarded headers only from trusted
    proxies), so a client cannot pick its own identity.
    """
    return caller_id(request) or f"ip:{client_ip(request)}"
