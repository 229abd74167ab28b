"""Index drains run on their own Celery queue: a confirmation backlog never stands in their way."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from ordering.tasks import send_order_confirmation
from searchindex.documents import ALIAS
from searchindex.models import PendingIndexUpdate
from tests.factories import ProductFactory

REPO = Path(__file__).resolve().parent.parent.parent


def routed_queue(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name)["queue"].name


def test_drains_and_sweeps_go_to_the_index_queue_and_confirmations_to_the_default_one():
    assert settings.SEARCHINDEX_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE
    assert routed_queue("searchindex.drain_pending") == settings.SEARCHINDEX_QUEUE
    assert routed_queue("searchindex.sweep_pending") == settings.SEARCHINDEX_QUEUE
    assert routed_queue(send_order_confirmation.name) == settings.CELERY_TASK_DEFAULT_QUEUE
    # Beat's sweep entry carries no queue of its own that would override the route.
    assert "queue" not in settings.CELERY_BEAT_SCHEDULE["searchindex-sweep-outbox"]["options"]


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """Tasks are published for real to the test broker (emptied first and afterwards)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app._after_fork()  # drop pools built while eager
    yield client
    celery_app.conf.task_always_eager = saved
    celery_app._after_fork()
    client.flushdb()


def index_worker(log: Path) -> subprocess.Popen:
    """A real worker consuming the index queue only, on this test run's database and index."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "ELASTICSEARCH_INDEX_PREFIX": settings.ELASTICSEARCH_INDEX_PREFIX,
        "SEARCH_ANALYTICS_ENABLED": "false",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"]
    argv += ["-Q", settings.SEARCHINDEX_QUEUE, "--without-gossip", "--without-mingle"]
    with log.open("w") as out:
        return subprocess.Popen(  # noqa: S603 - our own venv's celery, fixed arguments
            [*argv, "-n", "index-test@%h", "--loglevel", "INFO"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_index_queue_alone_drains_the_outbox_past_a_confirmation_backlog(
    broker, product_index, es, tmp_path
):
    backlog = 300
    for order_id in range(1, backlog + 1):
        send_order_confirmation.delay(order_id)
    default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
    assert broker.llen(default_queue) == backlog

    product = ProductFactory(title="Queueprobe Kumquat")  # commits: an outbox row and a drain
    assert PendingIndexUpdate.objects.filter(object_pk=product.pk).exists()
    assert broker.llen(settings.SEARCHINDEX_QUEUE) >= 1

    worker = index_worker(tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while not es.exists(index=ALIAS, id=str(product.pk)):
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert es.get(index=ALIAS, id=str(product.pk))["_source"]["title"] == "Queueprobe Kumquat"
    assert not PendingIndexUpdate.objects.filter(object_pk=product.pk).exists()
    assert broker.llen(settings.SEARCHINDEX_QUEUE) == 0
    # Not one confirmation was taken: the backlog waits for its own worker.
    assert broker.llen(default_queue) == backlog
