"""After-commit publishes that stop waiting on a broker that is down.

Every after-commit enqueue (order confirmations, index drains) has a sweep behind it that finds
the work in Postgres later, so a failed publish costs lag, never data. What it must not cost is
time: kombu takes 0.3-1 s to give up on an unreachable broker, on every call, and each of those
calls holds up a response. After a failure this process stops trying for
BROKER_RETRY_AFTER_SECONDS and leaves the work to the sweeps.
"""

import logging
import time
from collections.abc import Callable

from celery import Signature, Task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# Monotonic time until which this process skips publishing (one per process: gunicorn's sync
# workers and Celery's prefork children each learn of an outage on their own).
_paused_until = 0.0


def broker_publish(send: Callable[[], object], *, task: str) -> bool:
    """Call `send` (one `apply_async`) unless the broker failed lately; True if it was sent.

    Only a broker failure pauses publishing; anything else `send` raises propagates.
    """
    global _paused_until
    if time.monotonic() < _paused_until:
        logger.info(
            "publish skipped: the broker was unreachable moments ago",
            extra={"event": "broker_publish_skipped", "task": task},
        )
        return False
    try:
        send()
    except OperationalError as exc:
        pause = settings.BROKER_RETRY_AFTER_SECONDS
        _paused_until = time.monotonic() + pause
        logger.warning(
            "publish failed: the broker is unreachable; pausing publishes",
            extra={
                "event": "broker_publish_failed",
                "task": task,
                "error": repr(exc),
                "paused_seconds": pause,
            },
        )
        return False
    return True


def publish_on_commit(task: Task | Signature, *args: object) -> None:
    """Publish `task(*args)` once the current transaction commits, and only once per transaction.

    The one after-commit pattern for every enqueue: the work is already in Postgres, so a publish
    that fails (broker down, or an eager task's own error) is logged by `robust` and never fails
    the commit that asked for it; the sweeps pick the work up.
    """
    key = (task.name, args)
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        getattr(func, "publish_key", None) == key for _, func, _ in connection.run_on_commit
    ):
        return

    def publish() -> None:
        broker_publish(lambda: task.apply_async(args, retry=False), task=task.name)

    publish.publish_key = key  # type: ignore[attr-defined]
    # robust on_commit names the callback in its log line when it fails.
    publish.__qualname__ = f"publish_on_commit[{task.name}]"
    transaction.on_commit(publish, robust=True)
