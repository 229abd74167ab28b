"""The autocomplete cache: suggestions per normalised query, each tagged with a catalog version."""

import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

SUGGEST_TIMEOUT_SECONDS = 5 * 60
_VERSION_KEY = "search:catalog:version"
# The version key expires too (nothing cached stays for good, and maxmemory's volatile-lru can
# evict it): a version made anew is a fresh random token, under which nothing was cached.
VERSION_TIMEOUT_SECONDS = 7 * 24 * 60 * 60


def normalise_query(q: str) -> str:
    """Case and spacing do not change suggestions, so they do not split the cache either."""
    return " ".join(q.split()).casefold()


def suggest_cache_key(*, q: str, store_id: int | None) -> str:
    """`autocomplete:<normalised q>`, then `:<store_id>` when given; no two requests share one.

    The query's own `%` and `:` are escaped (`%25`, `%3A`), so the last `:` always starts the
    store id: `q=tea b:3` and `q=tea b&store_id=3` were the same key before, and one could
    blank the other's suggestions for the cache's whole timeout.
    """
    escaped = normalise_query(q).replace("%", "%25").replace(":", "%3A")
    key = f"autocomplete:{escaped}"
    return key if store_id is None else f"{key}:{store_id}"


def catalog_version() -> str:
    """The current catalog version token; a missing one (never set, expired, evicted) starts anew.

    A random token rather than a counter: a counter that was evicted and restarted could land on
    a number whose stale entries are still cached, a fresh token never does. With Redis down the
    token is simply not stored, so nothing written under it is ever read back.
    """
    version = cache.get(_VERSION_KEY)
    if version is None:
        version = _new_version()
        # add() so that racing readers converge on one token; a loser's entry is just orphaned.
        cache.add(_VERSION_KEY, version, timeout=VERSION_TIMEOUT_SECONDS)
        version = cache.get(_VERSION_KEY) or version
    return version


def catalog_version_bump() -> None:
    """Make every cached suggestion unreachable; call after catalog changes reach the index."""
    cache.set(_VERSION_KEY, _new_version(), timeout=VERSION_TIMEOUT_SECONDS)


def _new_version() -> str:
    # The token carries when it was made, so a reader can tell whether the index has refreshed
    # since (see catalog_settled).
    return f"{uuid.uuid4().hex}-{time.time():.3f}"


def catalog_settled(version: str) -> bool:
    """Whether SUGGEST_CACHE_SETTLE_SECONDS have passed since `version` was made.

    The index sync bumps the version once Elasticsearch has applied a change, but the change is
    searchable only after the next refresh (up to a refresh interval later). A suggestion
    computed in between must not be cached: under the new version it would outlive the change
    by the whole cache timeout.
    """
    _, _, made_at = version.rpartition("-")
    try:
        return time.time() - float(made_at) >= settings.SUGGEST_CACHE_SETTLE_SECONDS
    except ValueError:
        return True  # a token of the older form, made long ago


def suggestions_lookup(*, q: str, store_id: int | None) -> tuple[str, list[str] | None]:
    """The catalog version, and the titles cached for the query under it (None on a miss).

    One round trip (an MGET of the version key and the query's key) where reading the version
    and then the entry took two: the entry carries the version it was computed under, so a
    bump still makes every earlier entry a miss.
    """
    key = suggest_cache_key(q=q, store_id=store_id)
    found = cache.get_many([_VERSION_KEY, key])  # {} when Redis is unreachable: a miss
    version = found.get(_VERSION_KEY)
    if not isinstance(version, str):
        return catalog_version(), None
    return version, _titles_under(found.get(key), version)


def _titles_under(entry: Any, version: str) -> list[str] | None:
    if isinstance(entry, dict) and entry.get("version") == version:
        titles = entry.get("titles")
        return titles if isinstance(titles, list) else None
    return None


def suggestions_get(*, q: str, store_id: int | None, version: str) -> list[str] | None:
    """Titles cached under `version`, or None on a miss (also when Redis is unreachable)."""
    return _titles_under(cache.get(suggest_cache_key(q=q, store_id=store_id)), version)


def suggestions_set(*, q: str, store_id: int | None, version: str, titles: list[str]) -> None:
    cache.set(
        suggest_cache_key(q=q, store_id=store_id),
        {"version": version, "titles": titles},
        timeout=SUGGEST_TIMEOUT_SECONDS,
    )


def _bump_on_commit(**kwargs: Any) -> None:
    # robust: a Redis outage is logged and must not turn a committed change into an error.
    transaction.on_commit(catalog_version_bump, robust=True)


def connect_cache_invalidation() -> None:
    """Bump the catalog version when a product or category is saved or deleted.

    This bump comes at commit, before the index has the change, so a suggestion cached in
    between can still be stale; the index sync bumps again once Elasticsearch has applied it,
    which is the bump that bounds staleness. Bulk writes send no signals and rely on that one.
    """
    from catalog.models import Category, Product

    for model in (Product, Category):
        name = model._meta.label_lower
        post_save.connect(_bump_on_commit, sender=model, dispatch_uid=f"suggest-cache-save-{name}")
        post_delete.connect(
            _bump_on_commit, sender=model, dispatch_uid=f"suggest-cache-delete-{name}"
        )
