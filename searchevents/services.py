"""Writes: accept a batch of client events, and record the conversions of confirmed orders."""

import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from config.broker import publish_on_commit
from ordering.models import Order, OrderItem
from searchevents.hits import HitsUnavailable, ShownHits, hits_shown
from searchevents.intake import ClientEvent, event_read
from searchevents.models import AcceptedEventId, EventType, PendingSearchEvent

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
    for index, raw in enumerate(raw_events):
        read = event_read(index, raw, caller=caller)
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
            _ship_on_commit()
    return result


def _ship_on_commit() -> None:
    from searchevents.tasks import search_events_ship  # tasks import this module

    publish_on_commit(search_events_ship)


def accepted_event_ids_purge(*, older_than: datetime, batch_size: int = 5000) -> int:
    """Forget client event ids accepted before `older_than`, in short batches; how many went."""
    purged = 0
    while True:
        ids = list(
            AcceptedEventId.objects.filter(created_at__lt=older_than)
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return purged
        purged += AcceptedEventId.objects.filter(pk__in=ids).delete()[0]


def _search_id(token: str) -> str:
    # Stored only after `query_id_verify` accepted it, so its shape is known.
    return token.split(".")[1]


def order_conversions_record(*, order_id: int) -> int:
    """Record the conversions of a confirmed order whose lines carry a query_id; how many.

    Once per order whatever calls it (the after-commit task, the sweep, a retry): the order's
    `conversions_pending` flag is cleared in the transaction that writes the events, under the
    order's row lock.
    """
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .filter(pk=order_id, conversions_pending=True, status=Order.Status.CONFIRMED)
            .only("id", "created_at", "store_id")
            .first()
        )
        if order is None:
            return 0
        items = list(
            OrderItem.objects.filter(order_id=order_id, query_id__isnull=False).only(
                "id", "product_id", "quantity_requested", "query_id"
            )
        )
        try:
            shown = hits_shown([_search_id(item.query_id) for item in items])
        except HitsUnavailable:
            shown = {}  # the conversion counts without its query text and position
        PendingSearchEvent.objects.bulk_create(
            [
                PendingSearchEvent(
                    doc_id="c" + uuid.uuid4().hex,
                    type=EventType.CONVERSION,
                    occurred_at=order.created_at,
                    caller=f"order:{order_id}",
                    search_id=_search_id(item.query_id),
                    query=hits.query if (hits := shown.get(_search_id(item.query_id))) else "",
                    store_id=order.store_id,
                    product_id=item.product_id,
                    position=hits.positions.get(item.product_id) if hits else None,
                    order_id=order_id,
                    quantity=item.quantity_requested,
                )
                for item in items
            ]
        )
        Order.objects.filter(pk=order_id).update(conversions_pending=False)
    return len(items)
