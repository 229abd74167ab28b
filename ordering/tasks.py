"""Celery tasks: the order confirmation (idempotent, retried with backoff), its sweep, and the
retention of idempotency records."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from ordering.idempotency import idempotency_records_purge
from ordering.selectors import order_confirmation_pending_ids
from ordering.services import order_confirmation_send

logger = logging.getLogger(__name__)

# Confirmations younger than this are left to their own on-commit enqueue.
SWEEP_GRACE = timedelta(seconds=60)
SWEEP_BATCH = 500


@shared_task(
    autoretry_for=(DatabaseError, OSError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
    acks_late=True,
)
def send_order_confirmation(order_id: int) -> bool:
    """Send the confirmation of a confirmed order once, however often this runs."""
    return order_confirmation_send(order_id=order_id)


@shared_task(ignore_result=True)
def send_pending_order_confirmations() -> int:
    """Enqueue confirmations that were never sent (the broker was down at commit, a worker died)."""
    order_ids = order_confirmation_pending_ids(
        older_than=timezone.now() - SWEEP_GRACE, limit=SWEEP_BATCH
    )
    for order_id in order_ids:
        send_order_confirmation.delay(order_id)
    if order_ids:
        logger.info(
            "order confirmations re-enqueued",
            extra={"event": "order_confirmation_sweep", "count": len(order_ids)},
        )
    return len(order_ids)


@shared_task(ignore_result=True)
def purge_idempotency_records() -> int:
    """Forget Idempotency-Keys older than IDEMPOTENCY_KEY_RETENTION_HOURS (run hourly by beat)."""
    older_than = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS)
    purged = idempotency_records_purge(older_than=older_than)
    if purged:
        logger.info(
            "idempotency records purged",
            extra={"event": "idempotency_records_purged", "count": purged},
        )
    return purged
