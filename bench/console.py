"""Search console benchmark: the analytics page on a month of search events.

Bulk-loads synthetic events (1,000,000 by default: searches over 30 days, a Zipf-like mix of
5,000 queries, about 8% with no results, some suggests, and what shoppers did next: a click
after 10% of the searches with results, an add-to-cart after a third of those and a conversion
after a tenth, a click after 5% of suggests) into a data stream of its own, then
asks a gunicorn worker for `/console/analytics/?window=…` as a signed-in staff member, one
request at a time: cold (Elasticsearch's request cache cleared first) and live (a few new events
written and refreshed first, as a live stream has every second: the older days' backing indices
answer from the cache, the write index is aggregated again). Reports the page's p50/p95 per
window beside the one Elasticsearch aggregation request the page makes, timed cold from this
process (the ratio says what the page adds to it), and the clicks the 30-day page reports.

  .venv/bin/python bench/console.py [--events 1000000] [--samples 20] [--reuse]
  .venv/bin/python bench/console.py --smoke     # seconds: 2,000 events, 3 samples

The staff user and its session live in `aisle_bench_console` (BENCH_CONSOLE_DATABASE_URL); the
events go to the `bench-console-aisle-search-events` data stream, emptied at the start (the
node cannot delete a data stream: rolled over, older backing indices deleted) and left in place.
"""

import argparse
import http.client
import itertools
import os
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402 - needs the repo on sys.path
    Gunicorn,
    database_prepare,
    django_env,
    load_average,
    percentile,
    stop_all,
)

DATABASE_URL = os.environ.get(
    "BENCH_CONSOLE_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_console"
)
REDIS_URL = os.environ.get("BENCH_CONSOLE_REDIS_URL", "redis://127.0.0.1:6379/15")
INDEX_PREFIX = "bench-console-"
WINDOWS = ["24h", "7d", "30d"]
QUERIES = 5_000
ZERO_RESULT_SHARE = 0.08
SUGGEST_SHARE = 0.03
# Engagement (searchevents' click, add_to_cart and conversion events), per search with results;
# add-to-carts and conversions follow a click. Suggest clicks are not counted by the page.
CLICK_SHARE = 0.10
ADD_TO_CART_SHARE = 1 / 3
CONVERSION_SHARE = 1 / 10
SUGGEST_CLICK_SHARE = 0.05
PRODUCTS = 50_000
TARGET_P50_MS = 500

ENV = {
    **os.environ,
    **django_env(
        database_url=DATABASE_URL,
        redis_url=REDIS_URL,
        index_prefix=INDEX_PREFIX,
        cache_prefix=f"aisle-bench-console-{os.getpid()}",
    ),
}
os.environ.update(ENV)

import django  # noqa: E402 - settings come from the environment set just above

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from elasticsearch import Elasticsearch, helpers  # noqa: E402

from console.analytics import WINDOWS as WINDOW_SPANS  # noqa: E402
from console.analytics import analytics_report  # noqa: E402
from searchindex import analytics  # noqa: E402


def say(message: str) -> None:
    print(f"[bench-console] {message}", flush=True)


def es() -> Elasticsearch:
    return Elasticsearch(os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")).options(
        request_timeout=300
    )


def stream_empty(stream: str) -> None:
    client = es()
    if not client.indices.exists(index=stream):
        return
    client.indices.rollover(alias=stream)
    backing = client.indices.resolve_index(name=stream, expand_wildcards="all")["data_streams"][0][
        "backing_indices"
    ]
    if len(backing) > 1:
        client.indices.delete(index=",".join(backing[:-1]))


def events(count: int, *, seed: int = 1):
    """`count` events over the last 30 days, oldest first; queries drawn Zipf-like. A search's
    engagement events come right after it (the next moments of the 30 days), each shaped as
    searchevents ships them, so the total stays `count`."""
    rng = random.Random(seed)
    words = ["milk", "bread", "tea", "coffee", "rice", "oil", "soap", "juice", "eggs", "cheese"]
    queries = [
        f"{words[i % len(words)]} {i}" if i >= len(words) else words[i] for i in range(QUERIES)
    ]
    weights = [1 / (rank + 1) for rank in range(QUERIES)]
    picks = iter(rng.choices(queries, weights=weights, k=count))
    now = datetime.now(UTC)
    span = timedelta(days=30).total_seconds()
    stream = analytics.stream_name()
    orders = itertools.count(1)

    def documents():
        for n in itertools.count():
            query = next(picks)
            suggest = rng.random() < SUGGEST_SHARE
            zero = not suggest and rng.random() < ZERO_RESULT_SHARE
            results = 0 if zero else rng.randint(1, 200)
            search_id = ("u" if suggest else "s") + f"{n:011x}"
            store_id = rng.randint(1, 20)
            yield {
                "endpoint": "suggest" if suggest else "search",
                "query": query[:4] if suggest else query,
                "filters": {},
                "store_id": store_id,
                "results": results,
                "zero_results": results == 0,
                "page": 1 if rng.random() < 0.9 else 2,
                "took_ms": rng.randint(2, 40),
                "api_key": None,
                "search_id": search_id,
            }
            if results == 0 or rng.random() >= (SUGGEST_CLICK_SHARE if suggest else CLICK_SHARE):
                continue
            # Shoppers click near the top: 1, 2, 3 ... with fewer clicks further down.
            position = min(results, 1 + int(rng.expovariate(1 / 4)))
            engagement = {
                "event_type": "click",
                "search_id": search_id,
                "search_kind": "suggest" if suggest else "search",
                "query": query[:4] if suggest else query,
                "product_id": rng.randint(1, PRODUCTS),
                "store_id": store_id,
                "position": position,
                "api_key": None,
            }
            yield {"endpoint": "events", **engagement}
            if suggest:
                continue
            if rng.random() < ADD_TO_CART_SHARE:
                yield {"endpoint": "events", **engagement, "event_type": "add_to_cart"}
            if rng.random() < CONVERSION_SHARE:
                yield {
                    "endpoint": "orders",
                    **engagement,
                    "event_type": "conversion",
                    "order_id": next(orders),
                    "quantity": rng.randint(1, 3),
                }

    for n, source in enumerate(itertools.islice(documents(), count)):
        at = now - timedelta(seconds=span * (1 - n / count))
        yield {
            "_op_type": "create",
            "_index": stream,
            "_source": {"@timestamp": at.isoformat(), **source},
        }


def load(count: int) -> float:
    """Load `count` events a day at a time, rolling the stream over between days: a month of
    events in daily backing indices, as the retention task leaves them."""
    stream = analytics.stream_name()
    client = es()
    stream_empty(stream)
    client.indices.put_index_template(name=stream, **analytics.index_template(stream))
    started = time.monotonic()
    days = itertools.groupby(events(count), key=lambda action: action["_source"]["@timestamp"][:10])
    for n, (_day, actions) in enumerate(days):
        if n:
            client.indices.rollover(alias=stream)
        for _ in helpers.parallel_bulk(
            client, actions, thread_count=2, chunk_size=5_000, raise_on_error=True
        ):
            pass
    client.indices.refresh(index=stream)
    seconds = time.monotonic() - started
    stored = client.count(index=stream)["count"]
    if stored != count:
        raise SystemExit(f"{stored} events stored, {count} written")
    return seconds


def stored_events() -> int:
    client = es()
    stream = analytics.stream_name()
    if not client.indices.exists(index=stream):
        return 0
    client.indices.refresh(index=stream)
    return client.count(index=stream)["count"]


def live_traffic(n: int = 10) -> None:
    """A few new events in the write index, refreshed: as a live stream sees every second,
    which voids the write index's cached aggregations (the older days' stay valid)."""
    now = datetime.now(UTC).isoformat()
    source = {
        "@timestamp": now,
        "endpoint": "search",
        "query": "milk",
        "filters": {},
        "store_id": 1,
        "results": 3,
        "zero_results": False,
        "page": 1,
        "api_key": None,
    }
    helpers.bulk(
        es(),
        (
            {"_op_type": "create", "_index": analytics.stream_name(), "_source": source}
            for _ in range(n)
        ),
        refresh=True,
    )


def session_cookie() -> str:
    user, _ = get_user_model().objects.get_or_create(
        username="bench-console", defaults={"is_staff": True}
    )
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies["sessionid"].value


def page(port: int, window: str, cookie: str) -> tuple[float, str]:
    """The analytics page for `window`: milliseconds to its last byte, and its HTML."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "GET", f"/console/analytics/?window={window}", headers={"Cookie": f"sessionid={cookie}"}
    )
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200 or b'id="total-searches"' not in body:
        raise SystemExit(f"analytics page answered {response.status}")
    return elapsed, body.decode()


def page_ms(port: int, window: str, cookie: str) -> float:
    return page(port, window, cookie)[0]


def clicks_stored(stream: str, *, since: timedelta) -> int:
    """Clicks after searches in the stream since the page's window starts (the window opens at
    the start of a day), counted without aggregations: what the page must show."""
    day = 24 * 60 * 60
    start = (int((datetime.now(UTC) - since).timestamp()) // day) * day
    window = {"range": {"@timestamp": {"gte": datetime.fromtimestamp(start, UTC).isoformat()}}}
    kind = [{"term": {"event_type": "click"}}, {"term": {"search_kind": "search"}}]
    return es().count(index=stream, query={"bool": {"filter": [window, *kind]}})["count"]


def page_engagement(html: str) -> tuple[int, str, int]:
    """What the page says of engagement: its clicks, the average click position, and how many
    of its per-query rows have an average click position (at least one click)."""
    clicks = re.search(r'id="total-clicks">(\d+)<', html)
    position = re.search(r'id="avg-position">([^<]*)<', html)
    table = html.split('id="engagement"', 1)[-1].split("</table>", 1)[0]
    rows = [
        cells
        for row in table.split("<tr>")[2:]  # past the header row
        if (cells := re.findall(r"<td>(.*?)</td>", row, re.S)) and cells[-1].strip() != "—"
    ]
    if clicks is None or position is None:
        raise SystemExit("the analytics page shows no click figures")
    return int(clicks.group(1)), position.group(1).strip(), len(rows)


def aggregation_ms(window: str) -> float:
    client = es()
    started = time.perf_counter()
    analytics_report(client=client, stream=analytics.stream_name(), window=WINDOW_SPANS[window])
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the stream if it holds about --events events"
    )
    parser.add_argument("--smoke", action="store_true", help="seconds: 2,000 events, 3 samples")
    args = parser.parse_args()
    if args.smoke:
        args.events, args.samples = 2_000, 3
    say(f"load average {load_average()}")
    database_prepare(env=ENV, say=say)
    stored = stored_events()
    # A measured run adds its live-traffic events: a stream holding a few more is reused too.
    if args.reuse and args.events <= stored <= args.events * 1.01:
        say(f"reusing the {stored:,} events in {analytics.stream_name()}")
    else:
        seconds = load(args.events)
        say(f"loaded {args.events:,} events in {seconds:.1f} s ({args.events / seconds:,.0f}/s)")
        # Let the merges after a bulk load settle: they are not what a console user waits on.
        es().indices.forcemerge(index=analytics.stream_name(), max_num_segments=1)
    cookie = session_cookie()
    server = Gunicorn(workers=1, env=ENV)
    stream = analytics.stream_name()
    try:
        clicks, position, engaged = page_engagement(page(server.port, "30d", cookie)[1])
        stored = clicks_stored(stream, since=timedelta(days=30))
        rows = []
        for window in WINDOWS:
            for _ in range(2):  # warm-up: connections, templates
                page_ms(server.port, window, cookie)
            cold, live, aggs = [], [], []
            # Interleaved, so a busy moment on the shared machine lands on all three alike.
            for _ in range(args.samples):
                es().indices.clear_cache(index=stream, request=True)
                cold.append(page_ms(server.port, window, cookie))
                live_traffic()
                live.append(page_ms(server.port, window, cookie))
                es().indices.clear_cache(index=stream, request=True)
                aggs.append(aggregation_ms(window))
            rows.append(
                (
                    window,
                    percentile(cold, 50),
                    percentile(cold, 95),
                    percentile(live, 50),
                    percentile(live, 95),
                    percentile(aggs, 50),
                )
            )
    finally:
        stop_all(server)
    say(
        f"analytics page on {args.events:,} events in daily backing indices, {args.samples}"
        " samples per window (cold: request cache cleared; live: new events in the write index"
        " just before; agg: the page's Elasticsearch requests, cold, from this process):"
    )
    print(
        f"  {'window':<7}{'cold p50':>10}{'cold p95':>10}{'live p50':>10}{'live p95':>10}"
        f"{'agg p50':>10}{'cold/agg':>10}"
    )
    for window, cold50, cold95, live50, live95, agg in rows:
        print(
            f"  {window:<7}{cold50:>8.0f}ms{cold95:>8.0f}ms{live50:>8.0f}ms{live95:>8.0f}ms"
            f"{agg:>8.0f}ms{cold50 / agg:>10.2f}"
        )
    say(
        f"engagement on the 30d page: {clicks:,} clicks, average click position {position},"
        f" {engaged} of its top queries with clicks"
    )
    if not clicks or not engaged:
        raise SystemExit("the 30d page shows no engagement: the bench does not exercise it")
    if clicks != stored:
        raise SystemExit(f"the 30d page counts {clicks:,} clicks; the stream holds {stored:,}")
    worst = max(max(row[1], row[3]) for row in rows)
    verdict = "met" if worst < TARGET_P50_MS else "MISSED"
    say(f"target page p50 < {TARGET_P50_MS} ms on every window: {verdict} (worst {worst:.0f} ms)")
    say(f"load average {load_average()}")


if __name__ == "__main__":
    main()
