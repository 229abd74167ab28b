"""Search analytics: events in the data stream, a dead sink, the writer's queue and fork, the
report command and the retention task, against the real Elasticsearch."""

import io
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apikeys.services import api_key_create
from searchindex import analytics
from searchindex.analytics import EventWriter, search_events_prune, stream_emptied

pytestmark = pytest.mark.django_db

SEARCH_URL = "/api/search/products/"
SUGGEST_URL = "/api/search/suggest/"


@pytest.fixture
def es(es):
    """Rollovers and deletes change the cluster state: slower than a search on a busy node."""
    return es.options(request_timeout=60)


@pytest.fixture
def stream(settings, es) -> Iterator[str]:
    """Analytics on, into a stream kept per test database: a data stream cannot be deleted on
    our node, so one per run would pile up; emptied before each test instead."""
    settings.SEARCH_ANALYTICS_ENABLED = True
    name = f"test-analytics-{connection.settings_dict['NAME'].replace('_', '-')}-search-events"
    settings.SEARCH_ANALYTICS_DATA_STREAM = name
    analytics.writer_reset()
    stream_emptied(es, name)
    yield name
    analytics.writer_reset()


@pytest.fixture
def events(es, stream):
    """Call to flush this process's writer and read back every event, oldest first."""

    def read() -> list[dict]:
        analytics.flush()
        es.indices.refresh(index=stream)
        hits = es.search(index=stream, size=100, sort=[{"@timestamp": "asc"}])["hits"]["hits"]
        return [hit["_source"] for hit in hits]

    return read


def test_a_search_records_an_event_with_its_query_filters_and_figures(api_client, catalog, events):
    store = catalog.stores["north"]
    response = api_client.get(
        SEARCH_URL, {"q": "  MILK ", "store_id": store.id, "in_stock": "true", "page_size": 1}
    )
    assert response.status_code == 200
    [event] = events()
    assert event["endpoint"] == "search"
    assert event["query"] == "milk"
    assert event["filters"] == {"in_stock": "true"}
    assert event["store_id"] == store.id
    assert event["results"] == response.json()["count"] == 2
    assert event["zero_results"] is False
    assert event["page"] == 1
    assert isinstance(event["took_ms"], int)
    assert event["api_key"] is None
    assert datetime.now(UTC) - datetime.fromisoformat(event["@timestamp"]) < timedelta(minutes=1)


def test_a_later_page_and_price_filters_are_recorded(api_client, catalog, events):
    response = api_client.get(
        SEARCH_URL, {"q": "milk", "min_price": "10", "page": 2, "page_size": 2, "sort": "price"}
    )
    assert response.status_code == 200
    [event] = events()
    assert event["page"] == 2
    assert event["filters"] == {"min_price": "10.00", "sort": "price"}


def test_a_zero_result_search_is_flagged(api_client, catalog, events):
    assert api_client.get(SEARCH_URL, {"q": "xylophone"}).json()["count"] == 0
    [event] = events()
    assert (event["query"], event["results"], event["zero_results"]) == ("xylophone", 0, True)


def test_a_suggest_records_an_event_and_a_cached_one_has_no_took(api_client, catalog, events):
    first = api_client.get(SUGGEST_URL, {"q": "Mil"})
    again = api_client.get(SUGGEST_URL, {"q": "Mil"})  # answered from the cache
    assert first.status_code == again.status_code == 200
    recorded = events()
    assert [(e["endpoint"], e["query"], e["results"]) for e in recorded] == [
        ("suggest", "mil", 4),
        ("suggest", "mil", 4),
    ]
    assert isinstance(recorded[0]["took_ms"], int)
    assert "took_ms" not in recorded[1]


def test_the_api_key_name_is_recorded(api_client, catalog, events):
    _, key = api_key_create(name="kiosk-7", scopes=["search"], store_ids=None, expiry_date=None)
    response = api_client.get(SEARCH_URL, {"q": "tea"}, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200
    [event] = events()
    assert event["api_key"] == "kiosk-7"


def test_nothing_is_recorded_when_analytics_is_off(api_client, catalog, events, settings):
    settings.SEARCH_ANALYTICS_ENABLED = False
    assert api_client.get(SEARCH_URL, {"q": "milk"}).status_code == 200
    assert api_client.get(SUGGEST_URL, {"q": "mil"}).status_code == 200
    assert analytics._writer is None
    assert events() == []


def test_a_dead_sink_neither_fails_nor_slows_searches(api_client, catalog, settings, stream):
    settings.SEARCH_ANALYTICS_URL = "http://127.0.0.1:1"  # nothing listens there
    analytics.writer_reset()
    api_client.get(SEARCH_URL, {"q": "milk"})  # warm-up: connections, caches
    timings = []
    for _ in range(10):
        began = time.perf_counter()
        response = api_client.get(SEARCH_URL, {"q": "milk"})
        timings.append(time.perf_counter() - began)
        assert response.status_code == 200
    assert max(timings) < 0.5
    analytics.flush()
    writer = analytics.writer()
    assert (writer.written, writer.dropped) == (0, 11)


def test_recording_is_cheap_and_a_full_queue_drops_and_counts(stream):
    writer = EventWriter(url="http://127.0.0.1:1", stream=stream, max_queue=100, interval=60)
    event = {"@timestamp": datetime.now(UTC).isoformat(), "endpoint": "search", "query": "x"}
    began = time.perf_counter()
    for _ in range(150):
        writer.record(event)
    per_event = (time.perf_counter() - began) / 150
    writer.stop()
    assert per_event < 0.001
    assert writer.dropped == 50
    assert writer._queue.qsize() == 100


def test_the_writer_flushes_on_its_own_thread_without_being_asked(settings, stream):
    writer = EventWriter(url=settings.ELASTICSEARCH_URL, stream=stream, interval=0.1)
    writer.record({"@timestamp": datetime.now(UTC).isoformat(), "endpoint": "search"})
    deadline = time.monotonic() + 10
    while writer.written == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    writer.stop()
    assert writer.written == 1


def test_a_forked_process_starts_its_own_writer_thread(stream):
    writer = EventWriter(url="http://127.0.0.1:1", stream=stream, interval=60)
    writer.record({"endpoint": "search"})
    pid = os.fork()
    if pid == 0:  # the child: a gunicorn worker forked after the master recorded
        writer.record({"endpoint": "search"})
        alive = [t for t in threading.enumerate() if t.name == "search-analytics"]
        os._exit(0 if writer._pid == os.getpid() and len(alive) == 1 else 1)
    _, status = os.waitpid(pid, 0)
    writer.stop()
    assert os.waitstatus_to_exitcode(status) == 0
    assert writer._queue.qsize() == 1  # the child's event went into its own queue


def test_the_data_stream_has_the_template_mapping(api_client, catalog, es, events, stream):
    api_client.get(SEARCH_URL, {"q": "milk"})
    events()
    [backing] = es.indices.resolve_index(name=stream, expand_wildcards="all")["data_streams"]
    assert backing["timestamp_field"] == "@timestamp"
    mapping = next(iter(es.indices.get_mapping(index=stream).body.values()))["mappings"]
    fields = mapping["properties"]
    assert fields["query"]["type"] == "keyword"
    assert fields["query"]["fields"]["text"]["type"] == "text"
    assert fields["filters"]["properties"]["category"]["type"] == "keyword"
    assert {name: fields[name]["type"] for name in ("results", "page", "took_ms")} == dict.fromkeys(
        ("results", "page", "took_ms"), "integer"
    )
    assert fields["zero_results"]["type"] == "boolean"
    template = es.indices.get_index_template(name=stream)["index_templates"][0]
    assert template["index_template"]["template"]["lifecycle"]["data_retention"] == "30d"


def _seed(writer: EventWriter, *rows: tuple) -> None:
    now = datetime.now(UTC)
    for query, store_id, results, page, took, age in rows:
        writer.record(
            {
                "@timestamp": (now - age).isoformat(),
                "endpoint": "search",
                "query": query,
                "filters": {},
                "store_id": store_id,
                "results": results,
                "zero_results": results == 0,
                "page": page,
                "took_ms": took,
                "api_key": None,
            }
        )


def _report(*args: str) -> str:
    out = io.StringIO()
    call_command("search_report", *args, stdout=out)
    return out.getvalue()


def test_search_report_lists_top_zero_result_first_page_queries_and_latency(es, stream):
    writer = analytics.writer()
    hour = timedelta(hours=1)
    _seed(
        writer,
        ("milk", 1, 40, 1, 4, hour),
        ("milk", 1, 40, 2, 6, hour),
        ("milk", 2, 40, 1, 8, hour),
        ("tea", 1, 12, 1, 10, hour),
        ("tea", 1, 12, 1, 2, hour),
        ("xylophone", 2, 0, 1, 3, hour),
        ("bread", 1, 5, 1, 5, timedelta(days=9)),  # outside the default 7 days
    )
    writer.flush()
    es.indices.refresh(index=stream)

    text = _report()
    assert "searches 6, suggests 0, zero-result searches 1 (16.7%)" in text
    top = text.split("Top queries\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[:3] for line in top[2:]] == [
        ["milk", "3", "0"],
        ["tea", "2", "0"],
        ["xylophone", "1", "1"],
    ]
    zero = text.split("Top zero-result queries\n")[1].split("\n\n")[0].splitlines()
    assert [line.split() for line in zero[2:]] == [["xylophone", "1"]]
    first_page = text.split("Queries nobody paged past page 1\n")[1].split("\n\n")[0]
    assert [line.split() for line in first_page.splitlines()[2:]] == [["tea", "2", "12"]]
    took = text.split("Elasticsearch took (ms)\n")[1].splitlines()
    assert took[2].split()[0] == "search"

    store_two = _report("--store", "2", "--since", "30d")
    assert "searches 2, suggests 0, zero-result searches 1 (50.0%)" in store_two
    assert "bread" in _report("--since", "10d")


def test_search_report_rejects_a_bad_window():
    with pytest.raises(CommandError, match="7d"):
        _report("--since", "a week")


def test_prune_deletes_backing_indices_older_than_the_retention(es, stream):
    writer = analytics.writer()
    _seed(writer, ("old", None, 1, 1, 1, timedelta(days=40)))
    writer.flush()
    old_index = es.indices.resolve_index(name=stream, expand_wildcards="all")["data_streams"][0][
        "backing_indices"
    ][-1]
    es.indices.rollover(alias=stream)
    _seed(writer, ("new", None, 1, 1, 1, timedelta(days=1)))
    writer.flush()
    es.indices.refresh(index=stream)

    assert search_events_prune(client=es, stream=stream, retention_days=30) == [old_index]
    es.indices.refresh(index=stream)
    remaining = es.search(index=stream)["hits"]["hits"]
    assert [hit["_source"]["query"] for hit in remaining] == ["new"]
