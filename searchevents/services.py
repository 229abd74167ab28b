"""Writes: accept a batch of client events, durably, in one INSERT."""

import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from searchevents.hits import HitsUnavailable, ShownHits, hits_shown
from searchevents.intake import ClientEvent, event_read, verifier
from searchevents.models import EventType
from searchevents.publishing import ship_soon

logger = logging.getLogger(__name__)

PRODUCT_NOT_IN_RESULTS = "product_not_in_results"
POSITION_MISMATCH = "position_mismatch"


@dataclass(frozen=True)
class Rejection:
    index: int
    code: str


@dataclass
class EventsRecorded:
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def _doc_id(caller: str, event_id: str | None) -> str:
    """The event's `_id` in the data stream. A client's `event_id` fixes it, so the same event
    sent twice is one document even if the first copy was shipped and forgotten here."""
    if event_id is None:
        return "r" + uuid.uuid4().hex
    digest = hashlib.sha256(f"{caller}\0{event_id}".encode()).hexdigest()
    return "e" + digest[:32]


def _shown_check(event: ClientEvent, shown: ShownHits | None) -> str | None:
    """A click must be on a product the search showed, at the place it showed it."""
    if event.type != EventType.CLICK:
        return None
    if shown is None or event.product_id not in shown.positions:
        return PRODUCT_NOT_IN_RESULTS
    if shown.positions[event.product_id] != event.position:
        return POSITION_MISMATCH
    return None


# One statement: the client event ids not seen before are claimed, and only the events whose id
# was claimed (or that have none) are stored. A concurrent twin waits on the claim's unique key.
_INSERT = """
WITH v AS (
    SELECT * FROM unnest(
        %s::text[], %s::text[], %s::text[], %s::bigint[], %s::int[], %s::text[]
    ) AS v(doc_id, type, search_id, product_id, position, event_id)
), fresh AS (
    INSERT INTO searchevents_acceptedeventid (doc_id, created_at)
    SELECT doc_id, %s FROM v WHERE event_id IS NOT NULL
    ON CONFLICT (doc_id) DO NOTHING
    RETURNING doc_id
)
INSERT INTO searchevents_pendingsearchevent
    (doc_id, type, occurred_at, caller, api_key, search_id, query, store_id, product_id,
     position, event_id, attempts)
SELECT v.doc_id, v.type, %s, %s, %s, v.search_id, COALESCE(q.query, ''), q.store_id,
       v.product_id, v.position, v.event_id, 0
FROM v LEFT JOIN unnest(%s::text[], %s::text[], %s::bigint[]) AS q(search_id, query, store_id)
    USING (search_id)
WHERE v.event_id IS NULL OR v.doc_id IN (SELECT doc_id FROM fresh)
RETURNING doc_id
"""


def events_record(*, caller: str, api_key: str | None, raw_events: Sequence[Any]) -> EventsRecorded:
    """Check each event and store the good ones, durably, in one INSERT; then ship after commit.

    Each bad event is rejected with its code and stored nowhere; an `event_id` the caller sent
    before is ignored (neither accepted nor rejected). Raises only for a database failure.
    """
    result = EventsRecorded()
    events: list[ClientEvent] = []
    verify = verifier(caller)
    for index, raw in enumerate(raw_events):
        read = event_read(index, raw, verify=verify)
        if isinstance(read, str):
            result.rejected.append(Rejection(index, read))
        else:
            events.append(read)
    try:
        shown = hits_shown([event.query_id.search_id for event in events])
    except HitsUnavailable as exc:
        # Availability over strictness, as the throttles: clicks are taken unchecked meanwhile.
        logger.warning("click checks skipped, Redis unavailable", extra={"error": str(exc)})
        shown = None
    kept: dict[str, ClientEvent] = {}
    for event in events:
        code = None if shown is None else _shown_check(event, shown.get(event.query_id.search_id))
        if code is not None:
            result.rejected.append(Rejection(event.index, code))
            continue
        # A repeat inside one batch is a repeat too.
        kept.setdefault(_doc_id(caller, event.event_id), event)
    result.rejected.sort(key=lambda rejection: rejection.index)
    if not kept:
        return result
    searches = shown or {}
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
            [
                list(kept),
                [event.type.value for event in kept.values()],
                [event.query_id.search_id for event in kept.values()],
                [event.product_id for event in kept.values()],
                [event.position for event in kept.values()],
                [event.event_id for event in kept.values()],
                now,
                now,
                caller,
                api_key,
                list(searches),
                [hits.query for hits in searches.values()],
                [hits.store_id for hits in searches.values()],
            ],
        )
        result.accepted = len(cursor.fetchall())
        if result.accepted:
            ship_soon()
    return result
