"""One client event read: fields checked and query_id verified, or the code it fails with."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from searchevents.models import EventType
from searchevents.query_ids import QueryId, TokenError, query_id_verify

MAX_EVENTS = 100
MAX_BODY_BYTES = 64 * 1024
MAX_EVENT_ID_LENGTH = 64
MAX_POSITION = 10_000  # the deepest hit a search can page to
MAX_ID = 2**63 - 1
INVALID_EVENT = "invalid_event"


@dataclass(frozen=True)
class ClientEvent:
    """An event whose fields and token are good; whether its product was shown is checked later."""

    index: int
    type: EventType
    query_id: QueryId
    product_id: int
    position: int | None
    event_id: str | None


def _int(value: Any, *, low: int, high: int) -> int | None:
    # JSON booleans are ints to Python, and "3" or 3.0 are not positions.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


Verify = Callable[[object], QueryId | TokenError]


def verifier(caller: str) -> Verify:
    """`query_id_verify` for `caller`, once per distinct token (a batch's events share few)."""
    seen: dict[str, QueryId | TokenError] = {}

    def verify(token: object) -> QueryId | TokenError:
        if not isinstance(token, str):
            return TokenError.INVALID
        if token not in seen:
            seen[token] = query_id_verify(token, caller=caller)
        return seen[token]

    return verify


def event_read(index: int, raw: Any, *, verify: Verify) -> ClientEvent | str:
    """The event at `index` of a request, or the rejection code it gets."""
    if not isinstance(raw, dict):
        return INVALID_EVENT
    if raw.get("type") not in EventType.values:
        return INVALID_EVENT
    product_id = _int(raw.get("product_id"), low=1, high=MAX_ID)
    if product_id is None:
        return INVALID_EVENT
    position = raw.get("position")
    if position is not None:
        position = _int(position, low=1, high=MAX_POSITION)
        if position is None:
            return INVALID_EVENT
    elif raw["type"] == EventType.CLICK:
        return INVALID_EVENT
    event_id = raw.get("event_id")
    if event_id is not None and (
        not isinstance(event_id, str) or not 1 <= len(event_id) <= MAX_EVENT_ID_LENGTH
    ):
        return INVALID_EVENT
    if "query_id" not in raw:
        return INVALID_EVENT
    verified = verify(raw["query_id"])
    if isinstance(verified, TokenError):
        return verified.value
    return ClientEvent(
        index=index,
        type=EventType(raw["type"]),
        query_id=verified,
        product_id=product_id,
        position=position,
        event_id=event_id,
    )
