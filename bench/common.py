"""The benchmarks' one harness: percentiles, closed-loop clients, processes, CPU, databases."""

import http.client
import itertools
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import psycopg
import redis
from elasticsearch.exceptions import GeneralAvailabilityWarning

ROOT = Path(__file__).resolve().parent.parent
_TICK = os.sysconf("SC_CLK_TCK")
# BENCH_SMOKE=1: every benchmark runs its own code path on a tiny catalogue for a second or two
# and prints the same figure lines (tests/test_bench_smoke.py runs each so); the figures of a
# smoke run mean nothing.
SMOKE = os.environ.get("BENCH_SMOKE", "") not in {"", "0"}


def sized(full: Any, smoke: Any) -> Any:
    """`full` for a real run, `smoke` under BENCH_SMOKE=1."""
    return smoke if SMOKE else full


def index_prefix(default: str) -> str:
    """The benchmark's Elasticsearch index prefix: BENCH_INDEX_PREFIX, else its own default.
    Its indices are deleted by this prefix, so two runs at once each need their own."""
    prefix = os.environ.get("BENCH_INDEX_PREFIX") or default
    if not prefix or prefix != prefix.lower():
        raise SystemExit(f"BENCH_INDEX_PREFIX {prefix!r}: non-empty and lower case")
    return prefix


# --- figures ---------------------------------------------------------------------------------


def percentile(samples: Sequence[float], p: float) -> float:
    """The nearest-rank p-th percentile (0 < p <= 100) of `samples`.

    The smallest sample that at least p% of the samples do not exceed: always a measured value,
    never an interpolation between two (so p50 of an even count is the lower middle sample,
    and p99 of fewer than 100 samples is the maximum). Every benchmark reports with this one.
    """
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = math.ceil(Fraction(str(p)) * len(ordered) / 100)  # exact: 0.99 * 300 is not 297.0
    return ordered[max(rank, 1) - 1]


def one(cursor: psycopg.Cursor[Any]) -> Any:
    """The row a query must return: none is a broken bench, not a None to carry on with."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the query returned no row")
    return row


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# --- CPU -------------------------------------------------------------------------------------


def _process_cpu() -> Iterable[tuple[int, int, float]]:
    """(pid, parent pid, CPU seconds used so far) of every process /proc shows."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone since the directory was listed
        yield int(entry.name), int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _is_elasticsearch(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"org.elasticsearch" in cmdline.read()
    except OSError:
        return False


class CpuMeter:
    """CPU seconds (user + system) used so far by the parts of the stack a benchmark drives.

    Parts, each present when asked for: `client`, this process; `web`, a server process and
    its children (gunicorn's master and workers); `db`, the Postgres backends connected to a
    database; `es`, Elasticsearch, which serves anyone else on the machine too, so its figure
    is an upper bound for the benchmark's requests.
    """

    def __init__(
        self, *, server: int | None = None, database_url: str | None = None, es: bool = False
    ) -> None:
        self.server = server
        self.database_url = database_url
        self.es = es

    def _backends(self) -> set[int]:
        if self.database_url is None:
            return set()
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        return {row[0] for row in rows}

    def snapshot(self) -> dict[str, float]:
        usage = {"client": time.process_time()}
        parts = {"web": self.server is not None, "db": self.database_url is not None}
        usage.update({part: 0.0 for part, wanted in {**parts, "es": self.es}.items() if wanted})
        backends = self._backends()
        for pid, parent, seconds in _process_cpu():
            if self.server is not None and self.server in (pid, parent):
                usage["web"] += seconds
            elif pid in backends:
                usage["db"] += seconds
            elif self.es and _is_elasticsearch(pid):
                usage["es"] += seconds
        return usage


# --- closed-loop clients ---------------------------------------------------------------------


@dataclass
class Run:
    """What one closed-loop run measured."""

    samples: list[float]  # seconds each completed operation took
    outcomes: list[Any]  # what each completed operation returned, in the order of `samples`
    errors: list[str]  # operations that raised
    elapsed: float  # seconds from the start until the last client finished
    cpu: dict[str, float]  # CPU seconds per part of the meter over the run; empty without one

    @property
    def ok(self) -> int:
        return len(self.samples)

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed

    def cpu_ms_per_op(self) -> dict[str, float]:
        return {part: seconds * 1000 / max(self.ok, 1) for part, seconds in self.cpu.items()}

    def raise_on_errors(self) -> "Run":
        if self.errors:
            raise SystemExit(f"{len(self.errors)} errors, first: {self.errors[0]}")
        return self


def forever(job: Any = None) -> Callable[[int], Iterable[Any]]:
    """`jobs` for `run_clients`: every client repeats `job` until the run's time is up."""
    return lambda _client: itertools.repeat(job)


def _no_state(_client: int) -> None:
    return None


def run_clients(
    clients: int,
    operation: Callable[[Any, Any], Any],
    *,
    jobs: Sequence[Any] | Callable[[int], Iterable[Any]],
    connect: Callable[[int], Any] = _no_state,
    seconds: float | None = None,
    meter: CpuMeter | None = None,
) -> Run:
    """`clients` threads in a closed loop: each sends its next operation when the last answered.

    Client i opens its state with `connect(i)` (a connection, closed at the end if it has a
    `close()`), waits until every client is ready, then calls `operation(state, job)` for each
    of its jobs: a sequence is dealt out in turn (client i takes `jobs[i::clients]`), a callable
    gives client i its own iterable `jobs(i)`. A client stops when its jobs run out or, with
    `seconds`, when that long has passed since the start. Every operation is timed; one that
    raises is counted as an error and the client carries on. The meter is read after every
    client has connected and before any disconnects, so per-connection processes count.
    """
    ready = threading.Barrier(clients + 1)
    finished = threading.Barrier(clients + 1)
    start, release = threading.Event(), threading.Event()
    deadline = [math.inf]
    samples: list[float] = []
    outcomes: list[Any] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        state = None
        try:
            state = connect(index)
            ready.wait()
            start.wait()
            mine = jobs[index::clients] if isinstance(jobs, Sequence) else jobs(index)
            times: list[float] = []
            results: list[Any] = []
            failures: list[str] = []
            for job in mine:
                began = time.perf_counter()
                if began >= deadline[0]:
                    break
                try:
                    result = operation(state, job)
                except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
                    failures.append(f"{type(exc).__name__}: {exc}"[:200])
                    continue
                times.append(time.perf_counter() - began)
                results.append(result)
            with lock:
                samples.extend(times)
                outcomes.extend(results)
                errors.extend(failures)
            finished.wait()
            release.wait()
        except threading.BrokenBarrierError:
            pass  # another client failed; the run is abandoned
        except BaseException:
            ready.abort()
            finished.abort()
            raise
        finally:
            close = getattr(state, "close", None)
            if close is not None:
                close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
        before = meter.snapshot() if meter else {}
        started = time.perf_counter()
        if seconds is not None:
            deadline[0] = started + seconds
        start.set()
        finished.wait()
        elapsed = time.perf_counter() - started
        after = meter.snapshot() if meter else {}
    except threading.BrokenBarrierError:
        raise SystemExit("a benchmark client failed outside its operations (see above)") from None
    finally:
        start.set()
        release.set()
        for thread in threads:
            thread.join()
    cpu = {part: after[part] - before[part] for part in after}
    return Run(samples, outcomes, errors, elapsed, cpu)


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A process the benchmark starts, in its own session so stopping it takes its children too.

    Output goes to `log` when given, else to this process's own stdout and stderr.
    """

    def __init__(self, argv: list[str], *, env: Mapping[str, str], log: Path | None = None):
        output = log.open("w") if log is not None else None
        self.popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            start_new_session=True,
        )
        if output is not None:
            output.close()  # the child holds its own descriptor

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        stop_all(self)


def stop_all(*processes: Process) -> None:
    """SIGTERM to every process group at once, then SIGKILL to any still there after 20 s."""
    for process in processes:
        if process.popen.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.popen.wait()


def index_disk_usage(es: Any, index: str) -> tuple[int, dict[str, int]]:
    """Bytes of an index's primary shards, and bytes by field, read from the files of its last
    commit (flushed first) by Elasticsearch's analyze-disk-usage API: exact, where the store
    stats are cached for 10 s and can still count the files a merge has just replaced."""
    es = es.options(request_timeout=900)
    es.indices.flush(index=index)
    with warnings.catch_warnings():  # a technical preview API; its figures are what we need
        warnings.simplefilter("ignore", GeneralAvailabilityWarning)
        usage = es.indices.disk_usage(index=index, run_expensive_tasks=True).body
    (shards,) = (value for key, value in usage.items() if key != "_shards")
    fields = {name: field["total_in_bytes"] for name, field in shards["fields"].items()}
    return shards["store_size_in_bytes"], fields


THROTTLED_SCOPES = ("SEARCH", "SUGGEST", "ORDER", "LISTING", "SEARCH_EVENTS")
UNTHROTTLED = {f"{scope}_THROTTLE_RATE": "10000000/min" for scope in THROTTLED_SCOPES}


def django_env(
    *,
    database_url: str,
    redis_url: str,
    index_prefix: str,
    cache_prefix: str,
    broker_url: str | None = None,
) -> dict[str, str]:
    """The settings a benchmark runs Django with, in-process and in every server or worker it
    starts: its own database, Redis, index and cache prefixes; production-like (eager Celery
    and DEBUG off); throttles out of reach (they are measured, never the limit); quiet logs."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker_url or redis_url,
        "CACHE_KEY_PREFIX": cache_prefix,
        "ELASTICSEARCH_INDEX_PREFIX": index_prefix,
        "ELASTICSEARCH_TIMEOUT": "120",  # bulk requests on a shared 2-core machine
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_DEBUG": "false",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "ERROR"),
        "PYTHONWARNINGS": "ignore:No directory at",  # STATIC_ROOT exists only after collectstatic
        **UNTHROTTLED,
    }


class Gunicorn(Process):
    """The API as `make run` serves it: gunicorn, sync workers, on a free loopback port.

    Returns once `ready_path` answers 200 (`/readyz` also waits for Postgres, Redis and
    Elasticsearch); gives up after a minute.
    """

    def __init__(
        self,
        *,
        workers: int,
        env: Mapping[str, str],
        log: Path | None = None,
        ready_path: str = "/healthz",
        app: str = "config.wsgi:application",
    ) -> None:
        self.port = free_port()
        # Every benchmark client calls from 127.0.0.1, one anonymous caller: the per-caller
        # throttles are kept in the path (so their cost is measured) but set out of reach.
        env = {**UNTHROTTLED, **env}
        super().__init__(
            [sys.executable, "-m", "gunicorn", app]
            + ["--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)]
            + ["--backlog", "256", "--timeout", "30", "--log-level", "warning"],
            env=env,
            log=log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", ready_path)
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not answer {ready_path} within 60 s")


class Celery(Process):
    """`celery -A config <args>`: a worker (`-B` runs beat inside it) or a beat."""

    def __init__(self, *args: str, env: Mapping[str, str], log: Path | None = None) -> None:
        argv = [sys.executable, "-m", "celery", "-A", "config", "--quiet", *args]
        super().__init__(argv, env=env, log=log)


def celery_workers(
    *args: str, env: Mapping[str, str], logs: Path | None = None, concurrency: int = 2
) -> list[Celery]:
    """The two workers `make run` starts: the default queue (with `args`, e.g. `-B`) and the
    index queue (outbox drains and sweeps, CELERY_TASK_ROUTES) on a worker of its own."""
    from django.conf import settings

    level = ("--loglevel", "WARNING")
    default = Celery(
        *("worker", *level, "--concurrency", str(concurrency), "-Q", "celery", "-n", "default@%h"),
        *args,
        env=env,
        log=logs / "worker.log" if logs else None,
    )
    index = Celery(
        *("worker", *level, "--concurrency", "1", "-Q", settings.SEARCHINDEX_QUEUE),
        *("-n", "index@%h"),
        env=env,
        log=logs / "worker-index.log" if logs else None,
    )
    return [default, index]


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """A seeded catalog: `seed_data --products P --stores S --seed N`."""

    products: int
    stores: int
    seed: int


def manage(*args: str, env: Mapping[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=dict(env), check=True)


def database_drop(database_url: str, *, attempts: int = 8) -> None:
    """Drop the database `database_url` names, if it exists.

    Not `WITH (FORCE)`: that refuses (InsufficientPrivilege) while any backend of another role
    is connected, and an autovacuum worker after a large load is one. Our own sessions are
    terminated, then a plain DROP, which stops autovacuum workers itself; a backend that is
    still there (ObjectInUse) is retried with a growing pause.
    """
    url = urlparse(database_url)
    name = url.path.lstrip("/")
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
        for attempt in range(attempts):
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND usename = current_user AND pid <> pg_backend_pid()",
                [name],
            )
            try:
                # The name comes from our own setting, never from input.
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                return
            except psycopg.errors.ObjectInUse:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.5 * 2**attempt)


def database_prepare(
    *,
    env: Mapping[str, str],
    recreate: bool = False,
    catalog: Catalog | None = None,
    say: Callable[[str], None] = print,
) -> None:
    """Create the database `env["DATABASE_URL"]` names unless it exists (with `recreate`, drop it
    first), migrate it, and seed `catalog` unless it holds exactly that many products and stores.
    """
    url = urlparse(env["DATABASE_URL"])
    name = url.path.lstrip("/")
    if recreate:
        database_drop(env["DATABASE_URL"])
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
        # The name comes from our own setting, never from input.
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    manage("migrate", "--noinput", "-v", "0", env=env)
    if catalog is None:
        return
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        products, stores = one(
            conn.execute(
                "SELECT (SELECT count(*) FROM catalog_product),"
                " (SELECT count(*) FROM inventory_store)"
            )
        )
    if (products, stores) == (catalog.products, catalog.stores):
        say(f"catalog: reusing {products:,} seeded products and {stores} stores")
        return
    say(f"catalog: seeding {catalog.products:,} products and {catalog.stores} stores")
    manage(
        "seed_data",
        *("--products", str(catalog.products), "--stores", str(catalog.stores)),
        *("--seed", str(catalog.seed), "--no-progress"),
        env=env,
    )


def redis_delete(url: str, *patterns: str) -> None:
    """Delete the keys matching `patterns` (`*` for all) from the Redis database at `url`."""
    client = redis.Redis.from_url(url)
    for pattern in patterns:
        keys = list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])


# --- the search workload ---------------------------------------------------------------------


def search_mix(store_ids: list[int]) -> list[dict[str, str]]:
    """A fixed mix: text alone, text with filters and a store, typos, and filter-only listings."""
    first, second, third = (str(store_id) for store_id in store_ids[:3])
    return [
        {"q": "milk"},
        {"q": "green tea"},
        {"q": "basmati rice", "sort": "price"},
        {"q": "shampoo", "store_id": first},
        {"q": "chocolate", "category": "chocolates-sweets", "max_price": "500"},
        {"q": "mango juice", "in_stock": "true", "store_id": second},
        {"q": "biscuits", "min_price": "50", "max_price": "200"},
        {"q": "choclate"},
        {"q": "sunflower oil", "sort": "-price"},
        {"q": "amul butter", "in_stock": "true"},
        {"category": "dairy"},
        {"category": "snacks", "store_id": third, "in_stock": "true"},
        {"min_price": "100", "max_price": "300", "sort": "price"},
        {"q": "ice cream", "category": "Frozen"},
        {"q": "rice", "page": "3"},
        {"q": "turmeric powder", "store_id": first},
        {"q": "ginger", "sort": "newest"},
    ]


def suggest_prefixes(titles: Sequence[str], count: int, *, seed: int) -> list[str]:
    """Distinct prefixes people type: 3 to 7 letters of title words, first words most."""
    rng = random.Random(seed)
    titles = rng.sample(list(titles), min(len(titles), count * 4))
    prefixes: list[str] = []
    seen: set[str] = set()
    for title in titles:
        words = [word for word in title.lower().split() if word.isalpha() and len(word) >= 3]
        if not words:
            continue
        word = words[0] if rng.random() < 0.6 else rng.choice(words)
        prefix = word[: rng.randint(3, min(7, len(word)))]
        if prefix not in seen:
            seen.add(prefix)
            prefixes.append(prefix)
        if len(prefixes) == count:
            break
    return prefixes


def api_get(port: int, path: str, params: dict[str, str]) -> bytes:
    # gunicorn's sync workers close every connection, so each request opens one, like a client.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", f"{path}?{urlencode(params)}")
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{path} {params}: {response.status} {body[:200]!r}")
    return body


# --- commit-to-search lag --------------------------------------------------------------------
# These need Django set up with the benchmark's settings. This module is imported before the
# benchmarks set their environment, so the project's modules are imported when called.


def visible_titles(titles: list[str]) -> set[str]:
    """Which of `titles` a search on the products alias finds now."""

    from searchindex.client import ALIAS, es_client

    if not titles:
        return set()
    hits = es_client().search(
        index=ALIAS,
        query={"terms": {"title.raw": [title.lower() for title in titles]}},
        source=["title"],  # type: ignore[arg-type]  # a field list is valid; the client's hint omits it
        size=len(titles),
    )["hits"]["hits"]
    return {hit["_source"]["title"] for hit in hits}


def title_change(product_id: int, title: str) -> None:
    from django.db import transaction

    from catalog.models import Product

    with transaction.atomic():
        product = Product.objects.get(pk=product_id)
        product.title = title
        product.save(update_fields=["title", "updated_at"])


def wait_until_visible(title: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if visible_titles([title]):
            return True
        time.sleep(0.05)
    return False


def sync_lag(
    *, changes: int, rate: float, env: Mapping[str, str], say: Callable[[str], None] = print
) -> list[float]:
    """Seconds from commit to visible in a search, for each of `changes` title changes.

    A real Celery worker and beat (subprocesses with `env`) drain the outbox while this process
    commits the changes at `rate` per second; a poller searches for the new titles and records
    when each becomes visible. The original titles are restored (and queued) at the end.
    """
    from django.db import transaction

    from catalog.models import Product
    from catalog.signals import products_bulk_changed

    product_ids = list(Product.objects.order_by("?").values_list("id", flat=True)[: changes + 1])
    originals = dict(Product.objects.filter(pk__in=product_ids).values_list("id", "title"))
    run = f"{time.time_ns() % 10**9:09d}"
    with tempfile.TemporaryDirectory(prefix="aisle-bench-lag-") as workdir:
        workers = [
            *celery_workers(env=env),
            Celery(
                *("beat", "--loglevel", "WARNING"),
                *("--schedule", str(Path(workdir) / "celerybeat-schedule")),
                env=env,
            ),
        ]
        try:
            # Warm-up: the first change is visible once the worker is up and draining.
            warm_title = f"Lagprobe {run} warmup"
            title_change(product_ids[0], warm_title)
            if not wait_until_visible(warm_title, timeout=60):
                raise SystemExit("sync lag: the worker never drained the warm-up change")
            say(f"worker and beat up; committing {changes} changes at {rate:g}/s ...")
            return _lag_measure(product_ids[1:], run, rate)
        finally:
            with transaction.atomic():
                for pk, title in originals.items():
                    Product.objects.filter(pk=pk).update(title=title)
                products_bulk_changed.send(sender=Product, product_ids=list(originals))
            stop_all(*workers)


def _lag_measure(product_ids: list[int], run: str, rate: float) -> list[float]:
    committed: dict[str, float] = {}
    seen: dict[str, float] = {}
    lock = threading.Lock()
    done = threading.Event()

    def poll() -> None:
        while not done.is_set() or len(seen) < len(committed):
            with lock:
                waiting = [title for title in committed if title not in seen]
            for title in visible_titles(waiting):
                seen.setdefault(title, time.perf_counter())
            if done.is_set() and time.perf_counter() - last_commit[0] > 30:
                break  # anything still missing after 30 s is reported as missing
            time.sleep(0.02)

    last_commit = [time.perf_counter()]
    poller = threading.Thread(target=poll)
    poller.start()
    interval = 1 / rate
    try:
        for i, pk in enumerate(product_ids):
            title = f"Lagprobe {run} {i}"
            title_change(pk, title)
            now = time.perf_counter()
            with lock:
                committed[title] = now
            last_commit[0] = now
            time.sleep(max(0.0, interval - (time.perf_counter() - now)))
    finally:
        done.set()
        poller.join()
    missing = [title for title in committed if title not in seen]
    if missing:
        raise SystemExit(f"sync lag: {len(missing)} changes never became visible: {missing[:5]}")
    return [seen[title] - committed[title] for title in committed]
