"""The confirmation task: sent after commit only for confirmed orders, once, retried on failure."""

import logging
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from celery.signals import task_retry
from django.utils import timezone

from ordering import services
from ordering.models import Order
from ordering.services import CONFIRMATION_TASK
from ordering.tasks import send_order_confirmation, send_pending_order_confirmations
from tests.factories import InventoryFactory, OrderFactory
from tests.test_drills import REPO

pytestmark = pytest.mark.django_db


# Any: the records carry their `extra` fields as attributes, which LogRecord does not declare.
def sent_log_lines(caplog, order_id: int) -> list[Any]:
    return [
        r
        for r in caplog.records
        if getattr(r, "event", None) == "order_confirmation_sent" and r.order_id == order_id
    ]


def place(api_client, row, quantity: int):
    return api_client.post(
        "/orders/",
        data={
            "store_id": row.store_id,
            "items": [{"product_id": row.product_id, "quantity_requested": quantity}],
        },
        format="json",
    )


def test_confirmed_order_enqueues_its_confirmation_only_after_commit(
    api_client, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.INFO, logger="ordering")
    row = InventoryFactory(quantity=5)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_id = place(api_client, row, 1).json()["id"]
    # Inside the (test's) transaction nothing was sent yet.
    assert Order.objects.get(pk=order_id).confirmation_sent_at is None
    assert sent_log_lines(caplog, order_id) == []

    for callback in callbacks:
        callback()

    assert Order.objects.get(pk=order_id).confirmation_sent_at is not None
    assert len(sent_log_lines(caplog, order_id)) == 1


def test_rejected_order_sends_no_confirmation(
    api_client, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.INFO, logger="ordering")
    row = InventoryFactory(quantity=1)

    with django_capture_on_commit_callbacks(execute=True):
        order_id = place(api_client, row, 2).json()["id"]

    assert Order.objects.get(pk=order_id).confirmation_sent_at is None
    assert sent_log_lines(caplog, order_id) == []


def test_running_the_task_twice_sends_once(caplog):
    caplog.set_level(logging.INFO, logger="ordering")
    order = OrderFactory()

    first = send_order_confirmation.apply(args=[order.id])
    sent_at = Order.objects.get(pk=order.id).confirmation_sent_at
    second = send_order_confirmation.apply(args=[order.id])

    assert first.get() is True
    assert second.get() is False
    assert Order.objects.get(pk=order.id).confirmation_sent_at == sent_at
    assert len(sent_log_lines(caplog, order.id)) == 1


def test_the_sent_log_line_is_structured(caplog):
    caplog.set_level(logging.INFO, logger="ordering")
    order = OrderFactory()

    send_order_confirmation.apply(args=[order.id])

    (record,) = sent_log_lines(caplog, order.id)
    assert record.store_id == order.store_id
    assert record.event == "order_confirmation_sent"


def test_task_for_a_missing_or_rejected_order_sends_nothing():
    rejected = OrderFactory(status=Order.Status.REJECTED)

    assert send_order_confirmation.apply(args=[rejected.id]).get() is False
    assert send_order_confirmation.apply(args=[999_999]).get() is False
    assert Order.objects.get(pk=rejected.id).confirmation_sent_at is None


def test_a_failed_delivery_is_retried_with_backoff_and_then_sent_once(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="ordering")
    order = OrderFactory()
    deliver = services.order_confirmation_deliver
    failures = [OSError("mail relay down"), OSError("mail relay still down")]

    def flaky_deliver(*, order):
        if failures:
            raise failures.pop(0)
        deliver(order=order)

    monkeypatch.setattr(services, "order_confirmation_deliver", flaky_deliver)
    retries = []

    def on_retry(request, reason, **kwargs):
        retries.append(reason)

    task_retry.connect(on_retry, weak=False)
    # Not propagating lets eager mode re-run the task for each retry, as a worker would.
    monkeypatch.setitem(send_order_confirmation.app.conf, "task_eager_propagates", False)
    try:
        result = send_order_confirmation.apply(args=[order.id])
    finally:
        task_retry.disconnect(on_retry)

    assert result.get() is True
    assert [str(retry.exc) for retry in retries] == ["mail relay down", "mail relay still down"]
    # Exponential backoff with full jitter: retry n (from 0) waits a random 0..2*2**n seconds.
    assert [0 <= retry.when <= 2 * 2**n for n, retry in enumerate(retries)] == [True] * 2
    assert Order.objects.get(pk=order.id).confirmation_sent_at is not None
    assert len(sent_log_lines(caplog, order.id)) == 1
    assert send_order_confirmation.retry_backoff
    assert send_order_confirmation.max_retries >= 5


def test_sweep_sends_confirmations_that_were_never_enqueued():
    old = OrderFactory(created_at=timezone.now() - timedelta(minutes=5))
    fresh = OrderFactory()
    rejected = OrderFactory(
        status=Order.Status.REJECTED, created_at=timezone.now() - timedelta(minutes=5)
    )

    assert send_pending_order_confirmations.apply().get() == 1

    assert Order.objects.get(pk=old.id).confirmation_sent_at is not None
    assert Order.objects.get(pk=fresh.id).confirmation_sent_at is None
    assert Order.objects.get(pk=rejected.id).confirmation_sent_at is None
    assert send_pending_order_confirmations.apply().get() == 0


def test_an_unreachable_broker_still_answers_201_and_the_sweep_confirms_later(
    api_client, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    # A real publish to a closed port: the enqueue after commit fails for real.
    app = send_order_confirmation.app
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "task_publish_retry", False)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    row = InventoryFactory(quantity=5)

    with django_capture_on_commit_callbacks(execute=True):
        response = place(api_client, row, 1)

    assert response.status_code == 201
    order = Order.objects.get(pk=response.json()["id"])
    assert order.status == Order.Status.CONFIRMED
    assert order.confirmation_sent_at is None
    assert [getattr(r, "event", None) for r in caplog.records].count("broker_publish_failed") == 1

    monkeypatch.undo()  # the broker is back
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert send_pending_order_confirmations.apply().get() == 1
    assert Order.objects.get(pk=order.pk).confirmation_sent_at is not None


def test_every_django_process_knows_the_confirmation_task_it_publishes_by_name():
    # ordering.services names the task instead of importing it (tasks imports services).
    assert send_order_confirmation.name == CONFIRMATION_TASK
    # A fresh process (as gunicorn's): nothing has imported ordering.tasks. Unknown there, the
    # publish would fall back to send_task, which an eager Celery does not run.
    code = (
        "import django; django.setup()\n"
        "from config.celery import app\n"
        "from ordering.services import CONFIRMATION_TASK\n"
        "assert CONFIRMATION_TASK in app.tasks, sorted(app.tasks)\n"
    )
    run = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
