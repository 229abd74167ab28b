"""Search benchmark: the search and suggest APIs against raw Elasticsearch and a Postgres ILIKE.

Against 100,000 seeded products and 20 stores, in one run, with 8 concurrent clients:

  (a) GET /api/search/products/ over a fixed mix of queries (with and without filters and
      `store_id`), through a live gunicorn on loopback started and stopped here;
  (b) the very request bodies the API sends, posted straight to Elasticsearch (the floor);
  (c) the peer-style baseline: `title ILIKE '%q%' OR description ILIKE '%q%' OR category name
      ILIKE '%q%'` in Postgres with the same filters, a COUNT and the page (plus the page's
      store quantities when `store_id` is given), sent with psycopg (no HTTP, no ORM);
  (d) GET /api/search/suggest/ with the cache cold (every prefix asked once) and warm, against
      (e) the same completion requests sent straight to Elasticsearch;
  (f) the same with `store_id` (a filtered, collapsed query, not the completion field), cache
      cold, against the same requests sent straight to Elasticsearch;
  (g) the relevance query's cost: (a) and (b) again, taking turns with the same through a
      second gunicorn whose searches use the query before compounds and demotions
      (bench/query_before.py).

Then one client, one request at a time, splits the API's time into its layers.

  .venv/bin/python bench/search.py [--clients 8] [--rounds 6] [--workers 8]
                                  [--keep-index] [--reuse-index]

With `--rules`, only the cost of query rules: the search mix through the API with 1,000 rules
defined (100 of them matching the mix's queries: pins, hides, boosts, a replacement) against
the same with every rule disabled, phases alternating in one run; p50 and the web process's CPU
per search. `--smoke` runs that at a seconds-long size (2,000 products, its own database and
index) for the test that keeps this script working.

The catalog is seeded once (`seed_data --products 100000 --seed 1`) into its own database,
`aisle_bench_search` (BENCH_SEARCH_DATABASE_URL), and reused while it has that many products.
The index is built fresh behind a `bench-search-` alias and deleted at the end, as are the
run's Redis keys (BENCH_SEARCH_REDIS_URL, default redis://127.0.0.1:6379/14).
"""

import argparse
import gc
import http.client
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import SMOKE as BENCH_SMOKE  # noqa: E402 - needs the repo on sys.path
from bench.common import (  # noqa: E402 - needs the repo on sys.path
    Catalog,
    CpuMeter,
    Gunicorn,
    Run,
    api_get,
    database_prepare,
    django_env,
    index_prefix,
    percentile,
    redis_delete,
    run_clients,
    search_mix,
    sized,
    suggest_prefixes,
)

# Read before Django starts. A smoke run (BENCH_SMOKE=1, or `--rules --smoke`) is seconds long
# on 2,000 products (the mix asks for page 3 of "rice"); `--smoke` keeps its own database and
# index beside the full run's.
RULES_SMOKE = "--smoke" in sys.argv
SMOKE = BENCH_SMOKE or RULES_SMOKE
PRODUCTS = 2_000 if SMOKE else 100_000
STORES = 20
SEED = 1
DATABASE_URL = os.environ.get(
    "BENCH_SEARCH_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_search"
) + ("_smoke" if RULES_SMOKE else "")
REDIS_URL = os.environ.get("BENCH_SEARCH_REDIS_URL", "redis://127.0.0.1:6379/14")
INDEX_PREFIX = index_prefix("bench-search-smoke-" if RULES_SMOKE else "bench-search-")
CACHE_PREFIX = f"aisle-bench-search-{os.getpid()}"
ES_URL = os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")

ENV = django_env(
    database_url=DATABASE_URL,
    redis_url=REDIS_URL,
    index_prefix=INDEX_PREFIX,
    cache_prefix=CACHE_PREFIX,
)
# The catalogue does not change during a run, so the window that keeps a suggestion computed
# before the index refreshed out of the cache guards nothing; left on, it kept every answer of
# the first 2 s after each version bump out of the cache and the "warm" figures were misses.
ENV["SUGGEST_CACHE_SETTLE_SECONDS"] = "0"
os.environ.update(ENV)

import django  # noqa: E402 - settings come from the environment set just above

django.setup()

import psycopg  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.query_before import query_before  # noqa: E402
from catalog.models import Category, Product  # noqa: E402
from inventory.models import Store  # noqa: E402
from merchandising.cache import rules_version_bump  # noqa: E402
from merchandising.matching import RuleIndex, rules_matching  # noqa: E402
from merchandising.models import QueryRule  # noqa: E402
from merchandising.selectors import compiled_rules  # noqa: E402
from searchindex.cache import catalog_version_bump  # noqa: E402
from searchindex.client import ALIAS, admin_client  # noqa: E402
from searchindex.documents import ProductDocument, products_for_indexing  # noqa: E402
from searchindex.queries import (  # noqa: E402
    SUGGEST_SIZE,
    ProductSearchQuery,
    product_search_body,
    product_suggest_body,
    store_suggest_body,
    suggest_edits,
)
from searchindex.rebuild import index_create  # noqa: E402
from searchindex.rules import ruled_body, search_effects  # noqa: E402
from searchindex.search import SEARCH_FILTER_PATH, product_search  # noqa: E402
from searchindex.selectors import category_ids_matching  # noqa: E402
from searchindex.suggest import (  # noqa: E402
    SUGGEST_FILTER_PATH,
    _completion_options,
    _query_hits,
    _suggest_titles,
)


def say(message: str) -> None:
    print(message, flush=True)


# --- data ------------------------------------------------------------------------------------


def es_client():
    return admin_client(timeout=300)


def index_build() -> float:
    es = es_client()
    es.indices.delete(index=f"{ALIAS}*", ignore_unavailable=True, allow_no_indices=True)
    name = f"{ALIAS}-{int(time.time())}"
    started = time.perf_counter()
    index_create(name=name)
    # No refreshes and no fsync per bulk request while loading; both back before measuring.
    es.indices.put_settings(
        index=name, settings={"refresh_interval": "-1", "translog.durability": "async"}
    )
    es.indices.put_alias(index=name, name=ALIAS)
    ProductDocument().update(products_for_indexing().order_by("id"), parallel=True)
    es.indices.put_settings(
        index=name, settings={"refresh_interval": "1s", "translog.durability": "request"}
    )
    es.indices.refresh(index=name)
    # Let the merges that follow a bulk load finish (a full force-merge costs ~45 s more here),
    # so they do not compete with whichever path is measured first.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        merges = es.indices.stats(index=name, metric="merge")["_all"]["primaries"]["merges"]
        if merges["current"] == 0:
            break
        time.sleep(1)
    count = es.count(index=ALIAS)["count"]
    if count != PRODUCTS:
        raise SystemExit(f"indexed {count} documents, expected {PRODUCTS}")
    return time.perf_counter() - started


def index_complete() -> bool:
    es = es_client()
    return bool(es.indices.exists_alias(name=ALIAS)) and es.count(index=ALIAS)["count"] == PRODUCTS


def index_drop() -> None:
    es_client().indices.delete(index=f"{ALIAS}*", ignore_unavailable=True, allow_no_indices=True)


# --- the workload ----------------------------------------------------------------------------


def search_query(params: dict[str, str]) -> ProductSearchQuery:
    fields: dict[str, Any] = {
        name: params[name] for name in ("q", "category", "sort") if name in params
    }
    for name in ("min_price", "max_price"):
        if name in params:
            fields[name] = Decimal(params[name])
    if "store_id" in params:
        fields["store_id"] = int(params["store_id"])
    if "in_stock" in params:
        fields["in_stock"] = params["in_stock"] == "true"
    return ProductSearchQuery(**fields, page=int(params.get("page", 1)), page_size=20)


def raw_search_body(params: dict[str, str]) -> bytes:
    query = search_query(params)
    ids = category_ids_matching(value=query.category) if query.category else None
    return json.dumps(product_search_body(query, category_ids=ids)).encode()


# --- ILIKE baseline --------------------------------------------------------------------------

_ORDER = {
    "relevance": "p.id",  # ILIKE cannot rank: id order
    "price": "p.price, p.id",
    "-price": "p.price DESC, p.id",
    "newest": "p.created_at DESC, p.id DESC",
}


def ilike_queries(params: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    query = search_query(params)
    where = ["TRUE"]
    args: dict[str, Any] = {}
    if query.q:
        where.append(
            "(p.title ILIKE %(like)s OR p.description ILIKE %(like)s OR c.name ILIKE %(like)s)"
        )
        args["like"] = f"%{query.q}%"
    if query.category:
        where.append("p.category_id = ANY(%(categories)s)")
        args["categories"] = category_ids_matching(value=query.category)
    if query.min_price is not None:
        where.append("p.price >= %(min_price)s")
        args["min_price"] = query.min_price
    if query.max_price is not None:
        where.append("p.price <= %(max_price)s")
        args["max_price"] = query.max_price
    if query.in_stock is not None:
        # Only fixed SQL fragments are joined; every value travels as a parameter.
        exists = "EXISTS (SELECT 1 FROM inventory_inventory i WHERE i.product_id = p.id"
        exists += " AND i.quantity > 0"
        exists += (" AND i.store_id = %(store_id)s" if query.store_id else "") + ")"
        where.append(exists if query.in_stock else f"NOT {exists}")
    if query.store_id:
        args["store_id"] = query.store_id
    source = (
        "FROM catalog_product p JOIN catalog_category c ON c.id = p.category_id WHERE "
        + " AND ".join(where)
    )
    args["offset"] = (query.page - 1) * query.page_size
    args["limit"] = query.page_size
    page = (
        "SELECT p.id, p.title, p.description, p.price, p.category_id, c.name, p.created_at "
        f"{source} ORDER BY {_ORDER[query.effective_sort]} LIMIT %(limit)s OFFSET %(offset)s"
    )
    return [(f"SELECT count(*) {source}", args), (page, args)]


def ilike_run(conn: psycopg.Connection, params: dict[str, str]) -> None:
    count_sql, page_sql = ilike_queries(params)
    conn.execute(*count_sql).fetchone()
    rows = conn.execute(*page_sql).fetchall()
    if "store_id" in params and rows:
        conn.execute(
            "SELECT product_id, quantity FROM inventory_inventory"
            " WHERE store_id = %s AND product_id = ANY(%s)",
            [int(params["store_id"]), [row[0] for row in rows]],
        ).fetchall()


# --- clients ---------------------------------------------------------------------------------


class EsConnection:
    """A keep-alive HTTP connection to Elasticsearch, as the API's client keeps one."""

    def __init__(self, node: str = ES_URL.split(",")[0]) -> None:
        url = urlparse(node)
        host = url.hostname or "127.0.0.1"  # ELASTICSEARCH_URL without a host: the local node
        self.conn = http.client.HTTPConnection(host, url.port or 9200, timeout=30)

    def search(self, body: bytes, filter_path: tuple[str, ...] = SEARCH_FILTER_PATH) -> dict:
        """POST a search with the same `filter_path` the API sends."""
        self.conn.request(
            "POST",
            f"/{ALIAS}/_search?{urlencode({'filter_path': ','.join(filter_path)})}",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"Elasticsearch {response.status}: {data[:200]!r}")
        return json.loads(data)

    def close(self) -> None:
        self.conn.close()


def measured(
    clients: int,
    jobs: list[Any],
    work: Callable[[Any, Any], Any],
    connect: Callable[[], Any] | None,
    meter: CpuMeter,
    *,
    tolerate_errors: bool = False,
) -> Run:
    """Each client takes every `clients`-th job in turn, with its own `connect()` state."""
    run = run_clients(
        clients,
        work,
        jobs=jobs,
        connect=(lambda _: connect()) if connect else (lambda _: None),
        meter=meter,
    )
    return run if tolerate_errors else run.raise_on_errors()


def stats(*runs: Run) -> dict[str, float]:
    """p50/p99 over every sample of the runs; throughput over their summed wall time."""
    samples = [sample for run in runs for sample in run.samples] or [0.0]
    elapsed = sum(run.elapsed for run in runs)
    cpu = {name: sum(run.cpu[name] for run in runs) * 1000 / len(samples) for name in runs[0].cpu}
    return {
        **{f"cpu_{name}": value for name, value in cpu.items()},
        "n": len(samples),
        "p50": percentile(samples, 50) * 1000,
        "p99": percentile(samples, 99) * 1000,
        "rps": len(samples) / elapsed,
    }


def interleaved(
    clients: int,
    jobs: list[Any],
    paths: list[tuple[Callable, Callable[[], Any] | None]],
    meter: CpuMeter,
    chunks: int = 4,
) -> list[dict[str, float]]:
    """The paths take turns on slices of the same jobs, so load from anything else on the
    machine (or a settling index) falls on each of them alike."""
    named = {str(n): (work, connect, meter) for n, (work, connect) in enumerate(paths)}
    return list(taking_turns(clients, jobs, named, chunks).values())


PathSpec = tuple[Callable[[Any, Any], Any], Callable[[], Any] | None, CpuMeter]


def taking_turns(
    clients: int, jobs: list[Any], paths: dict[str, PathSpec], chunks: int = 4
) -> dict[str, dict[str, float]]:
    """Each path in turn on each slice of the jobs, so load from anything else on the machine
    (or a settling index) falls on each of them alike; each path is (work, connect, meter), its
    own meter when it is served by a process of its own."""
    runs: dict[str, list[Run]] = {name: [] for name in paths}
    size = -(-len(jobs) // chunks)
    for start in range(0, len(jobs), size):
        for name, (work, connect, meter) in paths.items():
            chunk = jobs[start : start + size]
            runs[name].append(measured(clients, chunk, work, connect, meter))
    return {name: stats(*path_runs) for name, path_runs in runs.items()}


def raw_suggest(es: EsConnection, prefix: str, store_id: int | None = None) -> None:
    """The requests the API makes for `prefix`: exact (completion, or a store's filtered query),
    then typos if too few."""
    if store_id is None:
        exact = es.search(json.dumps(product_suggest_body(q=prefix)).encode(), SUGGEST_FILTER_PATH)
        found = _completion_options(exact, store_id=None)
    else:
        body = store_suggest_body(q=prefix, store_id=store_id)
        found = _query_hits(es.search(json.dumps(body).encode(), SUGGEST_FILTER_PATH))
    edits = suggest_edits(prefix)
    if len({title.casefold() for _, title in found}) < SUGGEST_SIZE and edits:
        fuzzy = product_suggest_body(q=prefix, edits=edits, for_store=store_id is not None)
        es.search(json.dumps(fuzzy).encode(), SUGGEST_FILTER_PATH)


# --- where the time goes ---------------------------------------------------------------------


def _ms(samples: list[float]) -> float:
    return percentile(samples, 50) * 1000


def search_layers(mix: list[dict[str, str]], port: int, repeats: int) -> list[tuple[str, float]]:
    """One client, one request at a time: each layer of a search, median over the mix, in ms."""
    es = EsConnection()
    client = Client()
    pg = psycopg.connect(DATABASE_URL, autocommit=True)
    took: list[float] = []
    raw: list[float] = []
    search_fn: list[float] = []
    sql: list[float] = []
    django_fn: list[float] = []
    http_fn: list[float] = []
    ilike: list[float] = []
    for repeat in range(repeats):
        for params in mix:
            response = timed(raw, es.search, raw_search_body(params), (*SEARCH_FILTER_PATH, "took"))
            took.append(response["took"] / 1000)
            query = search_query(params)
            timed(search_fn, product_search, query=query)
            with CaptureQueriesContext(connection) as captured:
                product_search(query=query)
            sql.append(sum(float(q["time"]) for q in captured.captured_queries))
            response = timed(django_fn, client.get, "/api/search/products/", params)
            assert response.status_code == 200, response.content
            timed(http_fn, api_get, port, "/api/search/products/", params)
            if repeat == 0:  # slow, and steady enough for one pass
                timed(ilike, ilike_run, pg, params)
    pg.close()
    return [
        ("Elasticsearch's own `took` (query + aggregations + fetch)", _ms(took)),
        ("(b) raw request from a client (adds HTTP + JSON both ways)", _ms(raw)),
        ("product_search() in-process (Python ES client, parsing, Postgres)", _ms(search_fn)),
        ("  of which Postgres, mean (category look-up, store quantities)", _mean_ms(sql)),
        ("Django + DRF in-process (+ middleware, throttle, validation, JSON)", _ms(django_fn)),
        ("(a) the API over HTTP through gunicorn", _ms(http_fn)),
        ("(c) Postgres ILIKE + COUNT + page", _ms(ilike)),
    ]


def suggest_layers(prefixes: list[str], port: int) -> list[tuple[str, float]]:
    """One client: each layer of an uncached suggestion, then a cached one, median in ms."""
    es = EsConnection()
    client = Client()
    raw: list[float] = []
    titles: list[float] = []
    django_cold: list[float] = []
    http_cold: list[float] = []
    http_warm: list[float] = []
    for prefix in prefixes:
        timed(raw, raw_suggest, es, prefix)
        timed(titles, _suggest_titles, prefix, None)
        catalog_version_bump()  # the same Redis and key prefix as the server: a cold cache
        timed(django_cold, client.get, "/api/search/suggest/", {"q": prefix})
        catalog_version_bump()
        timed(http_cold, api_get, port, "/api/search/suggest/", {"q": prefix})
        timed(http_warm, api_get, port, "/api/search/suggest/", {"q": prefix})
    return [
        ("(e) raw completion request(s) from a client", _ms(raw)),
        ("the same through the Python ES client, titles ranked", _ms(titles)),
        ("Django + DRF in-process, cache cold (+ 3 Redis round trips)", _ms(django_cold)),
        ("(d) the API over HTTP through gunicorn, cache cold", _ms(http_cold)),
        ("    the API over HTTP through gunicorn, cache warm", _ms(http_warm)),
    ]


def timed(samples: list[float], func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    result = func(*args, **kwargs)
    samples.append(time.perf_counter() - started)
    return result


def _mean_ms(samples: list[float]) -> float:
    return statistics.mean(samples) * 1000


# --- main ------------------------------------------------------------------------------------


def row(name: str, result: dict[str, float]) -> str:
    return (
        f"  {name:<44} {result['p50']:>8.1f} {result['p99']:>8.1f} "
        f"{result['rps']:>8.1f} {int(result['n']):>6}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=sized(8, 2))
    parser.add_argument(
        "--rounds", type=int, default=sized(6, 1), help="passes over the search mix per client"
    )
    parser.add_argument("--ilike-rounds", type=int, default=1)
    parser.add_argument(
        "--prefixes", type=int, default=sized(400, 12), help="distinct suggest prefixes"
    )
    parser.add_argument("--workers", type=int, default=sized(8, 2), help="gunicorn sync workers")
    parser.add_argument("--keep-index", action="store_true", help="leave the bench index behind")
    parser.add_argument(
        "--reuse-index", action="store_true", help="use a kept bench index if it is complete"
    )
    parser.add_argument(
        "--rules", action="store_true", help="only: search with 1,000 rules against none"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="with --rules: a seconds-long run (2,000 products)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.rules = True
        # The smoke's sizes, unless given.
        args.clients = 2 if args.clients == parser.get_default("clients") else args.clients
        args.rounds = 1 if args.rounds == parser.get_default("rounds") else args.rounds
        args.workers = 2 if args.workers == parser.get_default("workers") else args.workers
    run_started = time.perf_counter()

    database_prepare(env=os.environ, catalog=Catalog(PRODUCTS, STORES, SEED), say=say)
    if args.reuse_index and index_complete():
        say(f"index: reusing the kept bench index ({PRODUCTS:,} documents)")
    else:
        say("index: building the bench index (bulk, refresh off, then merges settle) ...")
        say(f"index: {PRODUCTS:,} documents in {index_build():.1f} s")
    server = Gunicorn(workers=args.workers, env=os.environ)
    try:
        meter = CpuMeter(server=server.pid, es=True)
        if args.rules:
            rules_report(args, server.port, meter)
        else:
            report(args, server.port, meter)
    finally:
        QueryRule.objects.all().delete()
        server.stop()
        # No worker runs here: what the run enqueued (index drains) is dropped with its cache.
        redis_delete(REDIS_URL, f"{CACHE_PREFIX}:*", "celery*", "_kombu*", "unacked*")
        if not args.keep_index:
            index_drop()
            say("index: bench index deleted")
    say(f"total run time {time.perf_counter() - run_started:.0f} s")


def report(args: argparse.Namespace, port: int, meter: CpuMeter) -> None:
    store_ids = list(Store.objects.order_by("id").values_list("id", flat=True))
    mix = search_mix(store_ids)
    assert Category.objects.filter(slug="dairy").exists(), "the seeded catalog has a Dairy aisle"
    clients = args.clients
    jobs = [params for _ in range(args.rounds * clients) for params in mix]
    rng = random.Random(SEED)
    rng.shuffle(jobs)
    bodies = {json.dumps(params, sort_keys=True): raw_search_body(params) for params in mix}

    say(f"warm-up: every query twice through the API and raw, {clients} clients")
    measured(
        clients,
        mix * 2,
        lambda _s, p: api_get(port, "/api/search/products/", p),
        None,
        meter,
        tolerate_errors=True,  # a cold node may time out (503) once or twice here
    )
    measured(
        clients,
        mix * 2,
        lambda es, p: es.search(bodies[json.dumps(p, sort_keys=True)]),
        EsConnection,
        meter,
    )

    say(f"search: {len(jobs)} requests per path, {clients} concurrent clients, interleaved")
    api, raw = interleaved(
        clients,
        jobs,
        [
            (lambda _s, p: api_get(port, "/api/search/products/", p), None),
            (lambda es, p: es.search(bodies[json.dumps(p, sort_keys=True)]), EsConnection),
        ],
        meter,
    )
    say("search: today's query against the query before compounds and demotions, interleaved")
    query_cost = query_cost_runs(args, jobs, mix, port, meter, bodies)
    ilike_jobs = [params for _ in range(args.ilike_rounds * clients) for params in mix]
    rng.shuffle(ilike_jobs)
    ilike = stats(
        measured(
            clients,
            ilike_jobs,
            ilike_run,
            lambda: psycopg.connect(DATABASE_URL, autocommit=True),
            meter,
        )
    )

    titles = Product.objects.order_by("id").values_list("title", flat=True)
    prefixes = suggest_prefixes(list(titles), args.prefixes, seed=SEED)
    say(f"suggest: {len(prefixes)} distinct prefixes, {clients} concurrent clients, interleaved")
    measured(clients, prefixes[:40], raw_suggest, EsConnection, meter)  # warm the FST
    suggest_cold, suggest_raw = interleaved(
        clients,
        prefixes,
        [
            (lambda _s, q: api_get(port, "/api/search/suggest/", {"q": q}), None),
            (raw_suggest, EsConnection),
        ],
        meter,
    )
    suggest_warm = stats(
        measured(
            clients,
            prefixes,
            lambda _s, q: api_get(port, "/api/search/suggest/", {"q": q}),
            None,
            meter,
        )
    )
    # A store's suggestions are a filtered query, not the completion field: measured apart.
    store_jobs = [(q, store_ids[n % len(store_ids)]) for n, q in enumerate(prefixes)]
    say(f"suggest with store_id: {len(store_jobs)} (prefix, store) pairs, interleaved")
    store_cold, store_raw = interleaved(
        clients,
        store_jobs,
        [
            (
                lambda _s, job: api_get(
                    port, "/api/search/suggest/", {"q": job[0], "store_id": job[1]}
                ),
                None,
            ),
            (lambda es, job: raw_suggest(es, *job), EsConnection),
        ],
        meter,
    )

    say("")
    say(f"{PRODUCTS:,} products, {len(store_ids)} stores; {clients} concurrent clients; ms")
    say(f"  {'path':<44} {'p50':>8} {'p99':>8} {'req/s':>8} {'n':>6}")
    say(row(f"(a) search API (gunicorn, {args.workers} sync workers)", api))
    say(row("(b) same bodies straight to Elasticsearch", raw))
    say(row("(c) Postgres ILIKE + COUNT + page", ilike))
    say(row("(d) suggest API, cache cold", suggest_cold))
    say(row("    suggest API, cache warm", suggest_warm))
    say(row("(e) same completion requests to Elasticsearch", suggest_raw))
    say(row("(f) suggest API with store_id, cache cold", store_cold))
    say(row("    same store queries to Elasticsearch", store_raw))
    say("")
    say("ratios (p50):")
    say(f"  search API / raw Elasticsearch     {api['p50'] / raw['p50']:6.2f}x  (target <= 1.5x)")
    say(f"  ILIKE / search API                 {ilike['p50'] / api['p50']:6.1f}x  (target >= 20x)")
    say(
        f"  suggest API cold / raw completion  {suggest_cold['p50'] / suggest_raw['p50']:6.2f}x"
        "  (target <= 1.5x)"
    )
    say(f"  suggest API warm / raw completion  {suggest_warm['p50'] / suggest_raw['p50']:6.2f}x")
    say(f"  store suggest API / raw query      {store_cold['p50'] / store_raw['p50']:6.2f}x")
    say(f"  store suggest / plain suggest, raw {store_raw['p50'] / suggest_raw['p50']:6.2f}x")
    say("ratios (throughput):")
    say(f"  search API / raw Elasticsearch     {api['rps'] / raw['rps']:6.2f}x")
    say(f"  search API / ILIKE                 {api['rps'] / ilike['rps']:6.1f}x")
    say("")
    say("CPU per request, ms (from /proc; Elasticsearch's includes anyone else's queries):")
    say(f"  {'path':<44} {'web':>8} {'ES':>8} {'client':>8} {'total':>8}")
    for name, result in [
        ("(a) search API", api),
        ("(b) raw search", raw),
        ("(d) suggest API, cache cold", suggest_cold),
        ("    suggest API, cache warm", suggest_warm),
        ("(e) raw completion", suggest_raw),
        ("(f) suggest API with store_id, cache cold", store_cold),
        ("    raw store suggest query", store_raw),
    ]:
        parts = [result["cpu_web"], result["cpu_es"], result["cpu_client"]]
        say(f"  {name:<44} " + " ".join(f"{part:>8.2f}" for part in [*parts, sum(parts)]))
    say("")
    query_cost_report(query_cost)
    say("")
    say("where one search request's time goes (1 client, sequential, median over the mix, ms):")
    for name, value in search_layers(mix, port, repeats=sized(2, 1)):
        say(f"  {name:<68} {value:7.1f}")
    say("where one suggestion's time goes (1 client, sequential, median, ms):")
    for name, value in suggest_layers(prefixes[:60], port):
        say(f"  {name:<68} {value:7.1f}")


# --- the relevance query's cost --------------------------------------------------------------


def query_cost_runs(
    args: argparse.Namespace,
    jobs: list[dict[str, str]],
    mix: list[dict[str, str]],
    port: int,
    meter: CpuMeter,
    bodies: dict[str, bytes],
) -> dict[str, dict[str, float]]:
    """The search mix through the API and straight to Elasticsearch, with today's query and
    with the query before compounds and demotions (bench/query_before.py, served by a second
    gunicorn), the four paths taking turns on slices of the same jobs."""
    with query_before():
        before_bodies = {json.dumps(p, sort_keys=True): raw_search_body(p) for p in mix}
    before = Gunicorn(
        workers=args.workers, env=os.environ, app="bench.wsgi_query_before:application"
    )
    try:
        before_meter = CpuMeter(server=before.pid, es=True)
        paths: dict[str, PathSpec] = {
            "api": (lambda _s, p: api_get(port, "/api/search/products/", p), None, meter),
            "api_before": (
                lambda _s, p: api_get(before.port, "/api/search/products/", p),
                None,
                before_meter,
            ),
            "raw": (
                lambda es, p: es.search(bodies[json.dumps(p, sort_keys=True)]),
                EsConnection,
                meter,
            ),
            "raw_before": (
                lambda es, p: es.search(before_bodies[json.dumps(p, sort_keys=True)]),
                EsConnection,
                meter,
            ),
        }
        work, connect, path_meter = paths["api_before"]
        measured(args.clients, mix * 2, work, connect, path_meter, tolerate_errors=True)
        return taking_turns(args.clients, jobs, paths)
    finally:
        before.stop()


def query_cost_report(results: dict[str, dict[str, float]]) -> None:
    say("the relevance query's cost: today's query against the one before compounds and")
    say("demotions (bench/query_before.py), same jobs, taking turns; ms")
    say(f"  {'path':<44} {'p50':>8} {'p99':>8} {'req/s':>8} {'web CPU':>8} {'ES CPU':>8}")
    for name, label in (
        ("api", "search API, today's query"),
        ("api_before", "search API, the query before"),
        ("raw", "raw Elasticsearch, today's bodies"),
        ("raw_before", "raw Elasticsearch, the bodies before"),
    ):
        result = results[name]
        say(
            f"  {label:<44} {result['p50']:>8.1f} {result['p99']:>8.1f} {result['rps']:>8.1f}"
            f" {result['cpu_web']:>8.2f} {result['cpu_es']:>8.2f}"
        )
    api, raw = results["api"]["p50"], results["raw"]["p50"]
    say(
        f"  search API p50, today / before: {api / results['api_before']['p50']:.3f}x"
        f" (target <= 1.10x); raw Elasticsearch: {raw / results['raw_before']['p50']:.3f}x"
    )


# --- query rules ----------------------------------------------------------------------------

RULES = 1_000
MATCHING_RULES = 100


def rules_create(mix: list[dict[str, str]], store_ids: list[int]) -> int:
    """1,000 rules, MATCHING_RULES of them matching the mix's queries; returns a product id a
    `milk` rule pins first (the run checks the rules are live by it)."""
    QueryRule.objects.all().delete()
    rng = random.Random(SEED)
    product_ids = list(Product.objects.order_by("id").values_list("id", flat=True)[:5_000])
    brand = Product.objects.exclude(brand="").values_list("brand", flat=True).first()
    texts = sorted({params["q"] for params in mix if "q" in params})
    stored = sorted({(p["q"], int(p["store_id"])) for p in mix if "q" in p and "store_id" in p})
    rules: list[QueryRule] = []
    pinned_first = product_ids[0]
    rules.append(
        QueryRule(
            name="milk first",
            query="milk",
            priority=10,
            pins=[{"product_id": pinned_first, "position": 1}],
        )
    )
    kinds = ("pin", "hide", "boost", "contains", "store")
    while len(rules) < MATCHING_RULES:
        text = texts[len(rules) % len(texts)]
        kind = kinds[len(rules) % len(kinds)]
        rule = QueryRule(name=f"{kind} {text} {len(rules)}", query=text)
        if kind == "pin":
            rule.pins = [
                {"product_id": pid, "position": n + 1}
                for n, pid in enumerate(rng.sample(product_ids, 3))
            ]
        elif kind == "hide":
            rule.hide = rng.sample(product_ids, 2)
        elif kind == "boost":
            rule.boosts = [{"filter": {"category": "dairy"}, "factor": 1.5}]
            if brand:
                rule.boosts.append({"filter": {"brand": brand}, "factor": 2.0})
        elif kind == "contains":
            rule.match = "contains"
            rule.query = text.split()[-1]
            rule.pins = [{"product_id": rng.choice(product_ids), "position": 2}]
        else:
            # Limited to the store the mix searches this text at.
            text, store_id = stored[len(rules) % len(stored)]
            rule.query, rule.stores = text, [store_id]
            rule.hide = [rng.choice(product_ids)]
        rules.append(rule)
    for n in range(RULES - MATCHING_RULES):
        # Queries no shopper in the mix types: words of their own, exact and contains.
        rules.append(
            QueryRule(
                name=f"other {n}",
                query=f"promo{n} item{n % 37}",
                match="contains" if n % 2 else "exact",
                hide=[rng.choice(product_ids)],
            )
        )
    QueryRule.objects.bulk_create(rules)
    return pinned_first


def rules_switch(*, enabled: bool, port: int, mix: list[dict[str, str]], meter: CpuMeter) -> None:
    """Every rule on or off, then wait until every web process has reloaded them."""
    QueryRule.objects.update(enabled=enabled)
    rules_version_bump()  # update() sends no signal
    time.sleep(float(os.environ.get("RULES_CHECK_SECONDS", "1")) + 0.5)
    measured(2, mix, lambda _s, p: api_get(port, "/api/search/products/", p), None, meter)


def rules_report(args: argparse.Namespace, port: int, meter: CpuMeter) -> None:
    store_ids = list(Store.objects.order_by("id").values_list("id", flat=True))
    mix = search_mix(store_ids)
    clients = args.clients
    pinned_first = rules_create(mix, store_ids)
    index, now = RuleIndex(compiled_rules()), timezone.now()
    matching = {
        rule.id
        for p in mix
        for rule in rules_matching(
            index,
            q=p.get("q", ""),
            store_id=int(p["store_id"]) if "store_id" in p else None,
            now=now,
        )
    }
    say(f"rules: {QueryRule.objects.count():,} defined, {len(matching)} matching the mix's queries")
    jobs = [params for _ in range(args.rounds * clients) for params in mix]
    random.Random(SEED).shuffle(jobs)
    say("warm-up: every query twice through the API")
    measured(
        clients,
        mix * 2,
        lambda _s, p: api_get(port, "/api/search/products/", p),
        None,
        meter,
        tolerate_errors=True,
    )
    runs: dict[bool, list[Run]] = {False: [], True: []}
    chunks = 4
    size = -(-len(jobs) // chunks)
    say(f"search: {len(jobs)} requests with rules and without, {clients} clients, alternating")
    for start in range(0, len(jobs), size):
        for enabled in (False, True):
            rules_switch(enabled=enabled, port=port, mix=mix, meter=meter)
            if enabled:
                first = json.loads(api_get(port, "/api/search/products/", {"q": "milk"}))
                if first["results"][0]["id"] != pinned_first:
                    raise SystemExit("the rules are not live: milk's pin is not first")
            runs[enabled].append(
                measured(
                    clients,
                    jobs[start : start + size],
                    lambda _s, p: api_get(port, "/api/search/products/", p),
                    None,
                    meter,
                )
            )
    without, with_rules = stats(*runs[False]), stats(*runs[True])
    say("")
    say(f"{PRODUCTS:,} products; {clients} concurrent clients; {args.workers} workers; ms")
    say(f"  {'path':<44} {'p50':>8} {'p99':>8} {'req/s':>8} {'web CPU':>8} {'n':>6}")
    for name, result in (
        ("search API, rules disabled", without),
        ("search API, 1,000 rules", with_rules),
    ):
        say(
            f"  {name:<44} {result['p50']:>8.2f} {result['p99']:>8.2f} {result['rps']:>8.1f}"
            f" {result['cpu_web']:>8.2f} {result['n']:>6}"
        )
    say(
        f"  rules' cost: p50 {with_rules['p50'] - without['p50']:+.2f} ms (target <= +1 ms),"
        f" web CPU {with_rules['cpu_web'] - without['cpu_web']:+.2f} ms/search (target <= +0.3)"
    )
    say(f"  ratio with/without (p50): {with_rules['p50'] / without['p50']:.3f}x")
    say(
        "  in-process, per search of the mix (rules found and applied to the request body,"
        f" no I/O): {rules_step_us(mix):.1f} us with 1,000 rules"
    )


def rules_step_us(mix: list[dict[str, str]], repeats: int = 200) -> float:
    """Microseconds of web CPU the rules step adds to a search: matching plus body rewriting,
    timed in this process over the mix (the rules loaded once, as a web process holds them)."""
    queries = [search_query(params) for params in mix]
    body = {q.q: product_search_body(q, category_ids=None) for q in queries}
    search_effects(q="warm", store_id=None)  # loads the rules
    copies = [json.loads(json.dumps(body[q.q])) for _ in range(repeats) for q in queries]
    # The copies are the benchmark's: out of the collector's sight, or its passes over them
    # would be charged to the step measured.
    gc.collect()
    gc.freeze()
    started = time.process_time()
    for n in range(repeats):
        for index, query in enumerate(queries):
            effects = search_effects(q=query.q, store_id=query.store_id)
            if not effects.empty:
                copy = copies[n * len(queries) + index]
                ruled_body(copy, effects, sort=query.effective_sort, offset=0, size=20)
    elapsed = time.process_time() - started
    gc.unfreeze()
    return elapsed * 1e6 / (repeats * len(queries))


if __name__ == "__main__":
    main()
