"""Scale benchmark: how seeding, rebuilding, index size, heap, search and sync lag grow with N.

For each size in `--sizes` (default 10,000, 100,000 and 1,000,000 products, 20 stores), in a
database created afresh for it:

  seed     `manage.py seed_data --products N --stores 20 --seed 1`, timed as a user runs it;
  rebuild  `rebuild_index`'s service end to end (new index, parallel bulk, replay, alias swap),
           timed, in docs/s; then the merges that follow a bulk load settle (timed apart);
  index    primary-shard bytes per product once the merges settle, read file by file from the
           last commit (Elasticsearch's analyze-disk-usage API), and the completion field's
           in-memory size;
  search   GET /api/search/products/ through a gunicorn started here, bench/search.py's query
           mix, 1 client and then 8 clients; p50 and p99;
  suggest  GET /api/search/suggest/ over distinct prefixes (so every answer is a cache miss),
           1 client; p50;
  heap     Elasticsearch's heap used (`_nodes/stats/jvm`), sampled every second during search
           and suggest: the median, and the lowest sample (the floor a collection leaves);
  lag      commit -> visible in a search while 200 title changes are committed at 20/s and a
           real Celery worker and beat drain the outbox (bench/index.py's measurement); p99.

Before each size after the first it extrapolates from the previous one (seeding, rebuilding and
merging linear in N, the fixed workloads unchanged) and stops, saying why, if the size would not
finish within what is left of `--budget-minutes`, if its index would not fit in the file cache
or on disk, or if its heap need would pass 75% of the heap (the completion field counted as heap).
The table comes last, then the targets (search p50 at 1M <= 2x at 100k; rebuild docs/s at 1M
>= 80% of 100k) and the extrapolation to the next size after the last one measured.

  .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--budget-minutes 30]

The database is BENCH_SCALE_DATABASE_URL (default `aisle_bench_scale`), re-created for each
size and dropped at the end; indices carry BENCH_SCALE_INDEX_PREFIX (default `bench-scale-`)
and are deleted after each size; the API's cache and throttle use BENCH_SCALE_REDIS_URL
(default redis://127.0.0.1:6379/14), the worker and beat BENCH_SCALE_BROKER_URL (default
redis://127.0.0.1:6379/13); the run's keys there are deleted at the end, nothing is flushed.
"""

import argparse
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402 - needs the repo on sys.path
    Gunicorn,
    Run,
    api_get,
    database_drop,
    database_prepare,
    django_env,
    index_disk_usage,
    index_prefix,
    load_average,
    manage,
    one,
    percentile,
    redis_delete,
    run_clients,
    search_mix,
    sized,
    suggest_prefixes,
    sync_lag,
)

SIZES = (10_000, 100_000, 1_000_000)
STORES = 20
SEED = 1
DATABASE_URL = os.environ.get(
    "BENCH_SCALE_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_scale"
)
REDIS_URL = os.environ.get("BENCH_SCALE_REDIS_URL", "redis://127.0.0.1:6379/14")
BROKER_URL = os.environ.get("BENCH_SCALE_BROKER_URL", "redis://127.0.0.1:6379/13")
INDEX_PREFIX = os.environ.get("BENCH_SCALE_INDEX_PREFIX") or index_prefix("bench-scale-")
CACHE_PREFIX = f"aisle-bench-scale-{os.getpid()}"
SEARCH_PATH = "/api/search/products/"
SUGGEST_PATH = "/api/search/suggest/"
HEAP_LIMIT = 0.75  # past this share of the heap, G1 collects constantly and searches stall
DISK_LIMIT = 0.85  # Elasticsearch's low disk watermark

ENV = django_env(
    database_url=DATABASE_URL,
    redis_url=REDIS_URL,
    broker_url=BROKER_URL,
    index_prefix=INDEX_PREFIX,
    cache_prefix=CACHE_PREFIX,
)
os.environ.update(ENV)

import django  # noqa: E402 - settings come from the environment set just above

django.setup()

import psycopg  # noqa: E402
from django.db import connections  # noqa: E402

from catalog.models import Product  # noqa: E402
from inventory.models import Store  # noqa: E402
from searchindex.client import ALIAS, admin_client  # noqa: E402
from searchindex.rebuild import index_rebuild  # noqa: E402


def say(message: str) -> None:
    print(f"[bench-scale] {message}", flush=True)


def es_client():
    return admin_client(timeout=300)


# --- what one size measured ------------------------------------------------------------------


@dataclass
class Measured:
    products: int
    load: str
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each phase
    store_bytes: int = 0
    completion_bytes: int = 0
    segments: int = 0
    database_bytes: int = 0
    heap: list[int] = field(default_factory=list)
    heap_max: int = 0
    search: dict[int, Run] = field(default_factory=dict)  # by number of clients
    suggest: Run | None = None
    lags: list[float] = field(default_factory=list)

    @property
    def docs_per_second(self) -> float:
        return self.products / self.seconds["rebuild"]

    @property
    def bytes_per_product(self) -> float:
        return self.store_bytes / self.products

    def search_ms(self, clients: int, p: float) -> float:
        return percentile(self.search[clients].samples, p) * 1000

    def estimate(self, products: int) -> dict[str, float]:
        """What `products` would take, extrapolated from this size."""
        ratio = products / self.products
        grows = sum(self.seconds[p] for p in ("prepare", "seed", "rebuild", "settle", "stats"))
        fixed = sum(self.seconds[p] for p in ("serve", "lag", "drop"))
        completion = self.completion_bytes / self.products * products
        return {
            "seconds": grows * ratio + fixed,
            "index": self.store_bytes * ratio,
            "completion": completion,
            "database": self.database_bytes * ratio,
            # The floor the heap returns to, plus the completion field's growth, as if all of it
            # lived on the heap (where Lucene 9 loads completion FSTs by default): conservative.
            "heap": min(self.heap) + completion - self.completion_bytes,
        }


class HeapSampler:
    """Elasticsearch's heap used, every second, on a thread, until stopped."""

    def __init__(self) -> None:
        self.samples: list[int] = []
        self.heap_max = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "HeapSampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        es = es_client()
        while True:
            nodes = es.nodes.stats(metric="jvm")["nodes"].values()
            self.samples.append(sum(node["jvm"]["mem"]["heap_used_in_bytes"] for node in nodes))
            self.heap_max = sum(node["jvm"]["mem"]["heap_max_in_bytes"] for node in nodes)
            if self._stop.wait(1.0):
                return


# --- each phase ------------------------------------------------------------------------------


def indices_drop() -> None:
    es_client().indices.delete(index=f"{ALIAS}*", ignore_unavailable=True, allow_no_indices=True)


def bench_database_drop() -> None:
    connections.close_all()
    database_drop(DATABASE_URL)


def merges_settle(timeout: float) -> None:
    """Wait (up to `timeout`) for the merges that follow a bulk load to finish."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        merges = es_client().indices.stats(index=ALIAS, metric="merge")["_all"]["primaries"]
        if merges["merges"]["current"] == 0:
            return
        time.sleep(1)
    say(f"merges still running after {timeout:.0f} s; measuring anyway")


def index_stats(result: Measured) -> None:
    (index,) = es_client().indices.get_alias(name=ALIAS).body
    result.store_bytes, _fields = index_disk_usage(es_client(), index)
    stats = es_client().indices.stats(
        index=ALIAS, metric="completion,segments", completion_fields="*"
    )["_all"]["primaries"]
    result.completion_bytes = stats["completion"]["size_in_bytes"]
    result.segments = stats["segments"]["count"]


def serve(result: Measured, args: argparse.Namespace) -> None:
    """Search at 1 and 8 clients, then suggest, through the API on gunicorn; the heap sampled."""
    mix = search_mix(list(Store.objects.order_by("id").values_list("id", flat=True)))
    rng = random.Random(SEED)
    titles = list(Product.objects.order_by("id").values_list("title", flat=True))
    prefixes = suggest_prefixes(titles, args.prefixes + 40, seed=SEED)
    del titles
    server = Gunicorn(workers=args.workers, env=os.environ)
    try:
        with HeapSampler() as heap:
            # Warm-up: every query twice; a cold node may shed a search (503) here.
            run_clients(8, lambda _s, p: api_get(server.port, SEARCH_PATH, p), jobs=mix * 2)
            for clients, passes in ((1, 2 * args.rounds), (8, 8 * args.rounds)):
                jobs = mix * passes
                rng.shuffle(jobs)
                result.search[clients] = run_clients(
                    clients, lambda _s, p: api_get(server.port, SEARCH_PATH, p), jobs=jobs
                )
            # The first 40 load the completion field's structures; the rest are measured.
            suggest = [{"q": prefix} for prefix in prefixes]
            run_clients(1, lambda _s, q: api_get(server.port, SUGGEST_PATH, q), jobs=suggest[:40])
            result.suggest = run_clients(
                1, lambda _s, q: api_get(server.port, SUGGEST_PATH, q), jobs=suggest[40:]
            )
        result.heap, result.heap_max = heap.samples, heap.heap_max
    finally:
        server.stop()


def database_bytes() -> int:
    with psycopg.connect(DATABASE_URL) as conn:
        return one(conn.execute("SELECT pg_database_size(current_database())"))[0]


def measure(products: int, args: argparse.Namespace) -> Measured:
    result = Measured(products=products, load=load_average())
    clock = [time.perf_counter()]

    def phase(name: str) -> None:
        now = time.perf_counter()
        result.seconds[name] = now - clock[0]
        clock[0] = now

    say(f"{products:,} products: load average {result.load}")
    indices_drop()
    bench_database_drop()
    database_prepare(env=os.environ, say=say)
    phase("prepare")
    manage(
        *("seed_data", "--products", str(products), "--stores", str(STORES)),
        *("--seed", str(SEED), "--no-progress"),
        env=os.environ,
    )
    phase("seed")
    say(f"seeded in {result.seconds['seed']:.1f} s; rebuilding ...")
    built = index_rebuild()
    phase("rebuild")
    count = es_client().count(index=ALIAS)["count"]
    if built.documents != products or count != products:
        raise SystemExit(f"rebuild: indexed {built.documents}, the alias counts {count}")
    say(f"rebuilt in {result.seconds['rebuild']:.1f} s ({result.docs_per_second:,.0f} docs/s)")
    merges_settle(timeout=max(90.0, products / 2_000))
    phase("settle")
    index_stats(result)
    result.database_bytes = database_bytes()
    phase("stats")
    say(f"searching ({len(search_mix([0, 0, 0]))}-query mix) and suggesting through gunicorn ...")
    serve(result, args)
    phase("serve")
    result.lags = sync_lag(changes=args.changes, rate=args.rate, env=os.environ, say=say)
    phase("lag")
    indices_drop()  # the next size's heap and cache should not hold this one
    phase("drop")
    detail(result)
    return result


# --- the guards ------------------------------------------------------------------------------


def memory_available() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no MemAvailable in /proc/meminfo")


def disk() -> tuple[int, int]:
    """(total, available) bytes of Elasticsearch's data path (Postgres shares the disk here)."""
    nodes = es_client().nodes.stats(metric="fs")["nodes"].values()
    total = sum(node["fs"]["total"]["total_in_bytes"] for node in nodes)
    return total, sum(node["fs"]["total"]["available_in_bytes"] for node in nodes)


def why_not(previous: Measured, products: int, remaining: float) -> str | None:
    """The reason not to start `products`, extrapolated from `previous`; None if it should fit."""
    need = previous.estimate(products)
    if need["seconds"] > remaining:
        return (
            f"its estimated {need['seconds'] / 60:.0f} min (seed, rebuild and merges x"
            f"{products / previous.products:g} from {previous.products:,}, the rest unchanged) "
            f"exceeds the {remaining / 60:.1f} min left of the budget"
        )
    heap_limit = previous.heap_max * HEAP_LIMIT
    if need["heap"] > heap_limit:
        return (
            f"its estimated heap need {mb(need['heap'])} (heap floor at {previous.products:,} "
            f"plus the completion field grown to {mb(need['completion'])}) exceeds "
            f"{HEAP_LIMIT:.0%} of the {mb(previous.heap_max)} heap"
        )
    cache = memory_available()
    if need["index"] > cache:
        return (
            f"its estimated index of {mb(need['index'])} would not fit in the "
            f"{mb(cache)} of memory available for the file cache"
        )
    total, available = disk()
    # A merge can briefly hold a second copy of the index.
    used_after = total - available + 2 * need["index"] + need["database"]
    if used_after > total * DISK_LIMIT:
        return (
            f"its estimated index ({mb(need['index'])}, twice while merging) and database "
            f"({mb(need['database'])}) would fill the disk past {DISK_LIMIT:.0%}"
        )
    return None


# --- output ----------------------------------------------------------------------------------


def mb(value: float) -> str:
    return f"{value / 2**20:,.0f} MB"


def detail(result: Measured) -> None:
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.seconds.items())
    errors = {clients: len(run.errors) for clients, run in result.search.items()}
    say(f"{result.products:,} products done: {phases}")
    say(
        f"  index {mb(result.store_bytes)} in {result.segments} segments "
        f"({result.bytes_per_product:,.0f} B/product, completion "
        f"{result.completion_bytes / result.products:,.0f} B/product); "
        f"database {mb(result.database_bytes)}"
    )
    say(
        f"  heap used p50 {mb(percentile(result.heap, 50))}, low {mb(min(result.heap))}, "
        f"high {mb(max(result.heap))} of {mb(result.heap_max)} ({len(result.heap)} samples)"
    )
    for clients, run in result.search.items():
        say(
            f"  search, {clients} client(s): {run.ok} requests, p50 "
            f"{result.search_ms(clients, 50):.1f} ms, p99 {result.search_ms(clients, 99):.1f} ms, "
            f"{run.rate:.1f} req/s, {errors[clients]} errors"
            + (f" (first: {run.errors[0]})" if run.errors else "")
        )
    assert result.suggest is not None
    say(
        f"  suggest, 1 client, cache cold: {result.suggest.ok} requests, p50 "
        f"{percentile(result.suggest.samples, 50) * 1000:.1f} ms, {len(result.suggest.errors)} "
        "errors"
    )
    say(
        f"  sync lag over {len(result.lags)} changes: p50 {percentile(result.lags, 50):.2f} s, "
        f"p99 {percentile(result.lags, 99):.2f} s"
    )


def table(results: list[Measured]) -> None:
    say("")
    say(
        "| products | seed | rebuild | docs/s | index bytes/product | ES heap used (low) "
        "| search p50 / p99, 1 client | search p50 / p99, 8 clients | suggest p50 | lag p99 |"
    )
    say("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        assert r.suggest is not None
        say(
            f"| {r.products:,} | {r.seconds['seed']:.1f} s | {r.seconds['rebuild']:.1f} s "
            f"| {r.docs_per_second:,.0f} | {r.bytes_per_product:,.0f} "
            f"| {mb(percentile(r.heap, 50))} ({mb(min(r.heap))}) of {mb(r.heap_max)} "
            f"| {r.search_ms(1, 50):.1f} / {r.search_ms(1, 99):.1f} ms "
            f"| {r.search_ms(8, 50):.1f} / {r.search_ms(8, 99):.1f} ms "
            f"| {percentile(r.suggest.samples, 50) * 1000:.1f} ms "
            f"| {percentile(r.lags, 99):.2f} s |"
        )
    say("")


def growth(results: list[Measured]) -> None:
    """Each size against the one before it; the issue's targets on 100,000 -> 1,000,000."""
    for before, after in zip(results, results[1:], strict=False):
        search = after.search_ms(1, 50) / before.search_ms(1, 50)
        search8 = after.search_ms(8, 50) / before.search_ms(8, 50)
        rate = after.docs_per_second / before.docs_per_second
        targets = (before.products, after.products) == (100_000, 1_000_000)
        say(
            f"{before.products:,} -> {after.products:,}: search p50 x{search:.2f} at 1 client"
            + (" (target <= 2)" if targets else "")
            + f", x{search8:.2f} at 8; rebuild docs/s x{rate:.2f}"
            + (" (target >= 0.8)" if targets else "")
        )
    if not any(r.products == 1_000_000 for r in results):
        say("targets (1,000,000 against 100,000): not checked, 1,000,000 was not measured")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(size) for size in text.split(",")],
        default=sized(list(SIZES), [300]),
        help="catalogue sizes, ascending (default 10000,100000,1000000)",
    )
    parser.add_argument("--budget-minutes", type=float, default=30.0)
    parser.add_argument(
        "--rounds", type=int, default=sized(6, 1), help="passes over the mix per client"
    )
    parser.add_argument(
        "--prefixes", type=int, default=sized(200, 10), help="distinct suggest prefixes"
    )
    parser.add_argument("--workers", type=int, default=sized(8, 2), help="gunicorn sync workers")
    parser.add_argument(
        "--changes", type=int, default=sized(200, 3), help="title changes for the lag"
    )
    parser.add_argument("--rate", type=float, default=20.0, help="changes committed per second")
    args = parser.parse_args()
    if args.sizes != sorted(args.sizes) or min(args.sizes) < 1:
        parser.error("--sizes: positive numbers, ascending")
    if not INDEX_PREFIX:
        parser.error("BENCH_SCALE_INDEX_PREFIX must not be empty: the run deletes its indices")

    started = time.perf_counter()
    budget = args.budget_minutes * 60
    say(f"machine: {os.cpu_count()} cores, load average {load_average()} (other work skews it)")
    sizes = ", ".join(f"{size:,}" for size in args.sizes)
    say(f"sizes {sizes}; budget {args.budget_minutes:g} min")
    results: list[Measured] = []
    stopped = None
    try:
        for products in args.sizes:
            if results:
                remaining = budget - (time.perf_counter() - started)
                reason = why_not(results[-1], products, remaining)
                if reason:
                    stopped = f"stopped before {products:,} products: {reason}"
                    say(stopped)
                    break
            results.append(measure(products, args))
    finally:
        indices_drop()
        bench_database_drop()
        redis_delete(REDIS_URL, f"*{CACHE_PREFIX}*")
        redis_delete(BROKER_URL, "celery*", "_kombu*", "unacked*")
        say("bench database, indices and Redis keys deleted")
    if not results:
        return
    table(results)
    growth(results)
    if stopped:
        say(stopped)
    else:
        last = results[-1]
        following = last.products * 10
        need = last.estimate(following)
        say(
            f"all sizes measured; {following:,} extrapolated from {last.products:,}: "
            f"~{need['seconds'] / 60:.0f} min, index {mb(need['index'])} "
            f"(completion {mb(need['completion'])}), heap need {mb(need['heap'])} of "
            f"{mb(last.heap_max)}, database {mb(need['database'])}"
        )
        reason = why_not(last, following, budget)
        say(
            f"{following:,} in a fresh {args.budget_minutes:g} min run: "
            + (f"would stop: {reason}" if reason else "would fit")
        )
    say(f"total run time {time.perf_counter() - started:.0f} s; load average {load_average()}")


if __name__ == "__main__":
    main()
