"""The advisory locks behind one drain and one rebuild at a time, and how SQL sees them held."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

# Session-level advisory locks, so the guarantee holds across every worker process and host.
_LOCK_CLASS = 0x41534C45  # "ASLE"
DRAIN_LOCK = 1
REBUILD_LOCK = 2

# pg_locks lists a lock taken with two int4 keys as classid = first key, objid = second key and
# objsubid = 2 (a single bigint key shows objsubid = 1): 2 names the key form, not REBUILD_LOCK.
_TWO_KEY_FORM = 2


@contextmanager
def advisory_lock(key: int, *, wait: bool, using: str = "default") -> Iterator[bool]:
    """A Postgres session lock (DRAIN_LOCK, REBUILD_LOCK); yields whether it was acquired."""
    conn = connections[using]
    with conn.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_LOCK_CLASS, key])
            acquired = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, key])
            acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with conn.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, key])
            except DatabaseError:
                # A broken connection has already released its session locks.
                logger.warning("searchindex: could not release advisory lock %s", key)


def _lock_held_sql(key: int) -> str:
    """An SQL condition, true while any session holds advisory lock `key` in this database."""
    return f"""EXISTS (
        SELECT 1 FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {_LOCK_CLASS}
          AND l.objid = {int(key)} AND l.objsubid = {_TWO_KEY_FORM}
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    )"""  # noqa: S608 - every value is one of our integer constants


# Is a rebuild running? Its lock says so; a run left "running" by a crashed process holds none.
REBUILD_RUNNING_SQL = _lock_held_sql(REBUILD_LOCK)
