"""Elasticsearch for everyone: the clients per use, the products alias and its index names.

Every client is derived from the one django-elasticsearch-dsl registers (settings
ELASTICSEARCH_DSL: every node of ELASTICSEARCH_URL in its node pool), looked up on each call so a
reconfigured connection (a test's outage, a new cluster) takes effect. A retry moves to the next
node of the pool; which requests are retried, and why that is safe, is said per client.
"""

import functools
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from elasticsearch import Elasticsearch, NotFoundError
from elasticsearch.dsl.connections import connections

from searchindex.nodes import node_urls

ALIAS = f"{settings.ELASTICSEARCH_INDEX_PREFIX}products"
HEALTH_TIMEOUT_SECONDS = 2


def index_name_new() -> str:
    """A fresh concrete index name behind the alias, ordered by creation time."""
    return f"{ALIAS}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"


def es_client() -> Elasticsearch:
    """The registered client: reads and index administration with the default timeout.

    Retries connection failures on the next node only, never a timeout (see searchindex/nodes.py).
    """
    return connections.get_connection()


def search_client() -> Elasticsearch:
    """Searches and suggestions: ELASTICSEARCH_SEARCH_TIMEOUT per attempt, then a 503."""
    return _search_client(es_client(), settings.ELASTICSEARCH_SEARCH_TIMEOUT)


@functools.lru_cache(maxsize=4)
def _search_client(base: Elasticsearch, timeout: float) -> Elasticsearch:
    # Cached: options() builds a client with all of its ~40 API namespaces on every call. Keyed on
    # the registered client, so a reconfigured one (tests, a new cluster) gets its own.
    # Searches are reads, so retrying one is always safe. On one node a timed-out search is not
    # retried (the same stuck node would only double the wait); on a cluster a timeout or a
    # refused connection moves to each other node once.
    nodes = len(base.transport.node_pool.all())
    return base.options(
        request_timeout=timeout, max_retries=max(1, nodes - 1), retry_on_timeout=nodes > 1
    )


def bulk_client() -> Elasticsearch:
    """A rebuild's loading, merging and swapping: ELASTICSEARCH_BULK_TIMEOUT per request.

    Timeouts are retried by the rebuild's own backoff and 429s by the bulk helper; the transport
    only moves a failed connection to the next node, at once. Nothing here retries on status.
    """
    return es_client().options(
        request_timeout=settings.ELASTICSEARCH_BULK_TIMEOUT,
        max_retries=settings.ELASTICSEARCH_BULK_RETRIES,
        retry_on_timeout=False,
        retry_on_status=(),
    )


def drain_client() -> Elasticsearch:
    """Outbox drains and journal replays: ELASTICSEARCH_BULK_TIMEOUT, not the search client's.

    A bulk of whole documents indexed or deleted by explicit `_id` is idempotent, and the drain
    holds its lock throughout, so a timed-out bulk sent again to another node does no harm.
    """
    return es_client().options(
        request_timeout=settings.ELASTICSEARCH_BULK_TIMEOUT, retry_on_timeout=True
    )


def admin_client(*, timeout: float) -> Elasticsearch:
    """Slow cluster-state changes (a clone, a write block, rollovers): a longer timeout.

    Not retried on timeout: a clone or a rollover that timed out may have happened, and doing it
    again would clone into an existing index or roll over twice.
    """
    return es_client().options(request_timeout=timeout, retry_on_timeout=False)


def health_client() -> Elasticsearch:
    """The readiness probe: a short timeout; cluster health is a read, retried on another node."""
    return es_client().options(request_timeout=HEALTH_TIMEOUT_SECONDS)


def sink_client(url: str, *, timeout: float) -> Elasticsearch:
    """The search analytics sink, which may be a cluster of its own (SEARCH_ANALYTICS_URL).

    A refused connection moves to each other node once. A timeout is not retried: events are
    created without an `_id`, so a second attempt could count a search twice.
    """
    nodes = node_urls(url)
    return Elasticsearch(
        nodes, request_timeout=timeout, max_retries=len(nodes) - 1, retry_on_timeout=False
    )


def alias_indices() -> list[str]:
    """The concrete indices behind the products alias (none before the first build)."""
    try:
        return sorted(bulk_client().indices.get_alias(name=ALIAS).keys())
    except NotFoundError:
        return []


def alias_swap(*, index: str) -> list[str]:
    """Point the alias at `index` in one atomic request; returns the indices it left.

    Atomic on the node: searches see the old index or the new one, never neither. Through
    `bulk_client` only a connection that failed is retried, and callers check `alias_indices()`
    after a failure, since a swap whose answer was lost may have happened.
    """
    es = bulk_client()
    old = [name for name in alias_indices() if name != index]
    actions: list[dict[str, Any]] = [{"add": {"index": index, "alias": ALIAS}}]
    actions += [{"remove": {"index": name, "alias": ALIAS}} for name in old]
    if not old and es.indices.exists(index=ALIAS) and not es.indices.exists_alias(name=ALIAS):
        # A concrete index squatting on the alias name (an auto-created one) goes in the same step.
        actions.append({"remove_index": {"index": ALIAS}})
    es.indices.update_aliases(actions=actions)
    return old
