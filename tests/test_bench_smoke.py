"""Every `make bench-*` target runs to completion in its smoke mode and prints its figures.

Each benchmark runs as `make bench-X` runs it (`python bench/X.py`, a subprocess) with
BENCH_SMOKE=1: the same code path on a tiny catalogue and a second or two of traffic. It gets a
database of its own for this test run (dropped afterwards), the test Redis databases and an
index prefix of its own (its indices deleted afterwards). The figures of a smoke run mean
nothing; that the lines are printed and the run exits 0 is what is checked.
"""

import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from django.conf import settings

from bench.common import database_drop
from searchindex.client import admin_client

ROOT = Path(__file__).resolve().parent.parent
RUN = uuid.uuid4().hex[:6]
TIMEOUT = 300  # seconds; a smoke run takes well under a minute on a quiet machine


@dataclass(frozen=True)
class Bench:
    script: str
    database_var: str  # the environment variable that names the benchmark's database
    figures: tuple[str, ...]  # regular expressions, each matching a line the run must print
    redis_vars: tuple[str, ...] = ()  # cache, then broker variables pointed at test Redis
    broker_vars: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)


# bench/cpu_profile.py's kinds: each prints a line of figures.
CPU_KINDS = "search suggest_hit suggest_cold order healthz search_io suggest_io order_io"

BENCHES = {
    "orders": Bench(
        "orders.py",
        "BENCH_DATABASE_URL",
        (
            r"no Idempotency-Key +p50 +[\d.]+ ms",
            r"^ +\d+ +\d+ +\d+ +\d+ +[\d.]+ +[\d.]+ +0 +0$",  # hot, spread, raw: 0 oversold
            r"^ +\d+ +\d+ +\d+ +\d+ +[\d.]+ +[\d.]+ +[\d.]+$",  # the floors
            r"clients: hot order +[\d.]+ ms \(web [\d.]+",
            r"sell-out: \d+ single-unit orders .* -> 20 confirmed, stock left 0, errors 0",
            r"[\d.]+ +total per order",
            r"[\d.]+ +COMMIT",
        ),
        redis_vars=("BENCH_REDIS_URL",),
        broker_vars=("BENCH_BROKER_URL",),
    ),
    "index": Bench(
        "index.py",
        "BENCH_INDEX_DATABASE_URL",
        (
            r"RESULT rebuild [\d,]+ docs/s vs raw floor [\d,]+ docs/s: ratio [\d.]+",
            r"RESULT index size: [\d,]+ bytes/product as built",
            r"RESULT sync lag commit -> visible in a search over 3 changes: p50 [\d.]+ s",
        ),
        broker_vars=("BENCH_INDEX_BROKER_URL",),
    ),
    "search": Bench(
        "search.py",
        "BENCH_SEARCH_DATABASE_URL",
        (
            r"\(a\) search API .* +[\d.]+ +[\d.]+ +[\d.]+ +\d+$",
            r"\(b\) same bodies straight to Elasticsearch +[\d.]+",
            r"\(d\) suggest API, cache cold +[\d.]+",
            r"\(f\) suggest API with store_id, cache cold +[\d.]+",
            r"search API / raw Elasticsearch +[\d.]+x",
            r"search API p50, today / before: [\d.]+x \(target <= 1.10x\); raw Elasticsearch",
            r"suggest API cold / raw completion +[\d.]+x",
            r"\(a\) search API +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+$",  # CPU per request
            r"\(a\) the API over HTTP through gunicorn +[\d.]+",
            r"\(d\) the API over HTTP through gunicorn, cache cold +[\d.]+",
        ),
        redis_vars=("BENCH_SEARCH_REDIS_URL",),
    ),
    "cpu": Bench(
        "cpu_profile.py",
        "BENCH_CPU_DATABASE_URL",
        tuple(rf"^  {kind} +min +[\d.]+  rounds( +[\d.]+)+$" for kind in CPU_KINDS.split())
        + tuple(
            rf"^  {kind} +floor +[\d.]+ \(healthz [\d.]+ \+ I/O [\d.]+\), the API [\d.]+; target"
            for kind in ("search", "suggest_hit", "order")
        )
        + (r"=== cProfile: order, 5 requests ===", r"--- by tottime ---"),
        redis_vars=("BENCH_CPU_REDIS_URL",),
    ),
    "import": Bench(
        "import.py",
        "BENCH_IMPORT_DATABASE_URL",
        (
            r"\(a\) first import \(all created\) +[\d.]+ s +[\d,]+ lines/s",
            r"\(b\) same file again \(unchanged\) +[\d.]+ s",
            r"\(c\) every tenth price changed +[\d.]+ s",
            r"\(d\) \(c\) gzipped, unchanged +[\d.]+ s",
            r"products stored: 300;",
        ),
    ),
    "relevance": Bench(
        "relevance.py",
        "BENCH_RELEVANCE_DATABASE_URL",
        (
            r"import_catalog: ",
            r"^NDCG@10 \(gains 2\^g - 1\) +[\d.]+ +[\d.]+ +[-+][\d.]+$",
            r"^zero-result rate +[\d.]+ +[\d.]+ +[-+][\d.]+$",
            r"NDCG@10 difference, 95% paired bootstrap over queries: [-+][\d.]+ to [-+][\d.]+",
        ),
        redis_vars=("BENCH_RELEVANCE_REDIS_URL",),
    ),
    "scale": Bench(
        "scale.py",
        "BENCH_SCALE_DATABASE_URL",
        (
            r"300 products done: ",
            r"search, 8 client\(s\): \d+ requests, p50 [\d.]+ ms",
            r"\| 300 \| [\d.]+ s \| ",  # the table
            r"bench database, indices and Redis keys deleted",
            r"all sizes measured; 3,000 extrapolated from 300",
        ),
        redis_vars=("BENCH_SCALE_REDIS_URL",),
        broker_vars=("BENCH_SCALE_BROKER_URL",),
    ),
    "analytics": Bench(
        "analytics.py",
        "BENCH_ANALYTICS_DATABASE_URL",
        (
            r"^  off +\d+ +[\d.]+ +[\d.]+$",
            r"^  on +\d+ +[\d.]+ +[\d.]+$",
            r"^  dead sink +\d+ +[\d.]+ +[\d.]+$",
            r"events stored from the 'on' server: \d+ of \d+ measured requests",
            r"one search_recorded call in-process: [\d.]+ us",
        ),
        redis_vars=("BENCH_ANALYTICS_REDIS_URL",),
    ),
    "drills": Bench(
        "drills.py",
        "DATABASE_URL",  # pytest-django creates (and drops) test_<name> from it
        (r"DRILL postgres", r"PASSED tests/test_drills.py::", r"exit status 0"),
    ),
    "load": Bench(
        "load.py",
        "LOAD_DATABASE_URL",
        (
            r"^order_hot +\d+ +[\d.]+ +[\d.]+ +[\d.]+",
            r"^search +\d+ +[\d.]+ +[\d.]+ +[\d.]+",
            r"^all +\d+ +[\d.]+$",
            r"stock invariant: 0 rows broken, 0 negative",
            r"index drift after drain: 0 products",
        ),
        redis_vars=("LOAD_REDIS_URL",),
        broker_vars=("LOAD_BROKER_URL",),
    ),
}
# Each takes a Celery worker, several servers or a bulk import even in smoke mode.
HEAVY = {"index", "relevance", "scale", "analytics", "drills", "load"}


BASE = urlparse(os.environ.get("DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle"))


def _database_url(name: str) -> str:
    """A database for this run and benchmark, named after the test database's own."""
    own = f"{BASE.path.lstrip('/')}_smoke_{RUN}_{name}"[:63]
    return BASE._replace(path=f"/{own}").geturl()


def _indices_drop(prefix: str) -> None:
    es = admin_client(timeout=120)
    names = list(es.indices.get(index=f"{prefix}*", allow_no_indices=True))
    if names:  # by name: wildcard deletes may be refused (destructive_requires_name)
        es.indices.delete(index=",".join(names))


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name for name in BENCHES],
)
def test_bench_runs_in_smoke_mode_and_prints_its_figures(name: str) -> None:
    smoke_run_checked(name, BENCHES[name])


# Run by `make test-cluster`, which starts the cluster it needs.
CLUSTER = Bench(
    "search_cluster.py",
    "BENCH_SEARCH_DATABASE_URL",
    (
        r"index: [\d,]+ documents on the 3-node cluster \(3 shards, 1 replica\) in [\d.]+ s, green",
        r"^  search API, cluster +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +\d+$",
        r"^  raw search, one node +[\d.]+",
        r"^  suggest API cold, cluster +[\d.]+",
        r"^  search API +[\d.]+x; +[\d.]+x$",
        r"indices deleted on the node and the cluster",
    ),
    redis_vars=("BENCH_SEARCH_REDIS_URL",),
)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("AISLE_ES_CLUSTER_PORT"),
    reason="needs a local cluster: make test-cluster starts one",
)
def test_bench_search_cluster_runs_in_smoke_mode_and_prints_its_figures() -> None:
    smoke_run_checked("cluster", CLUSTER)


def smoke_run_checked(name: str, bench: Bench) -> None:
    """`bench` as `make` runs it, in smoke mode, with a database, Redis and indices of this
    test run's; it must exit 0 and print a line matching each of its figures."""
    database_url = _database_url(name)
    prefix = f"smoke-{RUN}-{name}-"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(
        BENCH_SMOKE="1",
        BENCH_INDEX_PREFIX=prefix,
        BENCH_SCALE_INDEX_PREFIX=prefix,
        LOAD_INDEX_PREFIX=prefix,
        # A data stream cannot be deleted on our node: one per engineer's database, reused.
        SEARCH_ANALYTICS_DATA_STREAM=f"smoke-{BASE.path.lstrip('/').lower()}-search-events",
        **{bench.database_var: database_url},
        **dict.fromkeys(bench.redis_vars, settings.REDIS_URL),
        **dict.fromkeys(bench.broker_vars, settings.CELERY_BROKER_URL),
        **bench.extra,
    )
    try:
        run = subprocess.run(  # noqa: S603 - our own interpreter, our own scripts
            [sys.executable, f"bench/{bench.script}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    finally:
        database_drop(database_url)
        test_database = urlparse(database_url)
        database_drop(test_database._replace(path=f"/test_{test_database.path[1:]}").geturl())
        _indices_drop(prefix)
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"bench/{bench.script} exited {run.returncode}:\n{output[-4000:]}"
    lines = run.stdout.splitlines()
    missing = [
        figure for figure in bench.figures if not any(re.search(figure, line) for line in lines)
    ]
    assert not missing, f"bench/{bench.script} printed no line matching {missing}:\n{run.stdout}"


def test_database_drop_ends_our_own_sessions_and_drops_without_force():
    url = urlparse(_database_url("drop"))
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    session = psycopg.connect(url.geturl())  # still open: a benchmark's leftover connection
    try:
        database_drop(url.geturl())
        with psycopg.connect(admin) as conn:
            gone = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            assert gone.fetchone() is None
        with pytest.raises(psycopg.OperationalError):
            session.execute("SELECT 1")  # terminated by the drop
    finally:
        session.close()
        database_drop(url.geturl())  # a no-op once dropped
