"""After a publish finds the broker down, the process stops trying for a while: orders placed
during an outage do not each wait for the broker to time out, and the sweep sends them later."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from config import broker
from config.broker import broker_publish
from config.celery import app
from ordering.models import Order
from ordering.tasks import send_order_confirmation, send_pending_order_confirmations
from tests.factories import InventoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    monkeypatch.setattr(broker, "_paused_until", 0.0)  # restored after the test
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    yield monkeypatch
    monkeypatch.undo()


def events(caplog) -> list[str]:
    return [r.event for r in caplog.records if getattr(r, "event", "").startswith("broker_")]


def test_a_failed_publish_pauses_publishing_for_the_setting(broker_down, settings, caplog):
    caplog.set_level(logging.INFO, logger="config.broker")
    settings.BROKER_RETRY_AFTER_SECONDS = 60
    attempts = []

    def send():
        attempts.append(1)
        send_order_confirmation.apply_async((1,), retry=False)

    assert broker_publish(send, task="t") is False
    assert broker_publish(send, task="t") is False
    assert broker_publish(send, task="t") is False
    assert len(attempts) == 1  # only the first one waited for the broker
    assert events(caplog) == [
        "broker_publish_failed",
        "broker_publish_skipped",
        "broker_publish_skipped",
    ]


def test_without_a_pause_every_publish_tries_again(broker_down, settings):
    settings.BROKER_RETRY_AFTER_SECONDS = 0
    attempts = []

    def send():
        attempts.append(1)
        send_order_confirmation.apply_async((1,), retry=False)

    broker_publish(send, task="t")
    broker_publish(send, task="t")
    assert len(attempts) == 2


def test_an_error_that_is_not_the_brokers_propagates_and_pauses_nothing(monkeypatch, settings):
    monkeypatch.setattr(broker, "_paused_until", 0.0)
    settings.BROKER_RETRY_AFTER_SECONDS = 60

    def send():
        raise ValueError("a bug in the caller")

    with pytest.raises(ValueError, match="a bug"):
        broker_publish(send, task="t")
    assert broker_publish(lambda: None, task="t") is True


def test_orders_during_an_outage_are_201_and_the_sweep_confirms_them_after(
    broker_down, settings, api_client, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.INFO, logger="config.broker")
    settings.BROKER_RETRY_AFTER_SECONDS = 60
    row = InventoryFactory(quantity=5)
    body = {
        "store_id": row.store_id,
        "items": [{"product_id": row.product_id, "quantity_requested": 1}],
    }
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert api_client.post("/orders/", data=body, format="json").status_code == 201
    assert events(caplog) == [
        "broker_publish_failed",
        "broker_publish_skipped",
        "broker_publish_skipped",
    ]
    assert Order.objects.filter(confirmation_sent_at__isnull=True).count() == 3

    broker_down.undo()  # the broker is back
    Order.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert send_pending_order_confirmations.apply().get() == 3
    assert not Order.objects.filter(confirmation_sent_at__isnull=True).exists()
