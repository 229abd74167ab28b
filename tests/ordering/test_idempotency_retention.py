"""Idempotency-Keys are remembered for IDEMPOTENCY_KEY_RETENTION_HOURS, then purged in batches."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from ordering.idempotency import idempotency_records_purge
from ordering.models import IdempotencyRecord, Order
from ordering.tasks import purge_idempotency_records
from tests.factories import InventoryFactory

pytestmark = pytest.mark.django_db


def place(api_client, row, key: str):
    body = {
        "store_id": row.store_id,
        "items": [{"product_id": row.product_id, "quantity_requested": 1}],
    }
    return api_client.post("/orders/", data=body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def age(key: str, hours: float) -> None:
    IdempotencyRecord.objects.filter(key=key).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )


def test_beat_runs_the_purge_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["ordering-idempotency-purge"]
    assert entry["task"] == purge_idempotency_records.name
    assert entry["schedule"] == 3600.0


def test_purge_forgets_keys_past_retention_and_keeps_recent_ones_and_all_orders(api_client):
    row = InventoryFactory(quantity=10)
    assert place(api_client, row, "old-key").status_code == 201
    assert place(api_client, row, "new-key").status_code == 201
    age("old-key", settings.IDEMPOTENCY_KEY_RETENTION_HOURS + 1)
    age("new-key", settings.IDEMPOTENCY_KEY_RETENTION_HOURS - 1)

    assert purge_idempotency_records() == 1

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new-key"]
    assert Order.objects.count() == 2  # the orders themselves are kept
    replay = place(api_client, row, "new-key")
    assert replay.headers.get("Idempotent-Replayed") == "true"
    # A forgotten key is new again: the same request places a second order for it.
    again = place(api_client, row, "old-key")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert Order.objects.count() == 3


def test_the_retention_follows_the_setting(api_client, settings):
    settings.IDEMPOTENCY_KEY_RETENTION_HOURS = 1
    row = InventoryFactory(quantity=10)
    assert place(api_client, row, "two-hours-old").status_code == 201
    age("two-hours-old", 2)
    assert purge_idempotency_records() == 1
    assert not IdempotencyRecord.objects.exists()


def test_purge_deletes_a_backlog_in_batches_and_stops_when_done(api_client):
    row = InventoryFactory(quantity=10)
    for n in range(7):
        assert place(api_client, row, f"key-{n}").status_code == 201
        age(f"key-{n}", 48)
    assert place(api_client, row, "fresh").status_code == 201

    cutoff = timezone.now() - timedelta(hours=24)
    assert idempotency_records_purge(older_than=cutoff, batch_size=3) == 7
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
    assert idempotency_records_purge(older_than=cutoff, batch_size=3) == 0
