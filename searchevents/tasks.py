"""Celery tasks: derive order conversions and ship pending events, after commit and from beat."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from elastic_transport import TransportError
from elasticsearch import ApiError

from searchevents.conversions import order_conversions_record
from searchevents.retention import accepted_event_ids_purge
from searchevents.selectors import orders_with_pending_conversions
from searchevents.shipping import events_ship

logger = logging.getLogger(__name__)

RETRYABLE = (TransportError, ApiError, DatabaseError, ConnectionError)
SWEEP_BATCH = 500


def _conversions_derive() -> int:
    recorded = 0
    for order_id in orders_with_pending_conversions(limit=SWEEP_BATCH):
        recorded += order_conversions_record(order_id=order_id)
    return recorded


@shared_task(
    name="searchevents.ship",
    autoretry_for=RETRYABLE,
    retry_backoff=1,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
)
def search_events_ship() -> dict[str, int]:
    """Record pending order conversions, then ship every pending event; safe to run twice."""
    conversions = _conversions_derive()
    shipped = events_ship()
    return {"conversions": conversions, "shipped": shipped.shipped, "failed": shipped.failed}


@shared_task(name="searchevents.sweep", ignore_result=True)
def search_events_sweep() -> dict[str, int] | None:
    """Beat's safety net: what an after-commit task never ran for (broker, worker or node down)."""
    try:
        return search_events_ship.run()
    except RETRYABLE:
        logger.warning("searchevents: sweep could not ship events", exc_info=True)
        return None


@shared_task(name="searchevents.purge_event_ids", ignore_result=True)
def purge_accepted_event_ids() -> int:
    """Forget client event ids once no repeat of them can carry a valid query_id."""
    return accepted_event_ids_purge(
        older_than=timezone.now() - timedelta(hours=settings.SEARCH_EVENTS_ID_RETENTION_HOURS)
    )
