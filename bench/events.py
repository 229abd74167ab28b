"""Search events benchmark: events accepted per second over HTTP, and hot-SKU orders with and
without a `query_id` on every line.

Against a live gunicorn on loopback (started and stopped here), in its own database:

  (a) 8 clients in a closed loop POST batches of 20 events (clicks on shown hits, add-to-carts,
      conversions, each with its own event_id) to /api/search/events/: events accepted per
      second, request p50/p99, and then the shipment of everything accepted to the data stream
      (in-process, timed): every accepted event must be pending in Postgres, then shipped once;
  (b) single-unit orders on ONE product at ONE store from 16 clients, alternating rounds without
      and with a valid `query_id` on the line: orders/s each way and their ratio.

  .venv/bin/python bench/events.py [--seconds 5] [--rounds 3] [--workers 4] [--smoke]

`--smoke` runs each part for about a second (a test runs it). Environment: BENCH_DATABASE_URL
(default postgres://aisle:aisle@127.0.0.1:5432/aisle_bench), BENCH_EVENTS_REDIS_URL (default
redis://127.0.0.1:6379/12), BENCH_EVENTS_BROKER_URL (default redis://127.0.0.1:6379/13; the
messages nobody consumed are deleted at the end).
"""

import argparse
import http.client
import itertools
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402 - needs the repo on sys.path
    CpuMeter,
    Gunicorn,
    database_prepare,
    django_env,
    load_average,
    percentile,
    redis_delete,
    run_clients,
)

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_bench"
)
REDIS_URL = os.environ.get("BENCH_EVENTS_REDIS_URL", "redis://127.0.0.1:6379/12")
BROKER_URL = os.environ.get("BENCH_EVENTS_BROKER_URL", "redis://127.0.0.1:6379/13")
DB_NAME = urlparse(DATABASE_URL).path.lstrip("/")
STREAM = f"bench-{DB_NAME.replace('_', '-')}-search-events"
CALLER = "ip:127.0.0.1"  # every client calls from loopback without a key
SEARCHES = 100
HITS = 20
BATCH = 20
ENV = {
    **django_env(
        database_url=DATABASE_URL,
        redis_url=REDIS_URL,
        index_prefix="bench-events-",
        cache_prefix="aisle-bench-events",
        broker_url=BROKER_URL,
    ),
    "SEARCH_EVENTS_THROTTLE_RATE": "100000000/min",
    "SEARCH_ANALYTICS_DATA_STREAM": STREAM,
    "DATABASE_CONN_MAX_AGE": "600",
}
os.environ.update(ENV)

import django  # noqa: E402 - configured by the environment above

django.setup()

from django.db import connection  # noqa: E402
from elasticsearch import Elasticsearch  # noqa: E402

from bench import orders as order_bench  # noqa: E402
from searchevents.hits import hits_remember  # noqa: E402
from searchevents.models import PendingSearchEvent  # noqa: E402
from searchevents.query_ids import Kind, query_id_issue  # noqa: E402
from searchevents.shipping import events_ship  # noqa: E402
from searchindex.analytics import stream_emptied  # noqa: E402


def searches(product_ids: list[int]) -> list[tuple[str, list[int]]]:
    """Tokens for the bench's caller, each with 20 shown hits kept as a search would keep them."""
    issued = []
    for n in range(SEARCHES):
        token = query_id_issue(caller=CALLER, kind=Kind.SEARCH)
        shown = [product_ids[(n + i) % len(product_ids)] for i in range(HITS)]
        hits_remember(
            search_id=token.search_id,
            product_ids=shown,
            first_position=1,
            query=f"q{n}",
            store_id=None,
        )
        issued.append((token.token, shown))
    return issued


def batch(issued: list[tuple[str, list[int]]], n: int) -> bytes:
    """12 clicks, 5 add-to-carts and 3 conversions, on one search's hits."""
    token, shown = issued[n % len(issued)]
    events = []
    for i in range(BATCH):
        kind = "click" if i < 12 else "add_to_cart" if i < 17 else "conversion"
        position = i % HITS + 1
        events.append(
            {
                "type": kind,
                "query_id": token,
                "product_id": shown[position - 1],
                "position": position,
                "event_id": uuid.uuid4().hex,
            }
        )
    return json.dumps({"events": events}).encode()


def paced(batches_per_second: float, clients: int) -> Callable[[int], Iterator[None]]:
    """Client i's jobs at `batches_per_second` / `clients` each, staggered: the offered load a
    storefront fleet sends, not as fast as answers come. The wait happens before a job is handed
    out, so it is not timed; a client behind schedule sends at once."""
    interval = clients / batches_per_second

    def jobs(client: int) -> Iterator[None]:
        due = time.perf_counter() + interval * client / clients
        while True:
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            yield None
            due += interval

    return jobs


def events_throughput(
    port: int, meter: CpuMeter, clients: int, seconds: float, *, rate: float | None = None
) -> dict:
    """Batches of events from `clients` connections for `seconds`: as fast as they are answered,
    or at `rate` events per second in all."""
    issued = searches(list(range(1, 200)))
    counter = itertools.count()

    def post(conn: http.client.HTTPConnection, _job: object) -> int:
        body = batch(issued, next(counter))
        conn.request(
            "POST", "/api/search/events/", body=body, headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        answer = json.loads(response.read())
        if response.status != 202 or answer != {"accepted": BATCH, "rejected": []}:
            raise RuntimeError(f"unexpected answer {response.status}: {str(answer)[:200]}")
        return answer["accepted"]

    run = run_clients(
        clients,
        post,
        jobs=paced(rate / BATCH, clients) if rate else lambda _client: itertools.repeat(None),
        connect=lambda _: http.client.HTTPConnection("127.0.0.1", port, timeout=30),
        seconds=seconds,
        meter=meter,
    )
    latencies = [s * 1000 for s in run.samples]
    accepted = sum(run.outcomes)
    return {
        "accepted": accepted,
        "events_per_s": accepted / run.elapsed,
        "p50": percentile(latencies, 50) if latencies else float("nan"),
        "p99": percentile(latencies, 99) if latencies else float("nan"),
        "errors": run.errors,
        "cpu_ms": run.cpu_ms_per_op(),
    }


def orders_ab(port: int, meter: CpuMeter, rounds: int, seconds: float, clients: int) -> dict:
    fx = order_bench.fixtures()
    hot = fx["Bench Hot Item"]
    token = query_id_issue(caller=CALLER, kind=Kind.SEARCH).token
    plain = order_bench.order_body(fx["store_id"], [(hot, 1)])
    attributed = json.dumps(
        {
            "store_id": fx["store_id"],
            "items": [{"product_id": hot, "quantity_requested": 1, "query_id": token}],
        }
    ).encode()
    rates: dict[str, list[float]] = {"without": [], "with": []}
    cpu: dict[str, list[float]] = {"without": [], "with": []}
    errors = 0
    for _ in range(rounds):
        for label, body in (("without", plain), ("with", attributed)):
            figures = order_bench.http_orders(port, meter, [body], clients, seconds)
            rates[label].append(figures["rate"])
            cpu[label].append(figures["web_cpu_ms"] + figures["db_cpu_ms"])
            errors += figures["errors"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE query_id IS NOT NULL), count(*) FROM ordering_orderitem"
        )
        attributed_lines, lines = cursor.fetchone()
    return {
        "rates": rates,
        "cpu": cpu,
        "errors": errors,
        "attributed": attributed_lines,
        "lines": lines,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3, help="orders: rounds of each kind")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--smoke", action="store_true", help="about a second per part")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rounds, args.workers = 1.0, 1, 2
    failures = []

    print(f"database {DB_NAME}: creating/migrating ...")
    database_prepare(env=ENV)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE searchevents_pendingsearchevent, searchevents_acceptedeventid")
    es = Elasticsearch(os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200"))
    es = es.options(request_timeout=60)
    stream_emptied(es, STREAM)
    redis_delete(REDIS_URL, "aisle-bench-events:*")
    started = time.monotonic()
    print(f"machine: {os.cpu_count()} CPUs, load average at start {load_average()}")
    server = Gunicorn(workers=args.workers, env=ENV)
    meter = CpuMeter(server=server.pid, database_url=DATABASE_URL)
    try:
        clients = 2 if args.smoke else 8
        print(
            f"\n(a) POST /api/search/events/, {clients} clients, batches of {BATCH},"
            f" {args.seconds:.0f} s (gunicorn, {args.workers} sync workers, loopback):"
        )
        events = events_throughput(server.port, meter, clients, args.seconds)
        cpu = events["cpu_ms"]
        print(
            f"    as fast as answered: accepted {events['accepted']} events:"
            f" {events['events_per_s']:.0f} events/s (target 1,000), request p50"
            f" {events['p50']:.1f} ms, p99 {events['p99']:.1f} ms, errors {len(events['errors'])}"
            f"\n    CPU per request: web {cpu.get('web', 0):.2f} ms, Postgres"
            f" {cpu.get('db', 0):.2f} ms, client {cpu.get('client', 0):.2f} ms"
        )
        target = 200.0 if args.smoke else 1_000.0
        steady = events_throughput(server.port, meter, clients, args.seconds, rate=target)
        print(
            f"    at the target rate, {target:,.0f} events/s offered: accepted"
            f" {steady['events_per_s']:.0f} events/s, request p50 {steady['p50']:.1f} ms,"
            f" p99 {steady['p99']:.1f} ms (target < 50), errors {len(steady['errors'])}"
        )
        events["accepted"] += steady["accepted"]
        events["errors"] += steady["errors"]
        pending = PendingSearchEvent.objects.count()
        shipping_started = time.perf_counter()
        shipped = events_ship()
        took = time.perf_counter() - shipping_started
        es.indices.refresh(index=STREAM)
        in_stream = es.count(index=STREAM, query={"exists": {"field": "event_type"}})["count"]
        print(
            f"    durable: {pending} pending in Postgres after the run; shipped {shipped.shipped}"
            f" in {took:.2f} s ({shipped.shipped / max(took, 1e-9):.0f} events/s), in the data"
            f" stream {in_stream}"
        )
        if events["errors"]:
            failures.append(f"events: {len(events['errors'])} errors, {events['errors'][0]}")
        if not pending == shipped.shipped == in_stream == events["accepted"]:
            failures.append("events: accepted, pending, shipped and stored differ")

        print(
            f"\n(b) hot-SKU single-unit orders, 16 clients, {args.rounds} alternating rounds of"
            f" {args.seconds:.0f} s without and with a query_id on the line:"
        )
        ab = orders_ab(server.port, meter, args.rounds, args.seconds, 2 if args.smoke else 16)
        without, with_ = (statistics.median(ab["rates"][k]) for k in ("without", "with"))
        cpu_without, cpu_with = (statistics.median(ab["cpu"][k]) for k in ("without", "with"))
        print(
            "    rounds without: "
            + ", ".join(f"{r:.0f}" for r in ab["rates"]["without"])
            + " orders/s; with: "
            + ", ".join(f"{r:.0f}" for r in ab["rates"]["with"])
            + f" orders/s\n    median without {without:.0f}, with {with_:.0f}:"
            f" with/without {with_ / without:.3f} (target >= 0.95); attributed lines"
            f" {ab['attributed']} of {ab['lines']}; errors {ab['errors']}"
            f"\n    server CPU per order (web + Postgres), median: without {cpu_without:.2f} ms,"
            f" with {cpu_with:.2f} ms: with/without {cpu_with / cpu_without:.3f}"
        )
        if ab["errors"]:
            failures.append(f"orders: {ab['errors']} errors")
        if ab["attributed"] == 0:
            failures.append("orders: no line was attributed")
    finally:
        server.stop()
        redis_delete(BROKER_URL, "celery")  # the shipment and confirmation messages
    print(f"\nload average at end {load_average()}; took {time.monotonic() - started:.0f} s")
    if failures:
        raise SystemExit("FAILED: " + "; ".join(failures))


if __name__ == "__main__":
    main()
