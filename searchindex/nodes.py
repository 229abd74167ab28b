"""The Elasticsearch node list and the registered client's options, free of Django for settings."""

from typing import Any

from elasticsearch.serializer import OrjsonSerializer


def node_urls(value: str) -> list[str]:
    """`ELASTICSEARCH_URL` as the client's hosts: one URL, or several separated by commas."""
    urls = [url.strip() for url in value.split(",") if url.strip()]
    if not urls:
        raise ValueError("ELASTICSEARCH_URL names no node")
    return urls


def connection_settings(url: str, *, timeout: float) -> dict[str, Any]:
    """Keyword arguments for the one registered client (ELASTICSEARCH_DSL["default"]).

    Every node goes into the client's node pool, so a connection failure moves the request to the
    next node. Timeouts are not retried on this client: it also creates indices, and a creation
    that timed out may have happened. The per-use clients in searchindex/client.py say otherwise
    where a retry is safe.
    """
    return {
        "hosts": node_urls(url),
        "request_timeout": timeout,
        "retry_on_timeout": False,
        # The client's own orjson option: search responses are parsed on every request, and
        # orjson does that several times faster than the json module.
        "serializer": OrjsonSerializer(),
    }
