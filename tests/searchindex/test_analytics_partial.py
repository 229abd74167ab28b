"""The analytics figures never leave out a backing index that cannot answer: the report and the
console's page fail instead (a shard failing its aggregation, as a tripped circuit breaker does)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from elasticsearch import ApiError

from console.analytics import WINDOWS, analytics_report
from searchindex.analytics_report import search_report
from tests.searchindex.conftest import es  # noqa: F401 - fixture


@pytest.fixture
def half_broken_stream(es):  # noqa: F811
    """Two indices under one pattern with an event each: in the second, `query` is text, so
    every terms aggregation on it fails there (and only there)."""
    base = f"{settings.ELASTICSEARCH_INDEX_PREFIX}partial-events"
    now = datetime.now(UTC).isoformat()
    event = {"@timestamp": now, "endpoint": "search", "query": "milk", "results": 3}
    for suffix, query_type in (("-ok", "keyword"), ("-broken", "text")):
        es.indices.create(
            index=base + suffix,
            mappings={
                "properties": {
                    "@timestamp": {"type": "date"},
                    "endpoint": {"type": "keyword"},
                    "query": {"type": query_type},
                    "results": {"type": "integer"},
                }
            },
        )
        es.index(index=base + suffix, document=event, refresh=True)
    yield f"{base}-*"
    es.indices.delete(index=f"{base}-*", ignore_unavailable=True)


def test_the_report_fails_rather_than_count_part_of_the_events(es, half_broken_stream):  # noqa: F811
    with pytest.raises(ApiError):
        search_report(client=es, stream=half_broken_stream, since=timedelta(days=1))


def test_the_console_page_fails_rather_than_count_part_of_the_events(es, half_broken_stream):  # noqa: F811
    with pytest.raises(ApiError):
        analytics_report(client=es, stream=half_broken_stream, window=WINDOWS["24h"])
