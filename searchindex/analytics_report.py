"""The search analytics report: what shoppers search for and where search fails, from
aggregations over the events data stream, as plain-text tables."""

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


def parse_since(value: str) -> timedelta:
    """`7d`, `24h` or `30m` -> a timedelta; ValueError otherwise."""
    match = SINCE_FORMAT.fullmatch(value.strip())
    if not match or int(match[1]) == 0:
        raise ValueError(f"expected a window like 7d, 24h or 30m, not {value!r}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


@dataclass(frozen=True)
class SearchReport:
    searches: int
    suggests: int
    zero_result_searches: int
    top_queries: list[tuple[str, int, int]]  # query, searches, of which zero-result
    zero_result_queries: list[tuple[str, int]]  # query, searches
    first_page_only: list[tuple[str, int, int]]  # query, searches, most results seen
    took_ms: dict[str, tuple[float | None, float | None]]  # endpoint -> (p50, p95)


def search_report(
    *, client: Elasticsearch, stream: str, since: timedelta, store_id: int | None = None
) -> SearchReport:
    """One request to the data stream: every figure is an aggregation."""
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
            "terms": {"field": "endpoint", "size": 5},
            "aggs": {"p": {"percentiles": {"field": "took_ms", "percents": [50, 95]}}},
        },
    }
    try:
        response = client.search(
            index=stream, size=0, query={"bool": {"filter": window}}, aggs=aggs
        )
    except NotFoundError:  # nothing recorded yet: no data stream
        return SearchReport(0, 0, 0, [], [], [], {})
    result = response["aggregations"]
    endpoints = {b["key"]: b["doc_count"] for b in result["endpoints"]["buckets"]}
    texts = result["texts"]
    first_page_only = [
        (b["key"], b["doc_count"], int(b["max_results"]["value"]))
        for b in texts["paged"]["buckets"]
        # Zero-result queries have their own table; a query with results and no page 2 asked
        # for is one whose first page either satisfied or lost the shopper.
        if b["max_page"]["value"] == 1 and b["max_results"]["value"] > 0
    ][:TOP]
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
    )


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
        "Elasticsearch took (ms)",
        *_table(
            ["endpoint", "p50", "p95"],
            [(name, _ms(p50), _ms(p95)) for name, (p50, p95) in sorted(report.took_ms.items())],
        ),
    ]
    return "\n".join(lines) + "\n"
