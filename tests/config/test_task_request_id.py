"""A task enqueued while serving a request logs with that request's id, on a real worker."""

import logging
import threading
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from config.logging import request_id_var

QUEUE = f"test-request-id-{uuid.uuid4().hex[:8]}"  # this test's own queue: nothing else runs

seen: list[tuple[str | None, bool, threading.Thread]] = []
done = threading.Event()


@app.task(bind=True, name="tests.record_request_id", queue=QUEUE, ignore_result=True)
def record_request_id(self) -> None:
    logging.getLogger("tests.task").info("task ran")
    seen.append((request_id_var.get(), self.request.is_eager, threading.current_thread()))
    done.set()


@pytest.fixture
def real_worker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", queues=[QUEUE], perform_ping_check=False):
        yield
    app.conf.task_always_eager = True


def run_on_worker(request_id: str | None) -> str | None:
    seen.clear()
    done.clear()
    token = request_id_var.set(request_id)
    try:
        record_request_id.delay()
    finally:
        request_id_var.reset(token)
    assert done.wait(timeout=20), "the worker never ran the task"
    request_id, eager, thread = seen[0]
    assert not eager  # really on the worker, in its own thread
    assert thread is not threading.current_thread()
    return request_id


def test_the_worker_runs_the_task_under_the_enqueuing_requests_id(real_worker, caplog):
    caplog.set_level(logging.INFO, logger="tests.task")
    assert run_on_worker("order-req-42") == "order-req-42"
    (line,) = [r for r in caplog.records if r.name == "tests.task"]
    assert line.request_id == "order-req-42"
    assert request_id_var.get() is None  # the test thread's own context is untouched


def test_a_task_enqueued_outside_a_request_has_no_id_not_the_last_ones(real_worker):
    assert run_on_worker("first-request") == "first-request"
    assert run_on_worker(None) is None
