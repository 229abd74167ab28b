"""The per-store inventory cache: listing pages keyed by a store version that stock changes bump."""

import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

LISTING_TIMEOUT_SECONDS = 15 * 60
# Version keys expire too: nothing this cache writes stays in Redis for good, and under
# maxmemory (volatile-lru) every one of them can be evicted. A version that expired or was
# evicted comes back as a fresh random token that names no page cached before, so losing one
# costs a miss, never a stale page.
VERSION_TIMEOUT_SECONDS = 7 * 24 * 60 * 60
# What a store without a stored version reads as: never stored, and never a page's version.
_NO_VERSION = "none"


def _version_key(store_id: int) -> str:
    return f"inventory:store:{store_id}:version"


def _new_version() -> str:
    # Random rather than a counter: a counter that expired and restarted could land on a number
    # whose stale pages are still cached; a fresh token never does.
    return uuid.uuid4().hex


def store_inventory_version(store_id: int) -> str:
    """The store's current cache version, read before the data it versions.

    Reading never writes. A store without a version (never cached, expired, evicted) gets one
    only when a page of it is cached (`store_inventory_page_set`), after the store was found:
    a request for an unknown store or a page past the end leaves nothing in Redis.
    """
    return cache.get(_version_key(store_id)) or _NO_VERSION


def store_inventory_version_bump(store_id: int) -> None:
    """Make every cached listing page of the store unreachable (they expire on their own)."""
    cache.set(_version_key(store_id), _new_version(), timeout=VERSION_TIMEOUT_SECONDS)


def store_inventory_version_bump_on_commit(store_id: int) -> None:
    """Bump once the surrounding transaction commits (at once outside one); never on rollback.

    `robust=True`: a Redis outage is logged and must not turn a committed change into a 500.
    """

    def bump_store_inventory_version() -> None:
        store_inventory_version_bump(store_id)

    transaction.on_commit(bump_store_inventory_version, robust=True)


def page_size_is_cached(page_size: int) -> bool:
    """Only the page sizes in INVENTORY_CACHED_PAGE_SIZES are cached, others come from Postgres.

    Every size would be a whole copy of the store's listing in Redis, as many copies as sizes a
    client cares to ask for; with a fixed set the cache holds a bounded number of copies.
    """
    return page_size in settings.INVENTORY_CACHED_PAGE_SIZES


def _page_key(*, store_id: int, version: str, page: int, page_size: int) -> str:
    return f"inventory:store:{store_id}:v:{version}:page:{page}:size:{page_size}"


def store_inventory_page_get(*, store_id: int, version: str, page: int, page_size: int) -> Any:
    """A cached listing page, or None (also when Redis is unreachable: errors are misses)."""
    if version == _NO_VERSION or not page_size_is_cached(page_size):
        return None
    return cache.get(_page_key(store_id=store_id, version=version, page=page, page_size=page_size))


def store_inventory_page_set(
    *, store_id: int, version: str, page: int, page_size: int, value: Any
) -> None:
    """Cache a page computed after reading `version` (from `store_inventory_version`).

    A store that had no version gets a fresh one here, with add(): if a bump (or a racing
    reader) stored one since the read, that one stands and this page, which may predate the
    bump, is not cached at all.
    """
    if not page_size_is_cached(page_size):
        return
    if version == _NO_VERSION:
        version = _new_version()
        if not cache.add(_version_key(store_id), version, timeout=VERSION_TIMEOUT_SECONDS):
            return
    cache.set(
        _page_key(store_id=store_id, version=version, page=page, page_size=page_size),
        value,
        timeout=LISTING_TIMEOUT_SECONDS,
    )
