"""The per-store inventory cache: listing pages keyed by a store version that stock changes bump."""

import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction

LISTING_TIMEOUT_SECONDS = 15 * 60


def _version_key(store_id: int) -> str:
    return f"inventory:store:{store_id}:version"


def store_inventory_version(store_id: int) -> str:
    """The store's current cache version; a missing one (never set, evicted) starts a new one.

    Versions are random tokens rather than counters: a counter that was evicted and restarted
    could land on a number whose stale pages are still cached, a fresh token never does.
    """
    version = cache.get(_version_key(store_id))
    if version is None:
        version = uuid.uuid4().hex
        # add() so that racing readers converge on one token; a loser's page is just orphaned.
        cache.add(_version_key(store_id), version, timeout=None)
    return version


def store_inventory_version_bump(store_id: int) -> None:
    """Make every cached listing page of the store unreachable (they expire on their own)."""
    cache.set(_version_key(store_id), uuid.uuid4().hex, timeout=None)


def store_inventory_version_bump_on_commit(store_id: int) -> None:
    """Bump once the surrounding transaction commits (at once outside one); never on rollback.

    `robust=True`: a Redis outage is logged and must not turn a committed change into a 500.
    """

    def bump_store_inventory_version() -> None:
        store_inventory_version_bump(store_id)

    transaction.on_commit(bump_store_inventory_version, robust=True)


def _page_key(*, store_id: int, version: str, page: int, page_size: int) -> str:
    return f"inventory:store:{store_id}:v:{version}:page:{page}:size:{page_size}"


def store_inventory_page_get(*, store_id: int, version: str, page: int, page_size: int) -> Any:
    """A cached listing page, or None (also when Redis is unreachable: errors are misses)."""
    return cache.get(_page_key(store_id=store_id, version=version, page=page, page_size=page_size))


def store_inventory_page_set(
    *, store_id: int, version: str, page: int, page_size: int, value: Any
) -> None:
    cache.set(
        _page_key(store_id=store_id, version=version, page=page, page_size=page_size),
        value,
        timeout=LISTING_TIMEOUT_SECONDS,
    )
