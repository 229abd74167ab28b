"""`query_id`: a compact token naming one search or suggest, signed for the caller it was issued to.

Shape: `q1.<kind><id>.<issued>.<tag>.<mac>`, about 46 characters.
- `kind` is `s` (search) or `u` (suggest); `id` 12 random URL-safe characters: the search event.
- `issued` is the issue time, seconds since the epoch in base 36.
- `tag` names the caller without saying who it is: an HMAC of the caller string, 6 characters.
  It is what tells "issued to another caller" apart from "forged".
- `mac` is an HMAC (settings secret) over everything before it, so no part can be edited.

Verifying needs no lookup: the MAC, the age and the caller tag are all in the token.
"""

import base64
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

VERSION = "q1"
VALID_SECONDS = 24 * 3600
MAX_LENGTH = 64  # a token longer than this is not one of ours; nothing longer is parsed
ID_CHARS = 12
_SALT_MAC = "aisle.searchevents.query_id"
_SALT_CALLER = "aisle.searchevents.query_id.caller"
_TAG_CHARS = 6
_MAC_BYTES = 12


class Kind(StrEnum):
    SEARCH = "s"
    SUGGEST = "u"


class TokenError(StrEnum):
    """Why a token was refused; the values are the events endpoint's rejection codes."""

    INVALID = "query_id_invalid"
    EXPIRED = "query_id_expired"
    FOREIGN = "query_id_foreign"


@dataclass(frozen=True)
class QueryId:
    """A verified token: which search it names and when it was issued."""

    token: str
    kind: Kind
    search_id: str  # kind + id: unique per search, the key its hits are kept under
    issued_at: int


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _secrets() -> list[str]:
    # The current secret signs; fallbacks still verify, so rotating SECRET_KEY does not void
    # the day's tokens.
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _tag(caller: str, secret: str) -> str:
    return _b64(salted_hmac(_SALT_CALLER, caller, secret=secret, algorithm="sha256").digest())[
        :_TAG_CHARS
    ]


def _mac(body: str, secret: str) -> str:
    return _b64(
        salted_hmac(_SALT_MAC, body, secret=secret, algorithm="sha256").digest()[:_MAC_BYTES]
    )


def query_id_issue(*, caller: str, kind: Kind, issued_at: int | None = None) -> QueryId:
    """A new token for a search by `caller` (`config.caller.caller`); `issued_at` for tests."""
    issued = int(time.time()) if issued_at is None else issued_at
    search_id = kind + secrets.token_urlsafe(9)  # 9 bytes: 12 characters
    secret = settings.SECRET_KEY
    body = f"{VERSION}.{search_id}.{_base36(issued)}.{_tag(caller, secret)}"
    return QueryId(
        token=f"{body}.{_mac(body, secret)}", kind=kind, search_id=search_id, issued_at=issued
    )


def query_id_verify(
    token: object, *, caller: str, now: float | None = None
) -> QueryId | TokenError:
    """The token's search if `token` is ours, unedited, under 24 h old and issued to `caller`;
    else why not. Never raises, whatever `token` is."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH:
        return TokenError.INVALID
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != VERSION:
        return TokenError.INVALID
    _, search_id, issued36, tag, mac = parts
    body = token.rsplit(".", 1)[0]
    secret = next((s for s in _secrets() if constant_time_compare(_mac(body, s), mac)), None)
    if secret is None:
        return TokenError.INVALID
    # Signed by us, so the fields are as we wrote them.
    issued = int(issued36, 36)
    if not constant_time_compare(_tag(caller, secret), tag):
        return TokenError.FOREIGN
    if (time.time() if now is None else now) - issued > VALID_SECONDS:
        return TokenError.EXPIRED
    return QueryId(token=token, kind=Kind(search_id[0]), search_id=search_id, issued_at=issued)
