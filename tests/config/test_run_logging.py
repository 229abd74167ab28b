"""The `make run` console: Celery's per-task and beat's per-send lines only at DEBUG (or with
LOG_LEVEL_CELERY), checked on a real worker and beat with run.sh's settings and log level."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings

from config.logging import celery_chatter_level

ROOT = Path(__file__).resolve().parents[2]
RECEIVED = "] received"
SUCCEEDED = "] succeeded in"
SENDING = "Scheduler: Sending due task"


def celery_env(**levels: str) -> dict[str, str]:
    """run.sh's environment: the production settings module, on the tests' broker and Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOG_LEVEL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        REDIS_URL=settings.REDIS_URL,
        PYTHONDONTWRITEBYTECODE="1",
        **levels,
    )
    return env


def celery(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    loglevel = env.get("LOG_LEVEL", "INFO")
    return subprocess.Popen(  # noqa: S603 - our own interpreter's celery, fixed arguments
        [sys.executable, "-m", "celery", "-A", "config", *args, "--loglevel", loglevel],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def wait_for(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def celery_output(tmp_path: Path, **levels: str) -> str:
    """Start a worker with beat (sweep every 0.5 s) inside, run one task on it to the end (its
    ack) and let beat send two, stop it; what it printed."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue = f"test-run-logging-{uuid.uuid4().hex[:8]}"
    # The outbox sweep is routed to the index queue (CELERY_TASK_ROUTES).
    beat_queue = settings.SEARCHINDEX_QUEUE
    beat_sent_before = broker.llen(beat_queue)
    process = celery(
        "worker",
        "--beat",
        f"--schedule={tmp_path / 'beat-schedule'}",
        "--pool=solo",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        # The worker takes only this test's task; beat's land on the index queue, unrun.
        f"--queues={queue}",
        f"--hostname={queue}@%h",
        env=celery_env(SEARCHINDEX_SWEEP_SECONDS="0.5", **levels),
    )
    try:
        Celery(broker=settings.CELERY_BROKER_URL).send_task(
            "celery.accumulate", args=(1, 2), queue=queue
        )
        # acks_late: the message leaves `unacked` only once the task has run.
        ran = wait_for(lambda: broker.llen(queue) == 0 and broker.hlen("unacked") == 0)
        sent = wait_for(lambda: broker.llen(beat_queue) >= beat_sent_before + 2)
    finally:
        output = stop(process)
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        # Beat pushed its messages on the left; drop them so no later worker runs them.
        broker.ltrim(beat_queue, broker.llen(beat_queue) - beat_sent_before, -1)
    assert ran, f"the worker never ran the task:\n{output}"
    assert sent, f"beat never sent a task:\n{output}"
    assert f"{queue}@" in output  # start-up still shows
    assert "ready." in output
    return output


def test_no_line_per_task_or_per_beat_send_at_the_default_level(tmp_path):
    output = celery_output(tmp_path)

    assert RECEIVED not in output
    assert SUCCEEDED not in output
    assert SENDING not in output


def test_the_per_task_and_per_send_lines_show_at_debug(tmp_path):
    output = celery_output(tmp_path, LOG_LEVEL="DEBUG")

    assert "Task celery.accumulate[" in output
    assert RECEIVED in output
    assert SUCCEEDED in output
    assert f"{SENDING} searchindex-sweep-outbox" in output


@pytest.mark.parametrize(
    ("log_level", "override", "expected"),
    [
        ("INFO", "", "WARNING"),
        ("DEBUG", "", "DEBUG"),
        ("WARNING", "", "WARNING"),
        ("ERROR", "", "ERROR"),
        ("info", "info", "INFO"),
        ("DEBUG", "WARNING", "WARNING"),
    ],
)
def test_the_chatter_level_follows_log_level_unless_set_on_its_own(log_level, override, expected):
    assert celery_chatter_level(log_level, override) == expected


def test_an_unknown_log_level_stops_the_settings_with_a_clear_message():
    result = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env=celery_env(LOG_LEVEL="LOUD"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: LOG_LEVEL / LOG_LEVEL_CELERY: not a log level: 'LOUD'" in (
        result.stderr
    )
