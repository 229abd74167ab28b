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
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import Gunicorn, database_create  # noqa: E402 - needs the repo on sys.path

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
HOT_STOCK = 50_000_000
SPREAD_PRODUCTS = 64
SELLOUT_STOCK = 300
SELLOUT_ORDERS = 450


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
    }


def migrate() -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=server_env(),
        check=True,
    )


def fixtures() -> dict[str, int]:
    """A bench store: three everyday products, a hot one, one per client for the spread run and
    one with few units for the sell-out run. Orders are deleted and stock reset on every run."""
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE ordering_idempotencyrecord, ordering_orderitem, ordering_order CASCADE"
        )
        category = conn.execute(
            "INSERT INTO catalog_category (name, slug, created_at, updated_at)"
            " VALUES ('Bench', 'bench', now(), now())"
            " ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name RETURNING id"
        ).fetchone()[0]
        store = conn.execute(
            "SELECT id FROM inventory_store WHERE name = 'Bench store' ORDER BY id LIMIT 1"
        ).fetchone()
        if store is None:
            store = conn.execute(
                "INSERT INTO inventory_store (name, created_at, updated_at)"
                " VALUES ('Bench store', now(), now()) RETURNING id"
            ).fetchone()
        store_id = store[0]
        products = {}
        titles = ["Bench Milk", "Bench Bread", "Bench Eggs", "Bench Hot Item", "Bench Last Units"]
        titles += [f"Bench Spread {n:02d}" for n in range(SPREAD_PRODUCTS)]
        for title in titles:
            row = conn.execute(
                "SELECT id FROM catalog_product WHERE title = %s ORDER BY id LIMIT 1", [title]
            ).fetchone()
            if row is None:
                row = conn.execute(
                    "INSERT INTO catalog_product"
                    " (title, description, price, category_id, created_at, updated_at)"
                    " VALUES (%s, '', 2.50, %s, now(), now()) RETURNING id",
                    [title, category],
                ).fetchone()
            products[title] = row[0]
            conn.execute(
                "INSERT INTO inventory_inventory (store_id, product_id, quantity, updated_at)"
                " VALUES (%s, %s, %s, now()) ON CONFLICT (store_id, product_id)"
                " DO UPDATE SET quantity = EXCLUDED.quantity",
                [store_id, row[0], SELLOUT_STOCK if title.endswith("Last Units") else HOT_STOCK],
            )
        conn.execute("VACUUM ANALYZE inventory_inventory")
    return {"store_id": store_id, **products}


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(parent: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == parent:
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def backend_pids() -> list[int]:
    """Postgres backends connected to the bench database (the web workers' connections)."""
    with psycopg.connect(DATABASE_URL) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [row[0] for row in rows]


class Server(Gunicorn):
    """The bench's gunicorn, which can also say how much CPU its workers and their backends used."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers=workers, env=server_env())

    def cpu(self) -> tuple[float, float]:
        """CPU seconds used so far by the workers, and by their Postgres backends."""
        web = sum(proc_cpu(pid) for pid in child_pids(self.pid))
        return web, sum(proc_cpu(pid) for pid in backend_pids())


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
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples = []
    for i in range(count + 30):
        key = f"bench-{time.time_ns()}-{i}" if keyed else None
        started = time.perf_counter()
        status, data = post_order(conn, body, key)
        elapsed = time.perf_counter() - started
        if status != 201 or data["status"] != "CONFIRMED":
            raise SystemExit(f"unexpected answer {status}: {data}")
        if i >= 30:  # the first requests warm each worker's connections
            samples.append(elapsed * 1000)
    return samples


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run_clients(
    clients: int, work: Callable[[int, threading.Event], tuple[int, int]], seconds: float | None
) -> tuple[int, int, float]:
    """`work(client_index, stop) -> (ok, errors)` in `clients` threads started together, for
    `seconds` (then `stop` is set) or until every worker returns; total ok, errors, elapsed."""
    barrier = threading.Barrier(clients + 1)
    stop = threading.Event()
    results: list[tuple[int, int]] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        barrier.wait()
        outcome = work(index, stop)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    if seconds is not None:
        time.sleep(seconds)
        stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return sum(r[0] for r in results), sum(r[1] for r in results), elapsed


def http_orders(
    server: "Server",
    bodies: list[bytes],
    clients: int,
    seconds: float | None,
    per_client: int = 0,
) -> dict:
    """Clients post `bodies[client % len(bodies)]` in a loop; counts 201s (either status)."""

    def work(index: int, stop: threading.Event) -> tuple[int, int]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        body = bodies[index % len(bodies)]
        ok = errors = sent = 0
        while not stop.is_set() and (not per_client or sent < per_client):
            sent += 1
            try:
                status, data = post_order(conn, body)
            except (OSError, http.client.HTTPException, ValueError):
                errors += 1
                conn.close()
                continue
            if status == 201 and data.get("status") in {"CONFIRMED", "REJECTED"}:
                ok += 1
            else:
                errors += 1
        conn.close()
        return ok, errors

    (web_cpu, db_cpu), client_cpu = server.cpu(), time.process_time()
    ok, errors, elapsed = run_clients(clients, work, seconds)
    web_after, db_after = server.cpu()
    web_cpu, db_cpu = web_after - web_cpu, db_after - db_cpu
    client_cpu = time.process_time() - client_cpu
    per_op = 1000 / max(ok, 1)
    return {
        "rate": ok / elapsed,
        "ok": ok,
        "errors": errors,
        "cpu_ms": (web_cpu + db_cpu + client_cpu) * per_op,
        "web_cpu_ms": web_cpu * per_op,
        "db_cpu_ms": db_cpu * per_op,
        "client_cpu_ms": client_cpu * per_op,
    }


def raw_updates(fx: dict[str, int], clients: int, seconds: float) -> dict:
    """The physical limit for one row: autocommit conditional decrements, nothing else."""
    sql = (
        "UPDATE inventory_inventory SET quantity = quantity - 1"
        " WHERE store_id = %s AND product_id = %s AND quantity >= 1"
    )
    params = [fx["store_id"], fx["Bench Hot Item"]]

    backends: list[int] = []
    backend_cpu: list[float] = []

    def work(index: int, stop: threading.Event) -> tuple[int, int]:
        ok = errors = 0
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            cursor = conn.cursor()
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            backends.append(pid)
            backend_cpu.append(-proc_cpu(pid))
            while not stop.is_set():
                cursor.execute(sql, params, prepare=True)
                if cursor.rowcount == 1:
                    ok += 1
                else:
                    errors += 1
            backend_cpu.append(proc_cpu(pid))
        return ok, errors

    client_cpu = time.process_time()
    ok, errors, elapsed = run_clients(clients, work, seconds)
    client_cpu = time.process_time() - client_cpu
    server_cpu = sum(backend_cpu)
    per_op = 1000 / max(ok, 1)
    return {
        "rate": ok / elapsed,
        "ok": ok,
        "errors": errors,
        "cpu_ms": (server_cpu + client_cpu) * per_op,
        "db_cpu_ms": server_cpu * per_op,
        "client_cpu_ms": client_cpu * per_op,
    }


# What one single-unit order sends Postgres (bench/orders.py (c) counts the statements), without
# Django: the checks before the transaction, then the writes, the lock and the deduction.
ORDER_READS = (
    "SELECT 1 FROM inventory_store WHERE id = %s LIMIT 1",
    "SELECT id, title, price FROM catalog_product WHERE id = ANY(%s)",
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
    backend_cpu: list[float] = []

    def work(index: int, stop: threading.Event) -> tuple[int, int]:
        ok = errors = 0
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            backend_cpu.append(-proc_cpu(pid))
            cursor = conn.cursor()
            while not stop.is_set():
                cursor.execute(ORDER_READS[0], [store_id], prepare=True)
                _, _, price = cursor.execute(
                    ORDER_READS[1], [[product_id]], prepare=True
                ).fetchone()
                with conn.transaction():
                    order_id = cursor.execute(ORDER_WRITES[0], [store_id], prepare=True).fetchone()[
                        0
                    ]
                    cursor.execute(ORDER_WRITES[1], [order_id, product_id, price], prepare=True)
                    row_id, left = cursor.execute(
                        ORDER_WRITES[2], [store_id, [product_id]], prepare=True
                    ).fetchone()
                    if left < 1:
                        errors += 1
                        continue
                    cursor.execute(ORDER_WRITES[3], [left - 1, row_id], prepare=True)
                ok += 1
            backend_cpu.append(proc_cpu(pid))
        return ok, errors

    client_cpu = time.process_time()
    ok, errors, elapsed = run_clients(clients, work, seconds)
    client_cpu = time.process_time() - client_cpu
    per_op = 1000 / max(ok, 1)
    return {
        "rate": ok / elapsed,
        "ok": ok,
        "errors": errors,
        "cpu_ms": (sum(backend_cpu) + client_cpu) * per_op,
        "db_cpu_ms": sum(backend_cpu) * per_op,
        "client_cpu_ms": client_cpu * per_op,
    }


def http_healthz(server: "Server", clients: int, seconds: float) -> dict:
    """The floor under any endpoint on this stack: GET /healthz (no database, no Redis) through
    the same gunicorn, Django middleware and DRF view dispatch."""

    def work(index: int, stop: threading.Event) -> tuple[int, int]:
        ok = errors = 0
        while not stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            try:
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                ok, errors = (ok + 1, errors) if response.status == 200 else (ok, errors + 1)
            except (OSError, http.client.HTTPException):
                errors += 1
            conn.close()
        return ok, errors

    web_cpu, client_cpu = server.cpu()[0], time.process_time()
    ok, errors, elapsed = run_clients(clients, work, seconds)
    per_op = 1000 / max(ok, 1)
    web_cpu = (server.cpu()[0] - web_cpu) * per_op
    client_cpu = (time.process_time() - client_cpu) * per_op
    return {
        "rate": ok / elapsed,
        "ok": ok,
        "errors": errors,
        "cpu_ms": web_cpu + client_cpu,
        "web_cpu_ms": web_cpu,
        "client_cpu_ms": client_cpu,
    }


def stock(fx: dict[str, int], title: str) -> int:
    with psycopg.connect(DATABASE_URL) as conn:
        return conn.execute(
            "SELECT quantity FROM inventory_inventory WHERE store_id = %s AND product_id = %s",
            [fx["store_id"], fx[title]],
        ).fetchone()[0]


def confirmed_units(fx: dict[str, int], title: str) -> int:
    with psycopg.connect(DATABASE_URL) as conn:
        return conn.execute(
            "SELECT coalesce(sum(i.quantity_requested), 0) FROM ordering_orderitem i"
            " JOIN ordering_order o ON o.id = i.order_id"
            " WHERE o.status = 'CONFIRMED' AND o.store_id = %s AND i.product_id = %s",
            [fx["store_id"], fx[title]],
        ).fetchone()[0]


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

    from inventory import cache as inventory_cache
    from inventory import services as inventory_services
    from ordering import services

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
    services._confirmation_enqueue = timed("publish", services._confirmation_enqueue)
    services._response_body = timed("render", services._response_body)
    inventory_cache.store_inventory_version_bump = timed(
        "bump", inventory_cache.store_inventory_version_bump
    )
    body = order_body(fx["store_id"], [(fx["Bench Hot Item"], 1)])
    client = Client()
    for _ in range(30):
        client.post("/orders/", body, content_type="application/json")
    connection.commit = commit_then_unlock(timed("commit", connection.commit))
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


def broker_purge() -> None:
    redis.Redis.from_url(BROKER_URL).delete("celery")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per throughput measurement")
    parser.add_argument("--clients", default="16,64", help="comma-separated client counts")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--latency-orders", type=int, default=300)
    args = parser.parse_args()
    client_counts = [int(c) for c in args.clients.split(",")]

    print(f"database {urlparse(DATABASE_URL).path.lstrip('/')}: creating/migrating ...")
    database_create(DATABASE_URL)
    migrate()
    fx = fixtures()
    started = time.monotonic()
    print(f"machine: {os.cpu_count()} CPUs, load average at start {load()}")
    server = Server(args.workers)
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
            hot = http_orders(server, [hot_body], clients, args.seconds)
            spread = http_orders(server, spread_bodies, clients, args.seconds)
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
            "\n    floors, same run and clients: 'order SQL' = an order's statements (2 reads, then"
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
            server,
            [order_body(fx["store_id"], [(fx["Bench Last Units"], 1)])],
            16,
            None,
            per_client=SELLOUT_ORDERS // 16 + 1,
        )
        left = stock(fx, "Bench Last Units")
        confirmed = confirmed_units(fx, "Bench Last Units")
        print(
            f"\n    sell-out: {sellout['ok']} single-unit orders from 16 clients for"
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
        broker_purge()
    print(f"\nload average at end {load()}; took {time.monotonic() - started:.0f} s")
    if failures:
        raise SystemExit("FAILED: " + "; ".join(failures))


if __name__ == "__main__":
    main()
