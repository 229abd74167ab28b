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


def suggest_cache_key(*, q: str, store_id: int | None, products: int = 0) -> str:
    """`autocomplete:<normalised q>`, then `:<store_id>` when given; no two requests share one.

    The query's own `%` and `:` are escaped (`%25`, `%3A`), so the last `:` always starts the
    store id: `q=tea b:3` and `q=tea b&store_id=3` were the same key before, and one could
    blank the other's suggestions for the cache's whole timeout.
    """
    escaped = normalise_query(q).replace("%", "%25").replace(":", "%3A")
    key = f"autocomplete:{escaped}"
    if store_id is not None:
        key = f"{key}:{store_id}"
    # `p<N>` cannot be a store id, and the query's own `:` is escaped: still one key a request.
    return f"{key}:p{products}" if products else key


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


def suggestions_lookup(
    *, q: str, store_id: int | None, products: int = 0
) -> tuple[str, Any | None]:
    """The catalog version, and what is cached for the request under it (None on a miss).

    One round trip (an MGET of the version key and the request's key) where reading the version
    and then the entry took two: the entry carries the version it was computed under, so a
    bump still makes every earlier entry a miss.
    """
    key = suggest_cache_key(q=q, store_id=store_id, products=products)
    found = cache.get_many([_VERSION_KEY, key])  # {} when Redis is unreachable: a miss
    version = found.get(_VERSION_KEY)
    if not isinstance(version, str):
        return catalog_version(), None
    return version, _cached_under(found.get(key), version)


def _cached_under(entry: Any, version: str) -> Any | None:
    if isinstance(entry, dict) and entry.get("version") == version:
        return entry.get("value")
    return None


def suggestions_get(*, q: str, store_id: int | None, version: str, products: int = 0) -> Any | None:
    """Cached titles (with `products`, `{"titles", "products"}`) if cached under `version`, or
    None on a miss (also when Redis is unreachable: errors are misses)."""
    key = suggest_cache_key(q=q, store_id=store_id, products=products)
    return _cached_under(cache.get(key), version)


def suggestions_set(
    *, q: str, store_id: int | None, version: str, titles: Any, products: int = 0
) -> None:
    cache.set(
        suggest_cache_key(q=q, store_id=store_id, products=products),
        {"version": version, "value": titles},
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
