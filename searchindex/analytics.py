"""Search analytics: one event per search or suggest, written in bulk to a data stream, off the
request path, by a buffered writer that drops events rather than slow or fail a search."""

from __future__ import annotations

import logging
import os
import queue
import threading
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from celery import shared_task
from django.conf import settings
from elasticsearch import Elasticsearch, NotFoundError, helpers

from searchindex.client import sink_client

logger = logging.getLogger(__name__)

STREAM = "aisle-search-events"
FILTER_FIELDS = ("category", "min_price", "max_price", "in_stock", "sort")


def stream_name() -> str:
    """The data stream (and its index template's) name: SEARCH_ANALYTICS_DATA_STREAM, else the
    index prefix + `aisle-search-events`. Read at call time, so a test's settings count."""
    return settings.SEARCH_ANALYTICS_DATA_STREAM or f"{settings.ELASTICSEARCH_INDEX_PREFIX}{STREAM}"


def index_template(stream: str) -> dict[str, Any]:
    """The composable template that makes `stream` a data stream with the event mapping."""
    keyword = {"type": "keyword"}
    return {
        "index_patterns": [stream],
        "data_stream": {},
        # Above the built-in logs-*/metrics-* templates (100), so ours wins any overlap.
        "priority": 200,
        "template": {
            "settings": {
                "number_of_shards": settings.SEARCH_ANALYTICS_SHARDS,
                "number_of_replicas": settings.SEARCH_ANALYTICS_REPLICAS,
            },
            # Data stream lifecycle: enforced where the node runs it (the official image); the
            # Docker-less integ-test node stores it but has no lifecycle service, so the beat
            # task `search_events_prune` below applies the same retention there.
            "lifecycle": {"data_retention": f"{settings.SEARCH_ANALYTICS_RETENTION_DAYS}d"},
            "mappings": {
                "dynamic": "strict",
                "properties": {
                    "@timestamp": {"type": "date"},
                    "endpoint": keyword,
                    "query": {
                        "type": "keyword",
                        "ignore_above": 256,
                        "fields": {"text": {"type": "text"}},
                    },
                    "filters": {
                        "properties": dict.fromkeys(FILTER_FIELDS, keyword),
                    },
                    "store_id": {"type": "integer"},
                    "results": {"type": "integer"},
                    "zero_results": {"type": "boolean"},
                    "page": {"type": "integer"},
                    "took_ms": {"type": "integer"},
                    "api_key": keyword,
                    # The search's query_id (searchevents), and the events that refer to it:
                    # clicks, add-to-carts and conversions (endpoint `events` or `orders`).
                    "search_id": keyword,
                    "search_kind": keyword,
                    "event_type": keyword,
                    "product_id": {"type": "long"},
                    "position": {"type": "integer"},
                    "order_id": {"type": "long"},
                    "quantity": {"type": "integer"},
                },
            },
        },
    }


def stream_prepare(client: Elasticsearch, stream: str) -> None:
    """Put the stream's template, and bring an existing stream's backing indices up to its
    mapping (new fields only: a mapping is never changed in place)."""
    template = index_template(stream)
    client.indices.put_index_template(name=stream, **template)
    if client.indices.exists(index=stream):
        client.indices.put_mapping(
            index=stream, properties=template["template"]["mappings"]["properties"]
        )


def normalise_query(q: str) -> str:
    """Case and spacing do not make a different query: "  Oat  MILK" counts as "oat milk"."""
    return " ".join(q.split()).casefold()


def _api_key_name(request: Any) -> str | None:
    return getattr(getattr(request, "auth", None), "name", None)


def _event(
    request: Any,
    *,
    endpoint: str,
    q: str,
    store_id: int | None,
    results: int,
    took_ms: int | None,
    page: int = 1,
    filters: dict[str, str] | None = None,
    search_id: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "@timestamp": datetime.now(UTC).isoformat(),
        "endpoint": endpoint,
        "query": normalise_query(q),
        "filters": filters or {},
        "store_id": store_id,
        "results": results,
        "zero_results": results == 0,
        "page": page,
        "api_key": _api_key_name(request),
    }
    if took_ms is not None:  # a suggestion answered from the cache asked Elasticsearch nothing
        event["took_ms"] = took_ms
    if search_id is not None:
        event["search_id"] = search_id
    return event


def search_recorded(request: Any, query: Any, result: Any, search_id: str | None = None) -> None:
    """Record a search (a `ProductSearchQuery` and its `ProductSearchResult`) and the search id
    of its query_id, which clicks and conversions refer to."""
    if not settings.SEARCH_ANALYTICS_ENABLED:
        return
    filters = {
        name: str(value).lower() if isinstance(value, bool) else str(value)
        for name in FILTER_FIELDS
        if (value := getattr(query, name)) is not None
    }
    writer().record(
        _event(
            request,
            endpoint="search",
            q=query.q,
            store_id=query.store_id,
            results=result.count,
            took_ms=result.took_ms,
            page=query.page,
            filters=filters,
            search_id=search_id,
        )
    )


def suggest_recorded(
    request: Any, store_id: int | None, suggestions: Any, search_id: str | None = None
) -> None:
    """Record a suggest request (its `Suggestions`) and its query_id's search id."""
    if not settings.SEARCH_ANALYTICS_ENABLED:
        return
    writer().record(
        _event(
            request,
            endpoint="suggest",
            q=suggestions.query,
            store_id=store_id,
            results=len(suggestions.titles),
            took_ms=suggestions.took_ms,
            search_id=search_id,
        )
    )


class EventWriter:
    """A bounded queue and a daemon thread that bulk-writes it every `interval` seconds, or
    sooner once `batch_size` events wait.

    `record()` only appends to the queue (microseconds); a full queue, a refused connection or a
    rejected bulk drops the events and counts them in `dropped`. The thread starts on the first
    `record()` in each process, so gunicorn workers forked from a master get their own.
    """

    def __init__(
        self,
        *,
        url: str,
        stream: str,
        max_queue: int = 10_000,
        batch_size: int = 500,
        interval: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.stream = stream
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.interval = interval
        # A dead sink costs one refused connection per node per batch, then the batch is gone.
        self.client = sink_client(url, timeout=timeout)
        self.written = 0
        self.dropped = 0
        self._template_ready = False
        self._stopped = threading.Event()
        self._reset()

    def _reset(self) -> None:
        self._pid: int | None = None
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=self.max_queue)
        self._start_lock = threading.Lock()
        self._write_lock = threading.Lock()  # the thread and flush() never write at once
        self._wake = threading.Event()

    def record(self, event: dict[str, Any]) -> None:
        if self._pid != os.getpid():
            self._start()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1
            return
        if self._queue.qsize() >= self.batch_size:
            self._wake.set()

    def _start(self) -> None:
        if self._pid is not None:
            # Forked: the parent's queue, locks and thread did not come along in a usable state.
            self._reset()
        with self._start_lock:
            if self._pid == os.getpid():
                return
            thread = threading.Thread(target=self._run, name="search-analytics", daemon=True)
            thread.start()
            self._pid = os.getpid()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the thread must outlive any surprise; the events are counted
                logger.exception("search analytics flush failed")

    def flush(self) -> None:
        """Write every queued event now, in the calling thread (tests, shutdown)."""
        with self._write_lock:
            while True:
                batch: list[dict[str, Any]] = []
                while len(batch) < self.batch_size:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if not batch:
                    return
                self._write(batch)

    def _write(self, batch: list[dict[str, Any]]) -> None:
        try:
            if not self._template_ready:
                stream_prepare(self.client, self.stream)
                self._template_ready = True
            written, failed = helpers.bulk(
                self.client,
                ({"_op_type": "create", "_index": self.stream, "_source": e} for e in batch),
                stats_only=True,
                raise_on_error=False,
                raise_on_exception=False,
            )
        except Exception as exc:  # noqa: BLE001 - a dead sink loses events, never a search
            logger.warning("search analytics sink unavailable", extra={"error": str(exc)[:200]})
            self.dropped += len(batch)
            return
        self.written += written
        self.dropped += cast(int, failed)  # a count, with stats_only

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()


_writer: EventWriter | None = None
_writer_lock = threading.Lock()


def writer() -> EventWriter:
    """This process's writer, built from the settings on first use."""
    global _writer
    if _writer is None:
        with _writer_lock:
            if _writer is None:
                _writer = EventWriter(
                    url=settings.SEARCH_ANALYTICS_URL or settings.ELASTICSEARCH_URL,
                    stream=stream_name(),
                    max_queue=settings.SEARCH_ANALYTICS_QUEUE_SIZE,
                    batch_size=settings.SEARCH_ANALYTICS_BATCH_SIZE,
                    interval=settings.SEARCH_ANALYTICS_FLUSH_SECONDS,
                )
    return _writer


def writer_reset() -> None:
    """Stop and forget this process's writer: the next event builds one from the settings."""
    global _writer
    with _writer_lock:
        if _writer is not None:
            _writer.stop()
        _writer = None


def flush() -> None:
    """Write whatever this process has queued, now."""
    if _writer is not None:
        _writer.flush()


def search_events_prune(*, client: Elasticsearch, stream: str, retention_days: int) -> list[str]:
    """Apply the retention where no data stream lifecycle runs: roll the write index over once
    a day, and delete every backing index whose newest event is older than the retention.
    Returns the deleted index names."""
    try:
        streams = client.indices.resolve_index(name=stream, expand_wildcards="all")["data_streams"]
    except NotFoundError:  # nothing recorded yet
        return []
    backing = streams[0]["backing_indices"]
    write_index = backing[-1]
    created = client.indices.get_settings(index=write_index, name="index.creation_date")
    created_ms = int(created[write_index]["settings"]["index"]["creation_date"])
    now = datetime.now(UTC)
    if now - datetime.fromtimestamp(created_ms / 1000, UTC) > timedelta(days=1):
        client.indices.rollover(alias=stream)
    cutoff = (now - timedelta(days=retention_days)).timestamp() * 1000
    newest = client.search(
        index=stream,
        size=0,
        aggs={
            "by_index": {
                "terms": {"field": "_index", "size": len(backing)},
                "aggs": {"newest": {"max": {"field": "@timestamp"}}},
            }
        },
    )["aggregations"]["by_index"]["buckets"]
    # Empty rolled-over indices have no bucket; they hold nothing to keep.
    newest_by_index = {bucket["key"]: bucket["newest"]["value"] for bucket in newest}
    expired = [
        name
        for name in backing[:-1]
        if newest_by_index.get(name) is None or newest_by_index[name] < cutoff
    ]
    if expired:
        client.indices.delete(index=",".join(expired))
    return expired


@shared_task(name="searchindex.search_events_prune")
def search_events_prune_task() -> list[str]:
    """Beat: the retention for nodes without a data stream lifecycle (harmless where it runs)."""
    return search_events_prune(
        # Rollovers and deletes are cluster-state changes: slow on a busy node, and nobody waits.
        client=writer().client.options(request_timeout=60),
        stream=stream_name(),
        retention_days=settings.SEARCH_ANALYTICS_RETENTION_DAYS,
    )


def stream_emptied(client: Elasticsearch, stream: str) -> None:
    """Leave `stream` without events. A node without the data stream delete API (ours) cannot
    drop a stream, so it is rolled over and every older backing index deleted."""
    try:
        client.indices.resolve_index(name=stream, expand_wildcards="all")
    except NotFoundError:
        return
    client.indices.rollover(alias=stream)
    backing = client.indices.resolve_index(name=stream, expand_wildcards="all")["data_streams"][0][
        "backing_indices"
    ]
    if len(backing) > 1:
        client.indices.delete(index=",".join(backing[:-1]))
