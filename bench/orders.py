"""Order placement benchmark: HTTP latency, and hot-product throughput against a raw UPDATE loop.

Runs against the real Postgres in its own database (`aisle_bench` by default, created and
migrated here) through a live gunicorn on loopback, started and stopped by this script:

  (a) uncontended latency (p50/p99) of a 3-line order, one client, POST /orders/ over HTTP;
  (b) throughput of single-unit orders on ONE product at ONE store with 16 and 64 concurrent
      HTTP clients, side by side with the physical limit for that row: the same number of
      psycopg clients looping `UPDATE ... SET quantity = quantity - 1 WHERE ... AND quantity >= 1`
      in autocommit; prints orders/s, updates/s and their ratio, and checks 0 oversold, 0 errors.
      Beside them, two floors from the same clients: one order's own SQL sent by psycopg (what
      any implementation storing orders must at least do) and GET /healthz through the same
      gunicorn (what any endpoint costs);
  (c) where one uncontended order's time goes, in-process.

  .venv/bin/python bench/orders.py [--seconds 6] [--clients 16,64] [--workers 4]

Environment: BENCH_DATABASE_URL (default postgres://aisle:aisle@127.0.0.1:5432/aisle_bench),
BENCH_REDIS_URL (cache, default redis://127.0.0.1:6379/12), BENCH_BROKER_URL (Celery broker,
default redis://127.0.0.1:6379/13; the confirmation messages it collects are deleted at the end).
"""

import argparse
import http.client
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402 - needs the repo on sys.path
    UNTHROTTLED,
    CpuMeter,
    Gunicorn,
    Run,
    database_prepare,
    forever,
    load_average,
    one,
    percentile,
    redis_delete,
    run_clients,
    sized,
)

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
HOT_STOCK = 50_000_000
SPREAD_PRODUCTS = 64
SELLOUT_STOCK = sized(300, 20)
SELLOUT_ORDERS = sized(450, 30)
SELLOUT_CLIENTS = sized(16, 4)
WARM_UP = sized(30, 5)  # requests before any measurement, so every worker has connected


def server_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": "aisle-bench",
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_DEBUG": "false",
        # Persistent connections (as in production) also keep each worker on one backend, whose
        # CPU time the benchmark reads.
        "DATABASE_CONN_MAX_AGE": "600",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        # Every client here is one anonymous caller on 127.0.0.1; in the servers and in (c)'s
        # in-process Django alike, the per-caller throttles run (their cost is measured) but
        # never answer 429.
        **UNTHROTTLED,
    }


def fixtures() -> dict[str, int]:
    """A bench store: three everyday products, a hot one, one per client for the spread run and
    one with few units for the sell-out run. Orders are deleted and stock reset on every run."""
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE ordering_idempotencyrecord, ordering_orderitem, ordering_order CASCADE"
        )
        category = one(
            conn.execute(
                "INSERT INTO catalog_category (name, slug, created_at, updated_at)"
                " VALUES ('Bench', 'bench', now(), now())"
                " ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name RETURNING id"
            )
        )[0]
        store = conn.execute(
            "SELECT id FROM inventory_store WHERE name = 'Bench store' ORDER BY id LIMIT 1"
        ).fetchone()
        if store is None:
            store = one(
                conn.execute(
                    "INSERT INTO inventory_store (name, created_at, updated_at)"
                    " VALUES ('Bench store', now(), now()) RETURNING id"
                )
            )
        store_id = store[0]
        products = {}
        titles = ["Bench Milk", "Bench Bread", "Bench Eggs", "Bench Hot Item", "Bench Last Units"]
        titles += [f"Bench Spread {n:02d}" for n in range(SPREAD_PRODUCTS)]
        for title in titles:
            row = conn.execute(
                "SELECT id FROM catalog_product WHERE title = %s ORDER BY id LIMIT 1", [title]
            ).fetchone()
            if row is None:
                row = one(
                    conn.execute(
                        "INSERT INTO catalog_product"
                        " (title, description, price, category_id, created_at, updated_at)"
                        " VALUES (%s, '', 2.50, %s, now(), now()) RETURNING id",
                        [title, category],
                    )
                )
            products[title] = row[0]
            conn.execute(
                "INSERT INTO inventory_inventory (store_id, product_id, quantity, updated_at)"
                " VALUES (%s, %s, %s, now()) ON CONFLICT (store_id, product_id)"
                " DO UPDATE SET quantity = EXCLUDED.quantity",
                [store_id, row[0], SELLOUT_STOCK if title.endswith("Last Units") else HOT_STOCK],
            )
        conn.execute("VACUUM ANALYZE inventory_inventory")
    return {"store_id": store_id, **products}


class PgClient:
    """A psycopg client of the bench database: one autocommit connection and its cursor."""

    def __init__(self) -> None:
        self.conn = psycopg.connect(DATABASE_URL, autocommit=True)
        self.cursor = self.conn.cursor()

    def close(self) -> None:
        self.conn.close()


def figures(run: Run) -> dict:
    """Operations per second, counts, and CPU per operation in ms: in all, and by part."""
    per_op = run.cpu_ms_per_op()
    return {
        "rate": run.rate,
        "ok": run.ok,
        "errors": len(run.errors),
        "cpu_ms": sum(per_op.values()),
        **{f"{part}_cpu_ms": ms for part, ms in per_op.items()},
    }


def post_order(
    conn: http.client.HTTPConnection, body: bytes, key: str | None = None
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    conn.request("POST", "/orders/", body=body, headers=headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def order_body(store_id: int, lines: list[tuple[int, int]]) -> bytes:
    items = [{"product_id": pid, "quantity_requested": q} for pid, q in lines]
    return json.dumps({"store_id": store_id, "items": items}).encode()


def latency(port: int, fx: dict[str, int], count: int, keyed: bool) -> list[float]:
    """Sequential 3-line orders from one client: every request meets an idle server."""
    body = order_body(
        fx["store_id"], [(fx["Bench Milk"], 2), (fx["Bench Bread"], 1), (fx["Bench Eggs"], 3)]
    )

    def place(conn: http.client.HTTPConnection, i: int) -> None:
        key = f"bench-{time.time_ns()}-{i}" if keyed else None
        status, data = post_order(conn, body, key)
        if status != 201 or data["status"] != "CONFIRMED":
            raise RuntimeError(f"unexpected answer {status}: {data}")

    run = run_clients(
        1,
        place,
        jobs=range(count + WARM_UP),
        connect=lambda _: http.client.HTTPConnection("127.0.0.1", port, timeout=30),
    ).raise_on_errors()
    return [seconds * 1000 for seconds in run.samples[WARM_UP:]]  # these warmed the workers


def http_orders(
    port: int,
    meter: CpuMeter,
    bodies: list[bytes],
    clients: int,
    seconds: float | None,
    per_client: int = 0,
) -> dict:
    """Clients post `bodies[client % len(bodies)]` in a loop; counts 201s (either status)."""

    def place(conn: http.client.HTTPConnection, body: bytes) -> None:
        try:
            status, data = post_order(conn, body)
        except (OSError, http.client.HTTPException, ValueError):
            conn.close()  # the next request reconnects
            raise
        if status != 201 or data.get("status") not in {"CONFIRMED", "REJECTED"}:
            raise RuntimeError(f"unexpected answer {status}: {data}")

    def jobs(client: int) -> itertools.repeat:
        body = bodies[client % len(bodies)]
        return itertools.repeat(body, per_client) if per_client else itertools.repeat(body)

    run = run_clients(
        clients,
        place,
        jobs=jobs,
        connect=lambda _: http.client.HTTPConnection("127.0.0.1", port, timeout=60),
        seconds=seconds,
        meter=meter,
    )
    return figures(run)


def raw_updates(fx: dict[str, int], clients: int, seconds: float) -> dict:
    """The physical limit for one row: autocommit conditional decrements, nothing else."""
    sql = (
        "UPDATE inventory_inventory SET quantity = quantity - 1"
        " WHERE store_id = %s AND product_id = %s AND quantity >= 1"
    )
    params = [fx["store_id"], fx["Bench Hot Item"]]

    def decrement(pg: PgClient, _job: None) -> None:
        pg.cursor.execute(sql, params, prepare=True)
        if pg.cursor.rowcount != 1:
            raise RuntimeError("no unit left to take")

    meter = CpuMeter(database_url=DATABASE_URL)
    run = run_clients(
        clients,
        decrement,
        jobs=forever(),
        connect=lambda _: PgClient(),
        seconds=seconds,
        meter=meter,
    )
    return figures(run)


# What one single-unit order sends Postgres (bench/orders.py (c) counts the statements), without
# Django: the checks before the transaction, then the writes, the lock and the deduction.
ORDER_READ = (  # the store and the products at once, as ordering.selectors.order_references
    "SELECT EXISTS (SELECT 1 FROM inventory_store WHERE id = %s), p.id, p.title, p.price"
    " FROM (VALUES (1)) AS one LEFT JOIN catalog_product p ON p.id = ANY(%s)"
)
ORDER_WRITES = (
    "INSERT INTO ordering_order (status, created_at, updated_at, store_id)"
    " VALUES ('CONFIRMED', now(), now(), %s) RETURNING id",
    "INSERT INTO ordering_orderitem"
    " (order_id, product_id, quantity_requested, unit_price, reject_reason)"
    " VALUES (%s, %s, 1, %s, '') RETURNING id",
    "SELECT id, quantity FROM inventory_inventory WHERE store_id = %s AND product_id = ANY(%s)"
    " ORDER BY product_id FOR UPDATE",
    "UPDATE inventory_inventory SET quantity = %s, updated_at = now() WHERE id = %s",
)


def raw_orders(fx: dict[str, int], clients: int, seconds: float) -> dict:
    """The floor under any order implementation on this stack: an order's own SQL, sent with
    psycopg by the same number of clients (no HTTP, no Django), on the hot product."""
    store_id, product_id = fx["store_id"], fx["Bench Hot Item"]

    def order(pg: PgClient, _job: None) -> None:
        cursor = pg.cursor
        found, _, _, price = one(cursor.execute(ORDER_READ, [store_id, [product_id]], prepare=True))
        if not found:
            raise RuntimeError("no such store")
        with pg.conn.transaction():
            order_id = one(cursor.execute(ORDER_WRITES[0], [store_id], prepare=True))[0]
            cursor.execute(ORDER_WRITES[1], [order_id, product_id, price], prepare=True)
            row_id, left = one(
                cursor.execute(ORDER_WRITES[2], [store_id, [product_id]], prepare=True)
            )
            if left < 1:
                raise RuntimeError("no unit left to take")  # rolls the order back
            cursor.execute(ORDER_WRITES[3], [left - 1, row_id], prepare=True)

    meter = CpuMeter(database_url=DATABASE_URL)
    run = run_clients(
        clients, order, jobs=forever(), connect=lambda _: PgClient(), seconds=seconds, meter=meter
    )
    return figures(run)


def http_healthz(server: Gunicorn, clients: int, seconds: float) -> dict:
    """The floor under any endpoint on this stack: GET /healthz (no database, no Redis) through
    the same gunicorn, Django middleware and DRF view dispatch."""

    def check(_state: None, _job: None) -> None:
        # gunicorn's sync workers close every connection, so each request opens one.
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise RuntimeError(f"unexpected answer {response.status}")

    meter = CpuMeter(server=server.pid)
    return figures(run_clients(clients, check, jobs=forever(), seconds=seconds, meter=meter))


def stock(fx: dict[str, int], title: str) -> int:
    with psycopg.connect(DATABASE_URL) as conn:
        return one(
            conn.execute(
                "SELECT quantity FROM inventory_inventory WHERE store_id = %s AND product_id = %s",
                [fx["store_id"], fx[title]],
            )
        )[0]


def confirmed_units(fx: dict[str, int], title: str) -> int:
    with psycopg.connect(DATABASE_URL) as conn:
        return one(
            conn.execute(
                "SELECT coalesce(sum(i.quantity_requested), 0) FROM ordering_orderitem i"
                " JOIN ordering_order o ON o.id = i.order_id"
                " WHERE o.status = 'CONFIRMED' AND o.store_id = %s AND i.product_id = %s",
                [fx["store_id"], fx[title]],
            )
        )[0]


def oversold(fx: dict[str, int], title: str, initial: int, other_units: int = 0) -> int:
    """Units that left the shelf without a confirmed order line (or raw UPDATE) to show for
    them, or the reverse: initial - current - confirmed - other; 0 when the invariant holds."""
    return initial - stock(fx, title) - confirmed_units(fx, title) - other_units


def cost_breakdown(fx: dict[str, int], count: int) -> list[tuple[str, float]]:
    """Where one uncontended single-unit order's time goes (the order of (b)), measured
    in-process (Django test client, no HTTP) by timing the pieces in place: ms per order."""
    os.environ.update(server_env())
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from config import broker
    from inventory import cache as inventory_cache
    from inventory import services as inventory_services
    from ordering import services, views

    spent: dict[str, float] = dict.fromkeys(
        ["sql", "commit", "publish", "bump", "render", "locked"], 0.0
    )
    lock_taken: list[float] = []

    def timed(name: str, func: Callable) -> Callable:
        def wrapper(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return wrapper

    statements = 0

    def sql_timer(execute: Callable, sql: str, params: object, many: bool, context: object):
        nonlocal statements
        statements += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent["sql"] += time.perf_counter() - started

    def lock_then_note(func: Callable) -> Callable:
        def wrapper(*args: object, **kwargs: object) -> object:
            lock_taken.append(time.perf_counter())
            return func(*args, **kwargs)

        return wrapper

    def commit_then_unlock(func: Callable) -> Callable:
        def wrapper(*args: object, **kwargs: object) -> object:
            try:
                return func(*args, **kwargs)
            finally:
                if lock_taken:  # the row locks end with this commit
                    spent["locked"] += time.perf_counter() - lock_taken.pop()

        return wrapper

    inventory_services.inventory_lock = lock_then_note(inventory_services.inventory_lock)
    broker.broker_publish = timed("publish", broker.broker_publish)
    services.placement_response = timed("render", services.placement_response)
    views.placement_response = timed("render", views.placement_response)
    inventory_cache.store_inventory_version_bump = timed(
        "bump", inventory_cache.store_inventory_version_bump
    )
    body = order_body(fx["store_id"], [(fx["Bench Hot Item"], 1)])
    client = Client()
    for _ in range(WARM_UP):
        response = client.post("/orders/", body, content_type="application/json")
        assert response.status_code == 201, response.content
    # Patched on this connection on purpose: the commit is one of the pieces timed.
    connection.commit = commit_then_unlock(timed("commit", connection.commit))  # type: ignore[method-assign]
    lock_taken.clear()
    for key in spent:
        spent[key] = 0.0
    statements = 0
    with connection.execute_wrapper(sql_timer):
        started = time.perf_counter()
        for _ in range(count):
            response = client.post("/orders/", body, content_type="application/json")
            assert response.status_code == 201, response.content
        total = time.perf_counter() - started
    per = {key: value / count * 1000 for key, value in spent.items()}
    rest = total / count * 1000 - per["sql"] - per["commit"] - per["publish"] - per["bump"]
    rest -= per["render"]
    return [
        ("total per order", total / count * 1000),
        (f"SQL statements ({statements / count:.0f} per order: round trip + server)", per["sql"]),
        ("COMMIT (WAL flush)", per["commit"]),
        ("Celery publish of send_order_confirmation", per["publish"]),
        ("cache version bump (Redis SET)", per["bump"]),
        ("response body (built by hand from the stored rows)", per["render"]),
        ("the rest: Django + DRF request handling, validation, ORM query building", rest),
        ("of all this, the stock rows are locked (SELECT FOR UPDATE .. COMMIT) for", per["locked"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=sized(5.0, 0.5), help="per throughput measurement"
    )
    parser.add_argument(
        "--clients", default=sized("16,64", "2"), help="comma-separated client counts"
    )
    parser.add_argument(
        "--workers", type=int, default=sized(4, 2), help="gunicorn worker processes"
    )
    parser.add_argument("--latency-orders", type=int, default=sized(300, 20))
    args = parser.parse_args()
    client_counts = [int(c) for c in args.clients.split(",")]

    print(f"database {urlparse(DATABASE_URL).path.lstrip('/')}: creating/migrating ...")
    database_prepare(env=server_env())
    fx = fixtures()
    started = time.monotonic()
    print(f"machine: {os.cpu_count()} CPUs, load average at start {load_average()}")
    server = Gunicorn(workers=args.workers, env=server_env())
    # The web workers and their Postgres backends: what an order costs the server side.
    meter = CpuMeter(server=server.pid, database_url=DATABASE_URL)
    failures = []
    try:
        print(
            f"\n(a) uncontended 3-line order, POST /orders/ over HTTP (gunicorn, {args.workers}"
            f" sync workers, loopback), {args.latency_orders} sequential requests:"
        )
        for keyed in (False, True):
            samples = latency(server.port, fx, args.latency_orders, keyed)
            label = "with a fresh Idempotency-Key" if keyed else "no Idempotency-Key"
            print(
                f"    {label:<29} p50 {percentile(samples, 50):6.2f} ms"
                f"   p99 {percentile(samples, 99):6.2f} ms"
                f"   mean {statistics.mean(samples):6.2f} ms"
            )

        print(
            "\n(b) single-unit orders, HTTP clients in a closed loop; 'hot' = every client orders"
            "\n    the same product at the same store, 'spread' = each client its own product,"
            "\n    'raw' = the same number of psycopg clients running only the conditional UPDATE:"
        )
        print(
            f"    {'clients':>7}  {'hot orders/s':>12}  {'spread orders/s':>15}"
            f"  {'raw UPDATE/s':>12}"
            f"  {'hot/raw':>7}  {'hot/spread':>10}  {'oversold':>8}  {'errors':>6}"
        )
        hot_body = order_body(fx["store_id"], [(fx["Bench Hot Item"], 1)])
        spread_bodies = [
            order_body(fx["store_id"], [(fx[f"Bench Spread {n:02d}"], 1)])
            for n in range(SPREAD_PRODUCTS)
        ]
        cpu_rows = []
        floors: list[tuple[int, dict, dict]] = []
        raw_units = 0  # the raw loop takes units from the hot product too, without orders
        for clients in client_counts:
            hot = http_orders(server.port, meter, [hot_body], clients, args.seconds)
            spread = http_orders(server.port, meter, spread_bodies, clients, args.seconds)
            raw = raw_updates(fx, clients, args.seconds)
            raw_units += raw["ok"]
            sold_wrong = oversold(fx, "Bench Hot Item", HOT_STOCK, raw_units)
            errors = hot["errors"] + spread["errors"] + raw["errors"]
            print(
                f"    {clients:>7}  {hot['rate']:>12.0f}  {spread['rate']:>15.0f}"
                f"  {raw['rate']:>12.0f}  {hot['rate'] / raw['rate']:>7.2f}"
                f"  {hot['rate'] / spread['rate']:>10.2f}  {sold_wrong:>8}  {errors:>6}"
            )
            cpu_rows.append((clients, hot, raw))
            if sold_wrong or errors:
                failures.append(f"{clients} clients: oversold {sold_wrong}, errors {errors}")

        print(
            "\n    floors, same run and clients: 'order SQL' = an order's statements (1 read, then"
            "\n    2 inserts, the lock, the update, the commit) by psycopg: no HTTP, no Django;"
            "\n    'GET /healthz' = the same gunicorn, middleware and DRF view, doing nothing:"
        )
        print(
            f"    {'clients':>7}  {'order SQL/s':>11}  {'GET /healthz/s':>14}  {'raw UPDATE/s':>12}"
            f"  {'SQL/raw':>7}  {'healthz/raw':>11}  {'hot/SQL':>7}"
        )
        for clients, hot, raw in cpu_rows:
            sql_orders = raw_orders(fx, clients, args.seconds)
            health = http_healthz(server, clients, args.seconds)
            floors.append((clients, sql_orders, health))
            print(
                f"    {clients:>7}  {sql_orders['rate']:>11.0f}  {health['rate']:>14.0f}"
                f"  {raw['rate']:>12.0f}  {sql_orders['rate'] / raw['rate']:>7.2f}"
                f"  {health['rate'] / raw['rate']:>11.2f}"
                f"  {hot['rate'] / sql_orders['rate']:>7.2f}"
            )
            if sql_orders["errors"] or health["errors"]:
                failures.append(f"{clients} clients: errors in the floor runs")
        # Its orders are CONFIRMED rows with lines: the invariant counts them as orders.
        sold_wrong = oversold(fx, "Bench Hot Item", HOT_STOCK, raw_units)
        if sold_wrong:
            failures.append(f"after the floor runs: oversold {sold_wrong}")

        print(
            "\n    CPU per operation, from /proc (gunicorn workers, their Postgres backends, this"
            "\n    client; with 2 cores, 2 s of CPU per second bounds every row above):"
        )
        for (clients, hot, raw), (_, sql_orders, health) in zip(cpu_rows, floors, strict=True):
            print(
                f"    {clients:>7} clients: hot order {hot['cpu_ms']:5.2f} ms (web"
                f" {hot['web_cpu_ms']:.2f} + Postgres {hot['db_cpu_ms']:.2f} + client"
                f" {hot['client_cpu_ms']:.2f});  raw UPDATE {raw['cpu_ms']:.2f} ms"
                f" (Postgres {raw['db_cpu_ms']:.2f} + client {raw['client_cpu_ms']:.2f})"
                f"\n    {'':>7}          order SQL {sql_orders['cpu_ms']:5.2f} ms (Postgres"
                f" {sql_orders['db_cpu_ms']:.2f} + client {sql_orders['client_cpu_ms']:.2f});"
                f"  GET /healthz {health['cpu_ms']:.2f} ms (web {health['web_cpu_ms']:.2f}"
                f" + client {health['client_cpu_ms']:.2f})"
            )

        sellout = http_orders(
            server.port,
            meter,
            [order_body(fx["store_id"], [(fx["Bench Last Units"], 1)])],
            SELLOUT_CLIENTS,
            None,
            per_client=SELLOUT_ORDERS // SELLOUT_CLIENTS + 1,
        )
        left = stock(fx, "Bench Last Units")
        confirmed = confirmed_units(fx, "Bench Last Units")
        print(
            f"\n    sell-out: {sellout['ok']} single-unit orders from {SELLOUT_CLIENTS} clients for"
            f" {SELLOUT_STOCK} units -> {confirmed} confirmed, stock left {left},"
            f" errors {sellout['errors']}"
        )
        if confirmed != SELLOUT_STOCK or left != 0 or sellout["errors"]:
            failures.append("sell-out did not end at exactly 0")

        print(
            "\n(c) where the time of one uncontended single-unit order goes, in-process"
            f" (Django test client, no HTTP), {args.latency_orders} orders, ms per order:"
        )
        breakdown = cost_breakdown(fx, args.latency_orders)
        for label, value in breakdown:
            print(f"    {value:6.2f}  {label}")
        print(
            f"    -> one hot product could take at most ~{1000 / breakdown[-1][1]:.0f} orders/s"
            " if CPU were unlimited (one lock holder at a time)"
        )
    finally:
        server.stop()
        redis_delete(BROKER_URL, "celery")  # the confirmations nobody consumed
    print(f"\nload average at end {load_average()}; took {time.monotonic() - started:.0f} s")
    if failures:
        raise SystemExit("FAILED: " + "; ".join(failures))


if __name__ == "__main__":
    main()
