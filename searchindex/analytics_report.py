"""The search analytics report: what shoppers search for, where search fails and what they do
after it (clicks, add-to-carts, conversions), from aggregations over the events data stream."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

SINCE_FORMAT = re.compile(r"(\d+)([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
TOP = 10
# Queries looked at for "never paged past page 1": the most frequent ones, a bounded number.
PAGED_CANDIDATES = 500
# Queries whose events are looked at for the per-query rates: the most searched, bounded.
EVENT_CANDIDATES = 500
# Below this many distinct searches `cardinality` counts exactly (Elasticsearch's maximum).
EXACT_BELOW = 40_000
EVENT_TYPES = ("click", "add_to_cart", "conversion")


def parse_since(value: str) -> timedelta:
    """`7d`, `24h` or `30m` -> a timedelta; ValueError otherwise."""
    match = SINCE_FORMAT.fullmatch(value.strip())
    if not match or int(match[1]) == 0:
        raise ValueError(f"expected a window like 7d, 24h or 30m, not {value!r}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


@dataclass(frozen=True)
class Engagement:
    """What followed searches with at least one result (suggests are not searches).

    A rate is searches with at least one such event / searches; None over no searches."""

    searches: int
    clicked: int
    added: int
    converted: int
    average_click_position: float | None

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def click_through_rate(self) -> float | None:
        return self._rate(self.clicked, self.searches)

    @property
    def add_to_cart_rate(self) -> float | None:
        return self._rate(self.added, self.searches)

    @property
    def conversion_rate(self) -> float | None:
        return self._rate(self.converted, self.searches)

    @property
    def never_clicked(self) -> int:
        return max(0, self.searches - self.clicked)


@dataclass(frozen=True)
class SearchReport:
    searches: int
    suggests: int
    zero_result_searches: int
    top_queries: list[tuple[str, int, int]]  # query, searches, of which zero-result
    zero_result_queries: list[tuple[str, int]]  # query, searches
    first_page_only: list[tuple[str, int, int]]  # query, searches, most results seen
    took_ms: dict[str, tuple[float | None, float | None]]  # endpoint -> (p50, p95)
    engagement: Engagement | None = None  # overall
    engagement_by_query: list[tuple[str, Engagement]] | None = None  # the most searched
    never_clicked_queries: list[tuple[str, int]] | None = None  # query, searches


_SEARCHES_WITH_RESULTS = {
    "bool": {"filter": [{"term": {"endpoint": "search"}}, {"range": {"results": {"gt": 0}}}]}
}


def after_searches(types: tuple[str, ...] = EVENT_TYPES) -> dict[str, Any]:
    """A filter: events of `types` that followed a search (not a suggest's product dropdown)."""
    return {
        "bool": {
            "filter": [
                {"terms": {"event_type": list(types)}},
                {"term": {"search_kind": "search"}},
            ]
        }
    }


def engagement_by_query(queries: list[str], types: tuple[str, ...] = EVENT_TYPES) -> dict[str, Any]:
    """An aggregation: `engagement_aggs` per query, for as many queries as `queries` (the
    request filters on them). Exact distinct counts cost memory per query: ask for few."""
    return {"terms": {"field": "query", "size": len(queries)}, "aggs": engagement_aggs(types)}


def engagement_aggs(types: tuple[str, ...] = EVENT_TYPES) -> dict[str, Any]:
    """Per event type: how many distinct searches had one; and the clicks' mean position."""
    aggs: dict[str, Any] = {
        kind: {
            "filter": {"term": {"event_type": kind}},
            "aggs": {
                "searches": {
                    "cardinality": {"field": "search_id", "precision_threshold": EXACT_BELOW}
                }
            },
        }
        for kind in types
    }
    aggs["click"]["aggs"]["position"] = {"avg": {"field": "position"}}
    return aggs


def _engagement(searches: int, events: dict[str, Any]) -> Engagement:
    def distinct(kind: str) -> int:
        return int(events[kind]["searches"]["value"]) if kind in events else 0

    position = events.get("click", {}).get("position", {}).get("value")
    return Engagement(
        searches=searches,
        clicked=distinct("click"),
        added=distinct("add_to_cart"),
        converted=distinct("conversion"),
        average_click_position=position,
    )


def search_report(
    *, client: Elasticsearch, stream: str, since: timedelta, store_id: int | None = None
) -> SearchReport:
    """Two requests to the data stream, every figure an aggregation: the report's figures, then
    the clicks and conversions of its most searched queries (`_query_events`)."""
    window: list[dict[str, Any]] = [
        {"range": {"@timestamp": {"gte": f"now-{int(since.total_seconds())}s"}}}
    ]
    if store_id is not None:
        window.append({"term": {"store_id": store_id}})
    searches_with_text = {
        "bool": {
            "filter": [{"term": {"endpoint": "search"}}],
            "must_not": [{"term": {"query": ""}}],
        }
    }
    aggs: dict[str, Any] = {
        "endpoints": {"terms": {"field": "endpoint", "size": 5}},
        "zero": {
            "filter": {
                "bool": {
                    "filter": [{"term": {"endpoint": "search"}}, {"term": {"zero_results": True}}]
                }
            }
        },
        "texts": {
            "filter": searches_with_text,
            "aggs": {
                "top": {
                    "terms": {"field": "query", "size": TOP},
                    "aggs": {"zero": {"filter": {"term": {"zero_results": True}}}},
                },
                "zero_only": {
                    "filter": {"term": {"zero_results": True}},
                    "aggs": {"top": {"terms": {"field": "query", "size": TOP}}},
                },
                "paged": {
                    "terms": {"field": "query", "size": PAGED_CANDIDATES},
                    "aggs": {
                        "max_page": {"max": {"field": "page"}},
                        "max_results": {"max": {"field": "results"}},
                    },
                },
            },
        },
        "took": {
            # Clicks and conversions share the stream but asked Elasticsearch nothing.
            "terms": {"field": "endpoint", "size": 5, "include": ["search", "suggest"]},
            "aggs": {"p": {"percentiles": {"field": "took_ms", "percents": [50, 95]}}},
        },
        "with_results": {
            "filter": _SEARCHES_WITH_RESULTS,
            "aggs": {"by_query": {"terms": {"field": "query", "size": EVENT_CANDIDATES}}},
        },
        "events": {"filter": after_searches(), "aggs": engagement_aggs()},
    }
    try:
        result = aggregated(client, stream, window, aggs)["aggregations"]
    except NotFoundError:  # nothing recorded yet: no data stream
        return SearchReport(0, 0, 0, [], [], [], {})
    endpoints = {b["key"]: b["doc_count"] for b in result["endpoints"]["buckets"]}
    texts = result["texts"]
    first_page_only = [
        (b["key"], b["doc_count"], int(b["max_results"]["value"]))
        for b in texts["paged"]["buckets"]
        # Zero-result queries have their own table; a query with results and no page 2 asked
        # for is one whose first page either satisfied or lost the shopper.
        if b["max_page"]["value"] == 1 and b["max_results"]["value"] > 0
    ][:TOP]
    searched = {b["key"]: b["doc_count"] for b in result["with_results"]["by_query"]["buckets"]}
    events = result["events"]
    clicks, top_events = _query_events(client, stream, window, list(searched))
    return SearchReport(
        searches=endpoints.get("search", 0),
        suggests=endpoints.get("suggest", 0),
        zero_result_searches=result["zero"]["doc_count"],
        top_queries=[
            (b["key"], b["doc_count"], b["zero"]["doc_count"]) for b in texts["top"]["buckets"]
        ],
        zero_result_queries=[
            (b["key"], b["doc_count"]) for b in texts["zero_only"]["top"]["buckets"]
        ],
        first_page_only=first_page_only,
        took_ms={
            b["key"]: (b["p"]["values"].get("50.0"), b["p"]["values"].get("95.0"))
            for b in result["took"]["buckets"]
        },
        engagement=_engagement(result["with_results"]["doc_count"], events),
        engagement_by_query=[
            (query, _engagement(count, top_events.get(query, {})))
            for query, count in list(searched.items())[:TOP]
        ],
        never_clicked_queries=[
            (query, count) for query, count in searched.items() if not clicks.get(query)
        ][:TOP],
    )


def _query_events(
    client: Elasticsearch, stream: str, window: list[dict[str, Any]], queries: list[str]
) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    """For `queries` (the most searched first): each one's click count, and the engagement
    aggregations of the first TOP of them.

    Exact distinct counts (a `cardinality` per query and event type) are asked for the TOP
    queries alone: asked for every candidate, each shard's answer grew past Elasticsearch's
    request circuit breaker on a month of events. Whether a query was ever clicked needs only
    a count.
    """
    if not queries:
        return {}, {}
    top = queries[:TOP]
    aggs = {
        "clicks": {
            "terms": {"field": "query", "size": len(queries)},
            "aggs": {"click": {"filter": {"term": {"event_type": "click"}}}},
        },
        "top": {
            "filter": {"terms": {"query": top}},
            "aggs": {"by_query": engagement_by_query(top)},
        },
    }
    where = [*window, after_searches(), {"terms": {"query": queries}}]
    try:
        result = aggregated(client, stream, where, aggs)["aggregations"]
    except NotFoundError:  # the stream went away between the two requests
        return {}, {}
    clicks = {b["key"]: b["click"]["doc_count"] for b in result["clicks"]["buckets"]}
    return clicks, {b["key"]: b for b in result["top"]["by_query"]["buckets"]}


def aggregated(
    client: Elasticsearch, stream: str, filters: list[dict[str, Any]], aggs: dict[str, Any]
) -> dict[str, Any]:
    """One `size=0` search of `stream` under `filters`: its body (`aggregations`, `took`).

    No partial answers: a backing index that failed (a tripped circuit breaker, a missing
    shard) raises instead of leaving its events out of the figures without a word.
    """
    response = client.search(
        index=stream,
        size=0,
        track_total_hits=False,
        query={"bool": {"filter": filters}},
        aggs=aggs,
        request_cache=True,
        allow_partial_search_results=False,
    )
    return response.body


def _table(headers: list[str], rows: list[tuple[Any, ...]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    cells = [[str(cell) for cell in row] for row in [tuple(headers), *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        # The first column (text) is left-aligned, the figures right-aligned.
        parts = [row[0].ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        return "  " + "  ".join(parts).rstrip()

    return [
        line(cells[0]),
        "  " + "  ".join("-" * width for width in widths),
        *map(line, cells[1:]),
    ]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _position(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _engagement_lines(report: SearchReport) -> list[str]:
    overall = report.engagement or Engagement(0, 0, 0, 0, None)
    return [
        "Clicks, add-to-carts and conversions (over searches with at least one result)",
        f"  searches {overall.searches}, click-through {_rate(overall.click_through_rate)},"
        f" add-to-cart {_rate(overall.add_to_cart_rate)},"
        f" conversion {_rate(overall.conversion_rate)},"
        f" average click position {_position(overall.average_click_position)},"
        f" searched, never clicked {overall.never_clicked}",
        *_table(
            ["query", "searches", "CTR", "add-to-cart", "conversion", "avg position", "no click"],
            [
                (
                    query,
                    e.searches,
                    _rate(e.click_through_rate),
                    _rate(e.add_to_cart_rate),
                    _rate(e.conversion_rate),
                    _position(e.average_click_position),
                    e.never_clicked,
                )
                for query, e in report.engagement_by_query or []
            ],
        ),
        "",
        "Searched, never clicked",
        *_table(["query", "searches"], report.never_clicked_queries or []),
    ]


def report_text(report: SearchReport, *, since: str, store_id: int | None, stream: str) -> str:
    scope = "all stores" if store_id is None else f"store {store_id}"
    rate = report.zero_result_searches / report.searches if report.searches else 0.0
    lines = [
        f"Search report: last {since}, {scope} (data stream {stream})",
        f"  searches {report.searches}, suggests {report.suggests}, "
        f"zero-result searches {report.zero_result_searches} ({rate:.1%})",
        "",
        "Top queries",
        *_table(["query", "searches", "zero-result"], report.top_queries),
        "",
        "Top zero-result queries",
        *_table(["query", "searches"], report.zero_result_queries),
        "",
        "Queries nobody paged past page 1",
        *_table(["query", "searches", "max results"], report.first_page_only),
        "",
        *_engagement_lines(report),
        "",
        "Elasticsearch took (ms)",
        *_table(
            ["endpoint", "p50", "p95"],
            [(name, _ms(p50), _ms(p95)) for name, (p50, p95) in sorted(report.took_ms.items())],
        ),
    ]
    return "\n".join(lines) + "\n"
