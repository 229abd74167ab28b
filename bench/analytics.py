"""Search analytics benchmark: what recording an event costs a search request, and what a dead
analytics sink costs.

Three gunicorn servers on the same catalog and index, in one run: analytics off, on (events
bulk-written to the data stream), and on with the sink dead (the writer pointed at a closed
port, so every batch is refused and dropped). Closed-loop clients send the same search mix to
each in interleaved rounds, so a busy moment on the shared machine lands on all three alike.
Then, in this process, the cost of one `search_recorded` call on its own.

  .venv/bin/python bench/analytics.py [--clients 2] [--rounds 3] [--seconds 5]

The catalog (`seed_data --products 5000 --stores 5 --seed 1`) lives in its own database,
`aisle_bench_analytics` (BENCH_ANALYTICS_DATABASE_URL), reused while it has that many products;
the index is built behind a `bench-analytics-` alias and deleted at the end, and the events go
to the `bench-analytics-aisle-search-events` data stream, emptied at the start.
"""

import argparse
import http.client
import itertools
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402 - needs the repo on sys.path
    Catalog,
    Gunicorn,
    database_prepare,
    django_env,
    index_prefix,
    manage,
    percentile,
    redis_delete,
    run_clients,
    sized,
    stop_all,
)

PRODUCTS = sized(5_000, 300)
STORES = sized(5, 3)
SEED = 1
DATABASE_URL = os.environ.get(
    "BENCH_ANALYTICS_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_analytics"
)
REDIS_URL = os.environ.get("BENCH_ANALYTICS_REDIS_URL", "redis://127.0.0.1:6379/14")
INDEX_PREFIX = index_prefix("bench-analytics-")
CACHE_PREFIX = f"aisle-bench-analytics-{os.getpid()}"
DEAD_SINK = "http://127.0.0.1:1"  # nothing listens on port 1

ENV = {
    **os.environ,
    **django_env(
        database_url=DATABASE_URL,
        redis_url=REDIS_URL,
        index_prefix=INDEX_PREFIX,
        cache_prefix=CACHE_PREFIX,
    ),
}
os.environ.update(ENV)

import django  # noqa: E402 - settings come from the environment set just above

django.setup()

from django.conf import settings  # noqa: E402

from inventory.models import Store  # noqa: E402
from searchindex import analytics  # noqa: E402
from searchindex.client import ALIAS, admin_client  # noqa: E402

MODES = {
    "off": {"SEARCH_ANALYTICS_ENABLED": "false"},
    "on": {"SEARCH_ANALYTICS_ENABLED": "true"},
    "dead sink": {"SEARCH_ANALYTICS_ENABLED": "true", "SEARCH_ANALYTICS_URL": DEAD_SINK},
}
QUERIES = ["milk", "green tea", "bread", "chocolate", "coffee beans", "rice", "xqzv", ""]


def say(message: str) -> None:
    print(message, flush=True)


def es():
    return admin_client(timeout=120)


def stream_empty() -> None:
    """The node cannot delete a data stream (no data-streams module): roll it over and delete
    the older backing indices instead."""
    stream = analytics.stream_name()
    if not es().indices.exists(index=stream):
        return
    es().indices.rollover(alias=stream)
    backing = es().indices.resolve_index(name=stream, expand_wildcards="all")["data_streams"][0][
        "backing_indices"
    ]
    if len(backing) > 1:
        es().indices.delete(index=",".join(backing[:-1]))


def search_mix() -> list[dict[str, str]]:
    stores = list(Store.objects.order_by("id").values_list("id", flat=True))
    mix = []
    for number, q in enumerate(QUERIES):
        params = {"q": q} if q else {}
        if number % 2:
            params.update(store_id=str(stores[number % len(stores)]), in_stock="true")
        mix.append(params)
    return mix


def api_get(port: int, params: dict[str, str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", f"/api/search/products/?{urlencode(params)}")
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{params}: {response.status} {body[:200]!r}")


def record_cost(events: int = sized(20_000, 500)) -> float:
    """Microseconds per `search_recorded` call in this process (the queue never drains: the
    writer's interval is an hour and its sink dead, so full-queue drops are timed too)."""
    settings.SEARCH_ANALYTICS_ENABLED = True
    settings.SEARCH_ANALYTICS_URL = DEAD_SINK
    settings.SEARCH_ANALYTICS_FLUSH_SECONDS = 3600
    analytics.writer_reset()
    request = SimpleNamespace(auth=SimpleNamespace(name="bench"))
    query = SimpleNamespace(
        q="Green  Tea",
        category=None,
        min_price=None,
        max_price=None,
        in_stock=True,
        sort=None,
        store_id=3,
        page=1,
    )
    result = SimpleNamespace(count=12, took_ms=4)
    started = time.perf_counter()
    for _ in range(events):
        analytics.search_recorded(request, query, result)
    elapsed = time.perf_counter() - started
    analytics.writer_reset()
    return elapsed / events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=sized(3, 1), help="interleaved rounds per mode"
    )
    parser.add_argument("--seconds", type=float, default=sized(5, 0.5), help="length of one round")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers per server")
    args = parser.parse_args()

    database_prepare(env=ENV, catalog=Catalog(PRODUCTS, STORES, SEED), say=say)
    say("index: rebuild_index into the bench alias")
    manage("rebuild_index", env=ENV)
    stream_empty()
    mix = search_mix()
    servers = {
        mode: Gunicorn(workers=args.workers, env={**ENV, **extra}) for mode, extra in MODES.items()
    }
    samples: dict[str, list[float]] = {mode: [] for mode in MODES}
    try:
        for server in servers.values():  # warm-up: connections, caches, the writer's template
            for params in mix * 3:
                api_get(server.port, params)
        time.sleep(2)  # the "on" server's first flush creates the data stream
        measured_from = datetime.now(UTC).isoformat()
        for round_number in range(args.rounds):
            for mode, server in servers.items():
                # A def, not a lambda: mypy cannot infer a lambda with a bound default.
                def connect(_client: int, port: int = server.port) -> int:
                    return port

                run = run_clients(
                    args.clients,
                    lambda port, params: api_get(port, params),
                    jobs=lambda _client: itertools.cycle(mix),
                    connect=connect,
                    seconds=args.seconds,
                ).raise_on_errors()
                samples[mode].extend(run.samples)
            say(f"round {round_number + 1}/{args.rounds} done")
        time.sleep(2 * settings.SEARCH_ANALYTICS_FLUSH_SECONDS + 1)  # the last batch lands
    finally:
        stop_all(*servers.values())
        # No worker runs here: what the run enqueued (index drains) is dropped with its cache.
        redis_delete(REDIS_URL, f"{CACHE_PREFIX}:*", "celery*", "_kombu*", "unacked*")
    stream = analytics.stream_name()
    es().indices.refresh(index=stream)
    since_warm_up = {"range": {"@timestamp": {"gte": measured_from}}}
    stored = es().count(index=stream, query=since_warm_up)["count"]
    es().indices.delete(index=f"{ALIAS}*", ignore_unavailable=True, allow_no_indices=True)

    say("")
    say(
        f"search API, {args.clients} clients x {args.rounds} rounds x {args.seconds:g} s per mode,"
        f" {args.workers} gunicorn worker(s) per server, load {os.getloadavg()[0]:.2f}"
    )
    say(f"  {'mode':<10} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8}")
    p50 = {}
    for mode, times in samples.items():
        p50[mode] = percentile(times, 50) * 1000
        p95 = percentile(times, 95) * 1000
        say(f"  {mode:<10} {len(times):>9} {p50[mode]:>8.2f} {p95:>8.2f}")
    say(f"  overhead, on vs off:        {p50['on'] - p50['off']:+.2f} ms at p50")
    say(f"  overhead, dead sink vs off: {p50['dead sink'] - p50['off']:+.2f} ms at p50")
    say(f"  events stored from the 'on' server: {stored} of {len(samples['on'])} measured requests")
    say(f"  one search_recorded call in-process: {record_cost():.1f} us")


if __name__ == "__main__":
    main()
