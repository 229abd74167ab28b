"""The hits a `query_id` was answered with, kept in Redis for 24 h so a click can be checked.

One string per search: `<first position>|<id>,<id>,...|<store id>|<normalised query>`, the
product ids in the order shown, the first at its absolute position in the whole result list.
A page of 20 hits is about 150 bytes. Every key expires with the token (24 h). What one caller
can make Redis hold is bounded by the search and suggest throttles (per caller), and Redis runs
with `maxmemory` and `volatile-lru`, so under pressure it evicts these expiring keys first
instead of growing without end. A search whose hits were evicted only loses its click checks:
clicks on it are rejected as `product_not_in_results`.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.cache import cache
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from searchevents.query_ids import VALID_SECONDS

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 256


@dataclass(frozen=True)
class ShownHits:
    """What a search showed: product id -> its absolute 1-based position, and the query."""

    positions: dict[int, int]
    query: str
    store_id: int | None


def _key(search_id: str) -> str:
    return cache.make_key(f"qid:{search_id}")


def hits_remember(
    *,
    search_id: str,
    product_ids: Sequence[int],
    first_position: int,
    query: str,
    store_id: int | None,
) -> None:
    """Keep what `search_id` showed for 24 h; a Redis outage only costs its click checks."""
    ids = ",".join(str(product_id) for product_id in product_ids)
    store = "" if store_id is None else str(store_id)
    value = f"{first_position}|{ids}|{store}|{query[:MAX_QUERY_CHARS]}"
    try:
        get_redis_connection("default").set(_key(search_id), value, ex=VALID_SECONDS)
    except RedisError as exc:
        logger.warning("query_id hits not kept, Redis unavailable", extra={"error": str(exc)})


class HitsUnavailable(Exception):
    """Redis could not be asked."""


def hits_shown(search_ids: Sequence[str]) -> dict[str, ShownHits]:
    """What each of `search_ids` showed (one round trip); a search with nothing kept is absent.

    Raises `HitsUnavailable` when Redis cannot answer.
    """
    unique = list(dict.fromkeys(search_ids))
    if not unique:
        return {}
    try:
        values = get_redis_connection("default").mget([_key(s) for s in unique])
    except RedisError as exc:
        raise HitsUnavailable(str(exc)) from exc
    shown = {}
    for search_id, raw in zip(unique, values, strict=True):
        if raw is None:
            continue
        first, ids, store, query = raw.decode().split("|", 3)
        positions = {
            int(product_id): int(first) + offset
            for offset, product_id in enumerate(ids.split(",") if ids else [])
        }
        shown[search_id] = ShownHits(
            positions=positions, query=query, store_id=int(store) if store else None
        )
    return shown
