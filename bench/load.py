"""Mixed load run: search, suggest, listings and orders against a live gunicorn, then invariants.

`make load` (or `.venv/bin/python bench/load.py --duration 60`). The script owns everything it
uses: a dedicated database (dropped and re-created), its own Redis databases and index prefix,
a gunicorn and two Celery workers (the default queue with beat; the index queue) on loopback,
all stopped at the end. The clients are threads in this process, so the server runs in other
processes. It prints throughput, p50/p99 per endpoint and status counts, then checks, over
every (store, product): initial stock = current stock + confirmed quantities, no negative stock,
and that the index's availability equals Postgres once the outbox has drained. Exit status 1 if
any check fails.
"""

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

ENV = {
    "AISLE_ENV": "development",
    "DJANGO_DEBUG": "false",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DATABASE_URL": os.environ.get(
        "LOAD_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_load"
    ),
    "REDIS_URL": os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/12"),
    "CELERY_BROKER_URL": os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/13"),
    "ELASTICSEARCH_INDEX_PREFIX": os.environ.get("LOAD_INDEX_PREFIX", "load-"),
    "LOG_LEVEL": "WARNING",
    # One loopback address is every client here: per-client limits would measure the limiter.
    "SEARCH_THROTTLE_RATE": "1000000/min",
    "SUGGEST_THROTTLE_RATE": "1000000/min",
}
os.environ.update(ENV)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402 - needs the repo on sys.path
    Catalog,
    Gunicorn,
    Run,
    celery_workers,
    database_prepare,
    manage,
    percentile,
    redis_delete,
    run_clients,
    sized,
    stop_all,
)

ENDPOINT_WEIGHTS = {"search": 35, "suggest": 25, "listing": 20, "order": 20}
HOT_STOCK = 40  # per hot SKU: small enough that the hot SKUs sell out during a run


def prepare(products: int, stores: int) -> dict:
    """Seed, make a few hot SKUs scarce, index; return what the clients and the checks need."""
    database_prepare(env=os.environ, recreate=True, catalog=Catalog(products, stores, seed=7))
    redis_delete(ENV["REDIS_URL"], "*")
    redis_delete(ENV["CELERY_BROKER_URL"], "*")

    from catalog.models import Product
    from inventory.models import Inventory, Store

    hot_store = Store.objects.order_by("id").first()
    if hot_store is None:
        raise RuntimeError("the seeded catalog has no store")
    hot_rows = list(Inventory.objects.filter(store=hot_store).order_by("product_id")[:5])
    Inventory.objects.filter(pk__in=[row.pk for row in hot_rows]).update(quantity=HOT_STOCK)
    manage("rebuild_index", env=os.environ)

    stock = {
        (row["store_id"], row["product_id"]): row["quantity"]
        for row in Inventory.objects.values("store_id", "product_id", "quantity")
    }
    titles = list(Product.objects.values_list("title", flat=True))
    return {
        "initial_stock": stock,
        "hot": [(hot_store.id, row.product_id) for row in hot_rows],
        "cold": [key for key, qty in stock.items() if qty > 0 and key[0] != hot_store.id],
        "store_ids": list(Store.objects.values_list("id", flat=True)),
        "words": sorted(
            {word for title in titles for word in title.lower().split() if len(word) > 2}
        ),
    }


def request(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload else {}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def request_mix(plan: dict, seed: int) -> Iterator[tuple[str, str, dict | None]]:
    """One client's endless mix of requests: (endpoint label, path, order body or None)."""
    rng = random.Random(seed)
    endpoints, weights = zip(*ENDPOINT_WEIGHTS.items(), strict=True)
    while True:
        endpoint = rng.choices(endpoints, weights)[0]
        body = None
        if endpoint == "search":
            path = "/api/search/products/?" + urlencode({"q": rng.choice(plan["words"])})
        elif endpoint == "suggest":
            path = "/api/search/suggest/?" + urlencode({"q": rng.choice(plan["words"])[:4]})
        elif endpoint == "listing":
            page = rng.randint(1, 3)
            path = f"/stores/{rng.choice(plan['store_ids'])}/inventory/?page_size=100&page={page}"
        else:
            hot = rng.random() < 0.5 or not plan["cold"]
            # Hot orders take 1-3 of the same few SKUs in random order: lock contention, and
            # a deadlock if rows were ever locked in request order instead of product id order.
            lines = (
                rng.sample(plan["hot"], rng.randint(1, 3)) if hot else [rng.choice(plan["cold"])]
            )
            endpoint = "order_hot" if hot else "order_cold"
            path = "/orders/"
            body = {
                "store_id": lines[0][0],
                "items": [
                    {"product_id": product_id, "quantity_requested": rng.randint(1, 3)}
                    for _, product_id in lines
                ],
            }
        yield endpoint, path, body


def send(port: int, job: tuple[str, str, dict | None]) -> tuple[str, int | str]:
    """Send one request of the mix: (endpoint label, status)."""
    endpoint, path, body = job
    try:
        status, content = request(port, "POST" if body else "GET", path, body)
    except OSError:
        return endpoint, 0  # connection refused/reset/timeout: counted, never hidden
    if body is not None and status == 201:
        # Both outcomes are a 201; the split shows how often the hot SKUs ran out.
        return endpoint, f"201 {json.loads(content).get('status', '?')}"
    return endpoint, status


def report(run: Run) -> int:
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter] = defaultdict(Counter)
    for seconds, (endpoint, status) in zip(run.samples, run.outcomes, strict=True):
        latencies[endpoint].append(seconds)
        statuses[endpoint][status] += 1
    print(f"\n{'endpoint':<12}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    total = 0
    server_errors = 0
    for endpoint in sorted(latencies):
        samples = latencies[endpoint]
        total += len(samples)
        # 5xx and 0 (no answer at all); "201 CONFIRMED"-style labels are successes.
        server_errors += sum(
            n
            for status, n in statuses[endpoint].items()
            if isinstance(status, int) and not 0 < status < 500
        )
        print(
            f"{endpoint:<12}{len(samples):>10}{len(samples) / run.elapsed:>9.1f}"
            f"{percentile(samples, 50) * 1000:>9.1f}{percentile(samples, 99) * 1000:>9.1f}"
            f"  {dict(sorted(statuses[endpoint].items(), key=lambda item: str(item[0])))}"
        )
    print(f"{'all':<12}{total:>10}{total / run.elapsed:>9.1f}")
    return server_errors + len(run.errors)


def stock_invariant(initial: dict) -> tuple[int, int]:
    """(rows where initial != current + confirmed, rows below zero) over every (store, product)."""
    from django.db.models import Sum

    from inventory.models import Inventory
    from ordering.models import OrderItem

    confirmed = {
        (row["order__store_id"], row["product_id"]): row["total"]
        for row in OrderItem.objects.filter(order__status="CONFIRMED")
        .values("order__store_id", "product_id")
        .annotate(total=Sum("quantity_requested"))
    }
    current = {
        (row["store_id"], row["product_id"]): row["quantity"]
        for row in Inventory.objects.values("store_id", "product_id", "quantity")
    }
    keys = set(initial) | set(current) | set(confirmed)
    broken = sum(
        1 for key in keys if initial.get(key, 0) != current.get(key, 0) + confirmed.get(key, 0)
    )
    negative = sum(1 for quantity in current.values() if quantity < 0)
    return broken, negative


def index_drift() -> int:
    """Products whose indexed availability differs from Postgres (or are missing/extra)."""

    from searchindex.client import ALIAS, es_client
    from searchindex.documents import products_for_indexing

    es = es_client()
    es.indices.refresh(index=ALIAS)
    indexed = {}
    for hit in es.options(request_timeout=30).search(
        index=ALIAS, size=10_000, source_includes=["in_stock_store_ids"], query={"match_all": {}}
    )["hits"]["hits"]:
        indexed[int(hit["_id"])] = sorted(hit["_source"].get("in_stock_store_ids") or [])
    truth = {
        # stocked_store_ids is an annotation of products_for_indexing, unknown to the model type.
        p.id: sorted(p.stocked_store_ids)  # type: ignore[attr-defined]
        for p in products_for_indexing()
    }
    return sum(1 for pid in set(truth) | set(indexed) if truth.get(pid) != indexed.get(pid))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=sized(60, 2), help="seconds of load (max 600)"
    )
    parser.add_argument("--clients", type=int, default=sized(16, 4))
    parser.add_argument("--web-workers", type=int, default=sized(3, 2))
    parser.add_argument("--products", type=int, default=sized(1000, 100))
    parser.add_argument("--stores", type=int, default=sized(20, 3))
    parser.add_argument("--drain-timeout", type=float, default=60)
    args = parser.parse_args()
    duration = min(args.duration, 600)

    import django

    django.setup()
    print(f"[load] preparing {ENV['DATABASE_URL'].rsplit('/', 1)[-1]}: seed, hot SKUs, index")
    plan = prepare(args.products, args.stores)
    logs = Path(tempfile.mkdtemp(prefix="aisle-load-"))
    schedule = str(logs / "beat-schedule")
    workers = celery_workers("-B", "--schedule", schedule, env=os.environ, logs=logs, concurrency=1)
    try:
        web = Gunicorn(
            workers=args.web_workers, env=os.environ, log=logs / "web.log", ready_path="/readyz"
        )
    except SystemExit:
        stop_all(*workers)
        raise
    try:
        print(f"[load] {args.clients} clients for {duration:.0f} s on 127.0.0.1:{web.port}")
        run = run_clients(
            args.clients,
            lambda _state, job: send(web.port, job),
            jobs=lambda client: request_mix(plan, seed=client),
            seconds=duration,
        )
        server_errors = report(run)

        drain_deadline = time.monotonic() + args.drain_timeout
        drift = index_drift()
        while drift and time.monotonic() < drain_deadline:
            time.sleep(2)
            drift = index_drift()
    finally:
        stop_all(web, *workers)

    broken, negative = stock_invariant(plan["initial_stock"])
    print(f"\n[load] stock invariant: {broken} rows broken, {negative} negative (oversold)")
    print(f"[load] unexpected 5xx / connection errors: {server_errors}")
    print(f"[load] index drift after drain: {drift} products")
    print(f"[load] server logs: {logs}")
    return 1 if (broken or negative or server_errors or drift) else 0


if __name__ == "__main__":
    sys.exit(main())
