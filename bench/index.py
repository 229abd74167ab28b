"""Index benchmark: rebuild throughput against the raw bulk floor, then commit-to-search sync lag.

Against 100,000 seeded products, in one run:

  (a) raw floor: the very documents the rebuild writes, prepared beforehand as plain dicts, sent
      with `elasticsearch.helpers.parallel_bulk` into an index created the same way (bulk-load
      settings), then refreshed -- no Postgres, no Django, no document preparation;
  (b) `rebuild_index`'s service, end to end: new index, parallel bulk from Postgres through
      django-elasticsearch-dsl's document preparation, journal replay, alias swap, cleanup,
      without its force-merge (the floor has none). Rounds alternate (a) and (b); the ratio
      compares their medians (target >= 0.7);
  (d) index size: bytes per product of the last rebuild's index as built, then the force-merge
      `rebuild_index` runs by default, timed, and the bytes per product after it, with the
      largest fields (Elasticsearch's analyze-disk-usage API, which reads the files themselves);
  (c) sync lag: a real Celery worker and beat (subprocesses, on their own broker database)
      drain the outbox while this process commits title changes at a steady rate; a poller
      searches for the new titles and records when each becomes visible. p50/p95/p99 over 200.

  .venv/bin/python bench/index.py [--rounds 3] [--changes 200] [--rate 20] [--threads 2]
      [--confirmation-backlog 5000]   (the lag with that many order confirmations queued first)

The catalog is seeded once (`seed_data --products 100000 --seed 1`) into its own database,
`aisle_bench_index` (BENCH_INDEX_DATABASE_URL), and reused. Indices carry the `bench-index-`
prefix and are deleted at the end; the worker and beat use BENCH_INDEX_BROKER_URL (default
redis://127.0.0.1:6379/13), whose Celery keys are removed at the end.
"""

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402 - needs the repo on sys.path
    Catalog,
    CpuMeter,
    database_prepare,
    django_env,
    index_disk_usage,
    index_prefix,
    load_average,
    percentile,
    redis_delete,
    sized,
    sync_lag,
)

# A smaller catalogue answers the lag question faster (BENCH_INDEX_PRODUCTS=5000 with
# --skip-rebuild): the lag does not depend on the catalogue's size.
PRODUCTS = int(os.environ.get("BENCH_INDEX_PRODUCTS") or sized(100_000, 300))
STORES = 20  # seed_data's default
SEED = 1
DATABASE_URL = os.environ.get(
    "BENCH_INDEX_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_index"
)
BROKER_URL = os.environ.get("BENCH_INDEX_BROKER_URL", "redis://127.0.0.1:6379/13")
INDEX_PREFIX = index_prefix("bench-index-")
CACHE_PREFIX = f"aisle-bench-index-{os.getpid()}"

ENV = django_env(
    database_url=DATABASE_URL,
    redis_url=BROKER_URL,
    index_prefix=INDEX_PREFIX,
    cache_prefix=CACHE_PREFIX,
)
os.environ.update(ENV)

import django  # noqa: E402 - settings come from the environment set just above

django.setup()

from elasticsearch.helpers import parallel_bulk  # noqa: E402

from searchindex.client import ALIAS  # noqa: E402
from searchindex.client import es_client as registered_client  # noqa: E402
from searchindex.documents import ProductDocument, products_for_indexing  # noqa: E402
from searchindex.models import PendingIndexUpdate  # noqa: E402
from searchindex.rebuild import (  # noqa: E402
    REBUILD_CHUNK,
    index_create,
    index_finish_load,
    index_forcemerge,
    index_rebuild,
)


def say(message: str) -> None:
    print(f"[bench-index] {message}", flush=True)


def es_client():
    return registered_client()


# --- data ------------------------------------------------------------------------------------


def indices_drop() -> None:
    es_client().indices.delete(
        index=f"{INDEX_PREFIX}*", ignore_unavailable=True, allow_no_indices=True
    )


# --- (a) and (b): rebuild against the raw floor ------------------------------------------------


def prepared_documents() -> list[tuple[int, dict]]:
    """The rebuild's documents, prepared once up front so the floor measures sending only."""
    doc = ProductDocument()
    queryset = products_for_indexing().order_by("id").iterator(chunk_size=REBUILD_CHUNK)
    return [(product.pk, doc.prepare(product)) for product in queryset]


def raw_floor(documents: list[tuple[int, dict]], *, chunk_size: int, threads: int) -> float:
    """Seconds to create an index and load the prepared dicts with parallel_bulk."""
    name = f"{ALIAS}-raw-{time.time_ns()}"
    es = es_client()
    started = time.perf_counter()
    index_create(name=name, bulk_load=True)
    actions = ({"_index": name, "_id": pk, "_source": source} for pk, source in documents)
    sent = 0
    for ok, item in parallel_bulk(es, actions, chunk_size=chunk_size, thread_count=threads):
        if not ok:
            raise SystemExit(f"raw floor: Elasticsearch refused {item}")
        sent += 1
    index_finish_load(name=name)
    seconds = time.perf_counter() - started
    count = es.count(index=name)["count"]
    es.indices.delete(index=name)
    if sent != len(documents) or count != len(documents):
        raise SystemExit(f"raw floor: sent {sent}, indexed {count}, expected {len(documents)}")
    return seconds


def rebuild(*, chunk_size: int, threads: int) -> float:
    """Seconds for `rebuild_index`'s service without its force-merge (the floor has none)."""
    started = time.perf_counter()
    result = index_rebuild(chunk_size=chunk_size, thread_count=threads, forcemerge=False)
    seconds = time.perf_counter() - started
    count = es_client().count(index=ALIAS)["count"]
    if result.documents != PRODUCTS or count != PRODUCTS:
        raise SystemExit(f"rebuild: indexed {result.documents}, alias counts {count}")
    return seconds


def cpu_used(meter: CpuMeter, work: Callable[[], float]) -> tuple[float, dict[str, float]]:
    """`work`'s result, and the CPU seconds each part of the stack spent while it ran."""
    before = meter.snapshot()
    result = work()
    after = meter.snapshot()
    return result, {part: after[part] - before.get(part, 0.0) for part in after}


def cpu_text(cpu: dict[str, float]) -> str:
    return "CPU s: " + ", ".join(f"{part} {seconds:.1f}" for part, seconds in cpu.items())


def throughput(args: argparse.Namespace) -> None:
    say("preparing the raw floor's documents in memory (not timed) ...")
    documents = prepared_documents()
    # Out of the collector's sight: otherwise every full collection during the rebuild rounds
    # walks the floor's ~2M live objects, CPU the rebuild would not spend on its own (~2 s).
    gc.freeze()
    # Elasticsearch and this client share the machine's cores: the CPU each spends says whose
    # work bounds the wall time.
    meter = CpuMeter(es=True, database_url=DATABASE_URL)
    raw_rates, rebuild_rates = [], []
    for round_number in range(1, args.rounds + 1):
        seconds, cpu = cpu_used(
            meter,
            lambda: raw_floor(documents, chunk_size=args.chunk_size, threads=args.threads),
        )
        raw_rates.append(len(documents) / seconds)
        say(
            f"round {round_number}: raw parallel_bulk  {seconds:6.1f} s  "
            f"{raw_rates[-1]:8,.0f} docs/s  {cpu_text(cpu)}"
        )
        seconds, cpu = cpu_used(
            meter, lambda: rebuild(chunk_size=args.chunk_size, threads=args.threads)
        )
        rebuild_rates.append(PRODUCTS / seconds)
        say(
            f"round {round_number}: rebuild_index      {seconds:6.1f} s  "
            f"{rebuild_rates[-1]:8,.0f} docs/s  {cpu_text(cpu)}"
        )
    raw, built = percentile(raw_rates, 50), percentile(rebuild_rates, 50)
    say(
        f"RESULT rebuild {built:,.0f} docs/s vs raw floor {raw:,.0f} docs/s: "
        f"ratio {built / raw:.2f} (target >= 0.70); chunk {args.chunk_size}, "
        f"{args.threads} threads, {PRODUCTS:,} documents"
    )


# --- (d): bytes per product, before and after the force-merge ------------------------------------


def disk_usage(index: str) -> tuple[int, int, dict[str, int]]:
    """(bytes, segments, bytes by field) of the index's primary shards."""
    size, fields = index_disk_usage(es_client(), index)
    segments = es_client().indices.stats(index=index, metric="segments")["_all"]["primaries"]
    return size, segments["segments"]["count"], fields


def index_size() -> None:
    (index,) = es_client().indices.get_alias(name=ALIAS).body
    built, built_segments, _ = disk_usage(index)
    started = time.perf_counter()
    index_forcemerge(name=index)
    merge_seconds = time.perf_counter() - started
    merged, merged_segments, fields = disk_usage(index)
    largest = sorted(fields.items(), key=lambda item: -item[1])[:5]
    say(
        "RESULT index size: "
        f"{built / PRODUCTS:,.0f} bytes/product as built ({built_segments} segments), "
        f"{merged / PRODUCTS:,.0f} bytes/product after the force-merge ({merged_segments} "
        f"segment(s), {merge_seconds:.1f} s); largest fields: "
        + ", ".join(f"{name} {size / PRODUCTS:,.0f}" for name, size in largest)
    )


# --- (c): sync lag with a real worker and beat --------------------------------------------------


def confirmation_backlog(count: int) -> list[int]:
    """`count` confirmed orders whose confirmations wait on the default queue (the index queue
    has a worker of its own, so its drains must not wait behind them)."""
    from inventory.models import Store
    from ordering.models import Order
    from ordering.tasks import send_order_confirmation

    store = Store.objects.order_by("id").first()
    orders = Order.objects.bulk_create(
        Order(store=store, status=Order.Status.CONFIRMED) for _ in range(count)
    )
    for order in orders:
        send_order_confirmation.delay(order.pk)
    return [order.pk for order in orders]


def queued(queue: str) -> int:
    import redis

    return redis.Redis.from_url(BROKER_URL).llen(queue)


def lag(args: argparse.Namespace) -> None:
    from ordering.models import Order

    backlog: list[int] = []
    if args.confirmation_backlog:
        backlog = confirmation_backlog(args.confirmation_backlog)
        say(f"{len(backlog)} order confirmations queued on the default queue ({queued('celery')})")
    try:
        lags = sync_lag(changes=args.changes, rate=args.rate, env=os.environ, say=say)
        left = queued("celery")
    finally:
        Order.objects.filter(pk__in=backlog).delete()
    p50, p95, p99 = (percentile(lags, p) for p in (50, 95, 99))
    say(
        f"RESULT sync lag commit -> visible in a search over {len(lags)} changes: "
        f"p50 {p50:.2f} s, p95 {p95:.2f} s, p99 {p99:.2f} s, max {max(lags):.2f} s "
        f"(refresh interval {os.environ.get('ELASTICSEARCH_REFRESH_INTERVAL', '1s')}, "
        f"target p99 <= 1.5 s; {len(backlog)} confirmations queued first, {left} still queued "
        "at the end)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=sized(3, 1))
    parser.add_argument("--chunk-size", type=int, default=REBUILD_CHUNK)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--changes", type=int, default=sized(200, 3))
    parser.add_argument("--rate", type=float, default=20.0, help="changes committed per second")
    parser.add_argument("--skip-lag", action="store_true")
    parser.add_argument(
        "--confirmation-backlog",
        type=int,
        default=0,
        help="queue this many order confirmations before the lag is measured (e.g. 5000)",
    )
    parser.add_argument("--skip-rebuild", action="store_true", help="only the sync lag part")
    args = parser.parse_args()
    run_started = time.perf_counter()
    say(f"machine: {os.cpu_count()} cores, load average {load_average()} (other work skews it)")
    database_prepare(env=os.environ, catalog=Catalog(PRODUCTS, STORES, SEED), say=say)
    indices_drop()
    try:
        if args.skip_rebuild:
            say("building the index for the lag measurement (not timed) ...")
            index_rebuild(chunk_size=args.chunk_size, thread_count=args.threads, forcemerge=False)
        else:
            throughput(args)
        index_size()
        if not args.skip_lag:
            lag(args)
    finally:
        indices_drop()
        redis_delete(BROKER_URL, "celery*", "_kombu*", "unacked*", f"*{CACHE_PREFIX}*")
        # The bench database keeps no outbox backlog between runs: the next rebuild covers it.
        PendingIndexUpdate.objects.all().delete()
        say("bench indices and broker keys deleted")
    say(f"total run time {time.perf_counter() - run_started:.0f} s; load average {load_average()}")


if __name__ == "__main__":
    main()
