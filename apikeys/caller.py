"""Who is calling by API key: for per-caller limits and idempotency namespaces."""

from rest_framework.request import Request

from apikeys.permissions import request_key


def caller_id(request: Request) -> str | None:
    """`"key:<prefix>"` for a call with a valid API key; None for an anonymous call.

    The prefix is unique per key and not secret (it is half of the key a caller sends, and the
    admin lists it), so it can name Redis keys and database rows. `config.caller` falls back to
    the client address (settings AISLE_CALLER_RESOLVER names this function).
    """
    key = request_key(request)
    return f"key:{key.prefix}" if key is not None else None
