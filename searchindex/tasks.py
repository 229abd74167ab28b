"""Celery tasks that drain the index outbox: one after each commit, and a sweep from beat."""

import logging
import time

from celery import shared_task
from django.db import DatabaseError
from elastic_transport import TransportError
from elasticsearch import ApiError

from searchindex.exceptions import DrainIncomplete
from searchindex.outbox import DrainResult, outbox_drain

logger = logging.getLogger(__name__)

# Worth retrying: the node or the database was unreachable, or the node refused documents.
RETRYABLE = (TransportError, ApiError, DatabaseError, ConnectionError)


@shared_task(
    name="searchindex.drain_pending",
    autoretry_for=(*RETRYABLE, DrainIncomplete),
    retry_backoff=1,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=6,
)
def drain_pending() -> dict[str, int | bool]:
    """Apply every pending outbox row; idempotent, and a no-op when another drain is running."""
    result = outbox_drain()
    if result.failed:
        raise DrainIncomplete(f"{result.failed} outbox rows refused: {result.errors[:3]}")
    return _summary(result)


@shared_task(name="searchindex.sweep_pending", ignore_result=True)
def sweep_pending() -> dict[str, int | bool] | None:
    """Beat's safety net for drains that were never enqueued or gave up; the next tick retries."""
    started = time.monotonic()
    try:
        result = outbox_drain()
    except RETRYABLE:
        logger.warning("searchindex: sweep could not drain the outbox", exc_info=True)
        return None
    if result.applied or result.failed:
        logger.info(
            "searchindex: sweep applied %s rows (%s refused) in %.2fs",
            result.applied,
            result.failed,
            time.monotonic() - started,
        )
    return _summary(result)


def _summary(result: DrainResult) -> dict[str, int | bool]:
    return {
        "applied": result.applied,
        "failed": result.failed,
        "documents": result.documents,
        "skipped": result.skipped,
    }
