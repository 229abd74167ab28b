"""The analytics page's figures: two aggregation requests over the search events data stream."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from searchindex.analytics_report import (
    after_searches,
    aggregated,
    engagement_aggs,
    engagement_by_query,
)

TOP = 10
# What shoppers do after a search (searchevents): these events carry the search's `query`, its
# `search_id` and `search_kind`; clicks carry the hit's absolute `position`.
ENGAGEMENT_TYPES = ("click", "conversion")


@dataclass(frozen=True)
class Window:
    key: str  # what the page's ?window= says
    label: str
    span: timedelta
    bucket: timedelta  # one bar of the over-time charts


WINDOWS = {
    w.key: w
    for w in (
        Window("24h", "24 hours", timedelta(hours=24), timedelta(hours=1)),
        Window("7d", "7 days", timedelta(days=7), timedelta(hours=6)),
        Window("30d", "30 days", timedelta(days=30), timedelta(days=1)),
    )
}
DEFAULT_WINDOW = "7d"


@dataclass(frozen=True)
class Bucket:
    start: datetime
    searches: int
    zero_results: int

    @property
    def zero_rate(self) -> float | None:
        """None over no searches: a rate of nothing is empty, not 0."""
        return self.zero_results / self.searches if self.searches else None


@dataclass(frozen=True)
class QueryCount:
    query: str
    searches: int
    zero_results: int = 0


@dataclass(frozen=True)
class Engagement:
    """What shoppers did after searching for one query (searches with results only)."""

    query: str
    searches: int
    clicked: int  # searches with at least one click
    converted: int  # searches with at least one conversion
    average_click_position: float | None

    @property
    def click_through_rate(self) -> float | None:
        return self.clicked / self.searches if self.searches else None

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.searches if self.searches else None

    @property
    def click_through_text(self) -> str:
        return _percent(self.click_through_rate)

    @property
    def conversion_text(self) -> str:
        return _percent(self.conversion_rate)


def _percent(rate: float | None) -> str:
    """A rate as the page shows it; a rate over no searches is empty, not 0."""
    return "—" if rate is None else f"{rate:.1%}"


@dataclass(frozen=True)
class AnalyticsReport:
    window: Window
    searches: int
    zero_results: int
    over_time: list[Bucket]
    top_queries: list[QueryCount]
    zero_result_queries: list[QueryCount]
    engagement: list[Engagement]
    clicks: int
    average_click_position: float | None
    took_ms: int

    @property
    def zero_rate(self) -> float | None:
        return self.zero_results / self.searches if self.searches else None

    @property
    def zero_rate_text(self) -> str:
        return _percent(self.zero_rate)


def analytics_empty(window: Window, now: datetime | None = None) -> AnalyticsReport:
    """The report of a window without events."""
    now = now or datetime.now(UTC)
    return AnalyticsReport(window, 0, 0, _buckets({}, window, now), [], [], [], 0, None, 0)


def _bucket_starts(window: Window, now: datetime) -> list[datetime]:
    """The bucket starts covering the window, aligned as Elasticsearch aligns fixed intervals
    (multiples of the interval since the epoch, UTC)."""
    step = int(window.bucket.total_seconds())
    first = int((now - window.span).timestamp()) // step * step
    last = int(now.timestamp()) // step * step
    return [datetime.fromtimestamp(t, UTC) for t in range(first, last + 1, step)]


def _buckets(found: dict[int, tuple[int, int]], window: Window, now: datetime) -> list[Bucket]:
    return [
        Bucket(start, *found.get(int(start.timestamp() * 1000), (0, 0)))
        for start in _bucket_starts(window, now)
    ]


def _engagement(query: str, searches: int, events: dict[str, Any]) -> Engagement:
    def distinct(kind: str) -> int:
        return int(events[kind]["searches"]["value"]) if kind in events else 0

    return Engagement(
        query=query,
        searches=searches,
        clicked=distinct("click"),
        converted=distinct("conversion"),
        average_click_position=events.get("click", {}).get("position", {}).get("value"),
    )


def analytics_report(
    *, client: Elasticsearch, stream: str, window: Window, now: datetime | None = None
) -> AnalyticsReport:
    """Every figure of the page: histograms, terms and filters in one `size=0` search, then the
    clicks and conversions of its top queries in a second.

    Two requests because exact distinct counts (a `cardinality` per query and event type) are
    wanted for the top queries alone: asked for 500 candidate queries in one request, a month of
    events tripped Elasticsearch's request circuit breaker on most backing indices. Neither
    request accepts a partial answer (`aggregated`).
    """
    now = now or datetime.now(UTC)
    # The window starts on a bucket boundary, so its first bar is a whole one, and the request
    # stays the same until the next boundary: Elasticsearch's shard request cache then answers
    # repeats from every backing index that has not changed (all but the write index).
    since = {"range": {"@timestamp": {"gte": _bucket_starts(window, now)[0].isoformat()}}}
    try:
        response = aggregated(client, stream, [since], _page_aggs(window))
    except NotFoundError:  # nothing recorded yet: the data stream does not exist
        return analytics_empty(window, now)
    aggregations = response["aggregations"]
    result = aggregations["searches"]
    events = aggregations["events"]
    with_results = [
        (b["key"], b["doc_count"]) for b in aggregations["with_results"]["by_query"]["buckets"]
    ]
    engaged, took = _top_query_events(client, stream, since, [query for query, _ in with_results])
    found = {
        int(b["key"]): (b["doc_count"], b["zero"]["doc_count"])
        for b in result["over_time"]["buckets"]
    }
    texts = result["texts"]
    return AnalyticsReport(
        window=window,
        searches=result["doc_count"],
        zero_results=result["zero"]["doc_count"],
        over_time=_buckets(found, window, now),
        top_queries=[
            QueryCount(b["key"], b["doc_count"], b["zero"]["doc_count"])
            for b in texts["top"]["buckets"]
        ],
        zero_result_queries=[
            QueryCount(b["key"], b["doc_count"], b["doc_count"])
            for b in texts["zero_only"]["top"]["buckets"]
        ],
        engagement=[
            _engagement(query, searches, engaged.get(query, {})) for query, searches in with_results
        ],
        clicks=events["click"]["doc_count"],
        average_click_position=events["click"]["position"]["value"],
        took_ms=response["took"] + took,
    )


_SEARCHES: dict[str, Any] = {"term": {"endpoint": "search"}}
_ZERO: dict[str, Any] = {"term": {"zero_results": True}}


def _page_aggs(window: Window) -> dict[str, Any]:
    return {
        "searches": {
            "filter": _SEARCHES,
            "aggs": {
                "zero": {"filter": _ZERO},
                "over_time": {
                    "date_histogram": {
                        "field": "@timestamp",
                        "fixed_interval": f"{int(window.bucket.total_seconds())}s",
                        "min_doc_count": 1,
                    },
                    "aggs": {"zero": {"filter": _ZERO}},
                },
                "texts": {
                    "filter": {"bool": {"must_not": [{"term": {"query": ""}}]}},
                    "aggs": {
                        "top": {
                            "terms": {"field": "query", "size": TOP},
                            "aggs": {"zero": {"filter": _ZERO}},
                        },
                        "zero_only": {
                            "filter": _ZERO,
                            "aggs": {"top": {"terms": {"field": "query", "size": TOP}}},
                        },
                    },
                },
            },
        },
        "with_results": {
            "filter": {
                "bool": {
                    "filter": [_SEARCHES, {"range": {"results": {"gt": 0}}}],
                    "must_not": [{"term": {"query": ""}}],
                }
            },
            "aggs": {"by_query": {"terms": {"field": "query", "size": TOP}}},
        },
        # Overall: how many clicks, and where they landed.
        "events": {
            "filter": after_searches(ENGAGEMENT_TYPES),
            "aggs": engagement_aggs(ENGAGEMENT_TYPES),
        },
    }


def _top_query_events(
    client: Elasticsearch, stream: str, since: dict[str, Any], queries: list[str]
) -> tuple[dict[str, dict[str, Any]], int]:
    """Per query of `queries`, its engagement aggregations; and the request's `took`."""
    if not queries:
        return {}, 0
    aggs = {"by_query": engagement_by_query(queries, ENGAGEMENT_TYPES)}
    where = [since, after_searches(ENGAGEMENT_TYPES), {"terms": {"query": queries}}]
    try:
        response = aggregated(client, stream, where, aggs)
    except NotFoundError:  # the stream went away between the two requests
        return {}, 0
    buckets = response["aggregations"]["by_query"]["buckets"]
    return {b["key"]: b for b in buckets}, response["took"]
