"""Postgres restart drill: a throwaway Postgres restarted under order and search traffic.

`.venv/bin/python bench/pg_restart.py [--clients 4] [--searchers 2] [--before 3] [--after 3]`
(as root: the throwaway cluster runs as the `postgres` user). Nothing shared is restarted: the
script makes its own Postgres cluster (`initdb` in a temporary directory, its own port), a small
seeded catalogue in it, an index on the development node (prefix `bench-pgdrill-`) and a
gunicorn on it. Order clients place keyed orders and retry a 503 with the same key after its
Retry-After; searchers search. After `--before` seconds `pg_ctl restart -m fast` restarts the
database; `--after` seconds later the traffic stops. Prints the answers per endpoint (2xx, 503,
500), the retries, orders placed vs persisted (each key at most once) and the stock invariant.
Exit status 1 if any request got a 500, an order was lost or doubled, or stock went wrong.
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402 - needs the repo on sys.path
    Catalog,
    Gunicorn,
    database_prepare,
    django_env,
    free_port,
    manage,
    redis_delete,
    stop_all,
)

REDIS_URL = os.environ.get(
    "BENCH_PG_REDIS_URL", os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
)
CACHE_PREFIX = f"aisle-bench-pgdrill-{os.getpid()}"


def pg_bin(name: str) -> str:
    version = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: int(v.split(".")[0]))[-1]
    return f"/usr/lib/postgresql/{version}/bin/{name}"


def as_postgres(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True)  # noqa: S603,S607


class ThrowawayPostgres:
    """A Postgres cluster of our own in a temporary directory, on a free port."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="aisle-pgdrill-"))
        shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self.data = self.dir / "data"
        as_postgres(
            pg_bin("initdb"), "-D", str(self.data), "-U", "aisle", "--auth=trust", "-E", "UTF8"
        )
        self.ctl("start")
        self.url = f"postgres://aisle@127.0.0.1:{self.port}/aisle_pgdrill"

    def ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        as_postgres(
            pg_bin("pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.dir / "log"), "-w", action, *extra,
        )  # fmt: skip

    def restart(self) -> float:
        started = time.monotonic()
        self.ctl("restart", "-m", "fast")
        return time.monotonic() - started

    def remove(self) -> None:
        try:
            self.ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def stock(url: str) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """(quantity per (store, product), confirmed quantity ordered per (store, product))."""
    with psycopg.connect(url) as conn:
        quantities = {
            (s, p): q
            for s, p, q in conn.execute(
                "SELECT store_id, product_id, quantity FROM inventory_inventory"
            )
        }
        ordered = {
            (s, p): q
            for s, p, q in conn.execute(
                "SELECT o.store_id, i.product_id, sum(i.quantity_requested)"
                " FROM ordering_orderitem i JOIN ordering_order o ON o.id = i.order_id"
                " WHERE o.status = 'CONFIRMED' GROUP BY 1, 2"
            )
        }
    return quantities, ordered


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--searchers", type=int, default=2)
    parser.add_argument("--before", type=float, default=3.0)
    parser.add_argument("--after", type=float, default=3.0)
    args = parser.parse_args()

    pg = ThrowawayPostgres()
    web = None
    try:
        env = {
            **os.environ,
            **django_env(
                database_url=pg.url,
                redis_url=REDIS_URL,
                index_prefix="bench-pgdrill-",
                cache_prefix=CACHE_PREFIX,
            ),
        }
        database_prepare(env=env, catalog=Catalog(200, 2, 1))
        manage("rebuild_index", env=env)
        initial, ordered_before = stock(pg.url)
        web = Gunicorn(workers=2, env=env, ready_path="/readyz")
        with psycopg.connect(pg.url) as conn:
            pairs = conn.execute(
                "SELECT store_id, product_id FROM inventory_inventory WHERE quantity > 0"
            ).fetchall()

        answers: dict[str, Counter] = {"order": Counter(), "search": Counter()}
        placed: dict[str, int] = {}  # Idempotency-Key -> order id
        retries: Counter[str] = Counter()
        lock = threading.Lock()
        stop = threading.Event()

        def call(method: str, path: str, body=None, headers=None) -> tuple[int, dict, dict]:
            conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
            try:
                conn.request(method, path, json.dumps(body) if body else None,
                             {"Content-Type": "application/json", **(headers or {})})  # fmt: skip
                response = conn.getresponse()
                return response.status, dict(response.getheaders()), json.loads(response.read())
            finally:
                conn.close()

        def orderer(seed: int) -> None:
            rng = random.Random(seed)
            while not stop.is_set():
                store, product = rng.choice(pairs)
                key = uuid.uuid4().hex
                body = {
                    "store_id": store,
                    "items": [{"product_id": product, "quantity_requested": 1}],
                }
                deadline = time.monotonic() + 30
                while True:
                    status, headers, payload = call(
                        "POST", "/orders/", body, {"Idempotency-Key": key}
                    )
                    with lock:
                        answers["order"][status] += 1
                    if status != 503 or time.monotonic() > deadline:
                        break
                    retries["order"] += 1
                    time.sleep(float(headers.get("Retry-After", "1")))
                if status == 201:
                    with lock:
                        placed[key] = payload["id"]

        def searcher(seed: int) -> None:
            rng = random.Random(seed)
            while not stop.is_set():
                store, _ = rng.choice(pairs)
                status, _, _ = call("GET", f"/api/search/products/?q=milk&store_id={store}")
                with lock:
                    answers["search"][status] += 1
                time.sleep(0.05)

        threads = [threading.Thread(target=orderer, args=(i,)) for i in range(args.clients)]
        threads += [
            threading.Thread(target=searcher, args=(100 + i,)) for i in range(args.searchers)
        ]
        for thread in threads:
            thread.start()
        time.sleep(args.before)
        restart_s = pg.restart()
        time.sleep(args.after)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

        final, ordered = stock(pg.url)
        with psycopg.connect(pg.url) as conn:
            row = conn.execute("SELECT count(*) FROM ordering_order").fetchone()
            persisted = row[0] if row else 0
            per_key = conn.execute(
                "SELECT count(*) FROM ordering_idempotencyrecord GROUP BY key HAVING count(*) > 1"
            ).fetchall()
        # initial stock = current stock + what confirmed orders took during the run.
        stock_ok = all(
            initial[pair] == final[pair] + ordered.get(pair, 0) - ordered_before.get(pair, 0)
            for pair in initial
        ) and all(quantity >= 0 for quantity in final.values())
        fivehundreds = sum(c[500] for c in answers.values())
        print(
            f"RESULT postgres restart ({restart_s:.1f} s, pg_ctl restart -m fast) under "
            f"{args.clients} order clients and {args.searchers} searchers: "
            + "; ".join(f"{name} {dict(counts)}" for name, counts in answers.items())
            + f"; order retries after 503: {retries['order']}; orders placed (201) {len(placed)}, "
            f"persisted {persisted}, keys placed twice {len(per_key)}; "
            f"stock invariant {'holds' if stock_ok else 'BROKEN'}; 500s {fivehundreds}"
        )
        ok = fivehundreds == 0 and persisted == len(placed) and not per_key and stock_ok
        return 0 if ok else 1
    finally:
        if web is not None:
            stop_all(web)
        pg.remove()
        redis_delete(REDIS_URL, f"*{CACHE_PREFIX}*")
        es = os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200").split(",")[0]
        request = urllib.request.Request(f"{es}/bench-pgdrill-*", method="DELETE")  # noqa: S310
        with contextlib.suppress(OSError):
            urllib.request.urlopen(request, timeout=30).close()  # noqa: S310 - our own node


if __name__ == "__main__":
    sys.exit(main())
