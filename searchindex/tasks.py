"""Celery tasks: outbox drains and synonym swaps, each after a commit and from a beat sweep."""

import logging
import time

from celery import shared_task
from django.db import DatabaseError
from elastic_transport import TransportError
from elasticsearch import ApiError

from config.broker import publish_on_commit
from searchindex.exceptions import DrainIncomplete
from searchindex.outbox import DrainResult, outbox_drain
from searchindex.synonyms import SynonymsBusy, synonyms_apply

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


def drain_after_commit() -> None:
    """Enqueue one drain when the current transaction commits (once, however many changes).

    If the broker is down, the beat sweep (or the next successful enqueue) drains the rows.
    """
    publish_on_commit(drain_pending)


def _summary(result: DrainResult) -> dict[str, int | bool]:
    return {
        "applied": result.applied,
        "failed": result.failed,
        "documents": result.documents,
        "skipped": result.skipped,
    }


@shared_task(
    name="searchindex.synonyms_apply",
    autoretry_for=(*RETRYABLE, SynonymsBusy),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def synonyms_push() -> dict[str, str | bool | None]:
    """Swap the enabled synonym rows into the live index (after a Synonym change commits)."""
    result = synonyms_apply()
    if result.busy:
        raise SynonymsBusy("a rebuild_index is running; it may have read the rules before")
    return {"index": result.index, "changed": result.changed}


@shared_task(name="searchindex.synonyms_sweep", ignore_result=True)
def synonyms_sweep() -> None:
    """Beat's safety net: a push that was never enqueued, gave up, or lost to a rebuild."""
    try:
        result = synonyms_apply()
    except RETRYABLE:
        logger.warning("searchindex: synonym sweep could not reach the index", exc_info=True)
        return
    if result.changed:
        logger.info("searchindex: synonym sweep swapped the rules into %s", result.index)


def synonyms_push_after_commit() -> None:
    """Enqueue one synonym swap when the current transaction commits."""
    publish_on_commit(synonyms_push)
