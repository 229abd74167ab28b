"""Shipping pending events to the analytics data stream: at least once, stored once.

Rows are taken with `FOR UPDATE SKIP LOCKED` (two shippers never send the same row at once), sent
with `op_type: create` under their fixed `_id`, and deleted in the same transaction only for the
documents the node acknowledged: created, or refused as already there (409: an earlier shipment
that was written but whose answer was lost). Anything else stays for the next run.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from elasticsearch import Elasticsearch, helpers

from searchevents.models import PendingSearchEvent
from searchindex import analytics
from searchindex.client import sink_client

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
_clients: dict[str, Elasticsearch] = {}
_mapped: set[tuple[str, str]] = set()


@dataclass
class Shipped:
    shipped: int = 0
    failed: int = 0


def events_url() -> str:
    return settings.SEARCH_EVENTS_URL or settings.SEARCH_ANALYTICS_URL or settings.ELASTICSEARCH_URL


def _client() -> Elasticsearch:
    url = events_url()
    if url not in _clients:
        # Every node of the sink's list; a refused connection moves on. A timed-out shipment is
        # retried whole by the next run: fixed `_id`s make that safe.
        _clients[url] = sink_client(url, timeout=10)
    return _clients[url]


def _ensure_stream(client: Elasticsearch, stream: str) -> None:
    """The stream's template, and its current backing indices' mapping, know the event fields."""
    if (events_url(), stream) in _mapped:
        return
    analytics.stream_prepare(client, stream)
    _mapped.add((events_url(), stream))


def event_document(row: PendingSearchEvent) -> dict[str, Any]:
    """The data stream document of an event: the search analytics fields where they apply."""
    document: dict[str, Any] = {
        "@timestamp": row.occurred_at.isoformat(),
        "endpoint": "events" if row.order_id is None else "orders",
        "event_type": row.type,
        "search_id": row.search_id,
        "search_kind": "suggest" if row.search_id.startswith("u") else "search",
        "query": row.query,
        "product_id": row.product_id,
        "api_key": row.api_key,
    }
    for name in ("store_id", "position", "order_id", "quantity"):
        if (value := getattr(row, name)) is not None:
            document[name] = value
    return document


def events_ship(*, batch_size: int = BATCH_SIZE) -> Shipped:
    """Ship every pending event; raises when the node cannot be reached (the rows stay)."""
    total = Shipped()
    stream = analytics.stream_name()
    client = _client()
    while True:
        with transaction.atomic():
            rows = list(
                PendingSearchEvent.objects.select_for_update(skip_locked=True).order_by("id")[
                    :batch_size
                ]
            )
            if not rows:
                return total
            _ensure_stream(client, stream)
            done, failed = _send(client, stream, rows)
            PendingSearchEvent.objects.filter(pk__in=done).delete()
            if failed:
                PendingSearchEvent.objects.filter(pk__in=failed).update(attempts=F("attempts") + 1)
        total.shipped += len(done)
        total.failed += len(failed)
        if failed:
            return total  # refused documents wait for the next run rather than spin here


def _send(
    client: Elasticsearch, stream: str, rows: list[PendingSearchEvent]
) -> tuple[list[int], list[int]]:
    by_doc = {row.doc_id: row.pk for row in rows}
    done: list[int] = []
    failed: list[int] = []
    for ok, item in helpers.streaming_bulk(
        client,
        (
            {
                "_op_type": "create",
                "_index": stream,
                "_id": row.doc_id,
                "_source": event_document(row),
            }
            for row in rows
        ),
        chunk_size=len(rows),
        raise_on_error=False,
        raise_on_exception=True,  # unreachable: the transaction rolls back, every row stays
        max_retries=0,
    ):
        result = item["create"]
        if ok or result.get("status") == 409:
            done.append(by_doc[result["_id"]])
        else:
            failed.append(by_doc[result["_id"]])
            logger.warning("search event refused", extra={"error": str(result.get("error"))[:200]})
    return done, failed
