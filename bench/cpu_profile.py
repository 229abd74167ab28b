"""CPU meter: the web process's own CPU per search, suggestion and order, in-process, profiled.

Each request is a call of the WSGI application as gunicorn makes it (an environ and
start_response; the production middleware, DEBUG off, throttles run but out of reach) with an
API key, so the key's look-up is part of what is measured. Per kind of request, N requests
after a warm-up:

  search        the search mix of bench/common.py `search_mix`, in turn
  suggest hit   prefixes already cached (each asked once before measuring)
  suggest cold  prefixes asked after a catalog version bump (a miss: Elasticsearch, Redis)
  order         a single-unit order of one product, a new Idempotency-Key each
  healthz       GET /healthz, no key: the floor of any request through the middleware

and two floors, the I/O a request of the kind cannot do without, called directly (no WSGI, no
middleware, no DRF, no validation or rendering):

  search_io     the API key's look-up, the throttle's Redis script, the Elasticsearch request(s)
                the API sent for that search of the mix (recorded in a pass first), the hits kept
                for its query_id, the store's quantities when the search names a store
  suggest_io    the key's look-up, the throttle's script, the cache read of a cached suggestion
                (searchindex.cache.suggestions_lookup: one MGET of the version and the entry)
  order_io      the key's look-up, the throttle's script, a keyed order's SQL (bench/orders.py's
                order-SQL floor with the Idempotency-Key's check, claim and record, in one
                transaction), the confirmation's publish and the store version bump after
                commit, as the order does them

healthz + an _io kind is the least web CPU the kind costs on this stack (Django, DRF,
elasticsearch-py, redis-py, psycopg, Celery) whatever the view does: printed beside the targets.

It prints the CPU time of this process per request (time.process_time: this Python process
only, not Elasticsearch, Postgres or Redis), then for each kind a cProfile (CPU time) of the same
requests, top 25 by cumulative and by own time (skip with --no-profile).

  .venv/bin/python bench/cpu_profile.py [-n 300] [--kinds search,suggest_hit,...] [--no-profile]

2,000 seeded products and 20 stores in its own database (BENCH_CPU_DATABASE_URL, reused while
it holds that catalogue), an index behind a `bench-cpu-` alias (BENCH_INDEX_PREFIX) deleted at
the end, its Redis keys (BENCH_CPU_REDIS_URL) deleted at the end. BENCH_SMOKE=1: 200 products,
5 requests per kind, a profile of 5 lines.
"""

import argparse
import copy
import cProfile
import importlib
import io
import os
import pstats
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402 - needs the repo on sys.path
    Catalog,
    database_prepare,
    django_env,
    index_prefix,
    redis_delete,
    search_mix,
    sized,
    suggest_prefixes,
)

PRODUCTS = sized(2_000, 200)
STORES = 20
SEED = 1
DATABASE_URL = os.environ.get(
    "BENCH_CPU_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_cpu"
)
REDIS_URL = os.environ.get("BENCH_CPU_REDIS_URL", "redis://127.0.0.1:6379/14")
INDEX_PREFIX = index_prefix("bench-cpu-")
CACHE_PREFIX = f"aisle-bench-cpu-{os.getpid()}"
KINDS = (
    "search",
    "suggest_hit",
    "suggest_cold",
    "order",
    "healthz",
    "search_io",
    "suggest_io",
    "order_io",
)
# Issue targets for web CPU per request, ms: the floors are printed against them.
TARGETS = {"search": 2.5, "suggest_hit": 1.0, "order": 3.0}

ENV = django_env(
    database_url=DATABASE_URL,
    redis_url=REDIS_URL,
    index_prefix=INDEX_PREFIX,
    cache_prefix=CACHE_PREFIX,
)
ENV["SUGGEST_CACHE_SETTLE_SECONDS"] = "0"  # the catalogue does not change during a run
ENV["DATABASE_CONN_MAX_AGE"] = "600"  # as in production: one connection, kept
os.environ.update(ENV)

import django  # noqa: E402 - settings come from the environment set just above

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django_redis import get_redis_connection  # noqa: E402

from apikeys.models import ApiKey  # noqa: E402
from apikeys.scopes import Scope  # noqa: E402
from apikeys.services import api_key_create  # noqa: E402
from bench.orders import ORDER_READ, ORDER_WRITES  # noqa: E402
from catalog.models import Product  # noqa: E402
from config.throttling import _increment_script  # noqa: E402
from inventory.cache import store_inventory_version_bump  # noqa: E402
from inventory.models import Store  # noqa: E402
from ordering.tasks import send_order_confirmation  # noqa: E402
from searchevents.hits import hits_remember  # noqa: E402
from searchindex import search as search_module  # noqa: E402
from searchindex.cache import catalog_version_bump, suggestions_lookup  # noqa: E402
from searchindex.client import ALIAS, admin_client  # noqa: E402
from searchindex.documents import ProductDocument, products_for_indexing  # noqa: E402
from searchindex.rebuild import index_create  # noqa: E402
from searchindex.selectors import store_quantities  # noqa: E402


def say(message: str) -> None:
    print(message, flush=True)


def index_build() -> None:
    es = admin_client(timeout=300)
    es.indices.delete(index=f"{ALIAS}*", ignore_unavailable=True, allow_no_indices=True)
    name = f"{ALIAS}-{int(time.time())}"
    index_create(name=name)
    es.indices.put_alias(index=name, name=ALIAS)
    ProductDocument().update(products_for_indexing().order_by("id"))
    es.indices.refresh(index=name)


def index_drop() -> None:
    admin_client(timeout=120).indices.delete(
        index=f"{ALIAS}*", ignore_unavailable=True, allow_no_indices=True
    )


def order_fixture() -> tuple[int, int]:
    """A store and a product with stock that a run cannot exhaust; earlier orders deleted."""
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE ordering_idempotencyrecord, ordering_orderitem, ordering_order CASCADE"
        )
        row = conn.execute(
            "SELECT store_id, product_id FROM inventory_inventory ORDER BY store_id, product_id"
            " LIMIT 1"
        ).fetchone()
        assert row is not None, "the seeded catalogue has no stock"
        conn.execute(
            "UPDATE inventory_inventory SET quantity = 1000000000"
            " WHERE store_id = %s AND product_id = %s",
            row,
        )
    return row[0], row[1]


Request = Callable[[int], None]


def wsgi_call(
    application: Any, method: str, path: str, query: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    """One request as gunicorn hands it to the application: an environ, a start_response."""
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **headers,
    }
    status: list[str] = []

    def start_response(line: str, _headers: list[tuple[str, str]], _exc: Any = None) -> None:
        status.append(line)

    result = application(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()  # request_finished: what gunicorn triggers after sending
    return int(status[0].split(" ", 1)[0]), content


def requests(
    application: Any, key: str, warm: dict[str, Callable[[], None]], count: int
) -> dict[str, Request]:
    """One function per kind: the i-th request of that kind, checked for its status; `warm`
    gets what a kind needs run before it is measured; `count` requests of each kind are made."""
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    mix = search_mix(list(Store.objects.order_by("id").values_list("id", flat=True)))
    searches = [urlencode(params) for params in mix]
    titles = list(Product.objects.order_by("id").values_list("title", flat=True))
    prefixes = [urlencode({"q": prefix}) for prefix in suggest_prefixes(titles, 40, seed=SEED)]
    store_id, product_id = order_fixture()
    order = b'{"store_id": %d, "items": [{"product_id": %d, "quantity_requested": 1}]}' % (
        store_id,
        product_id,
    )

    def get(path: str, query: str) -> None:
        status, content = wsgi_call(application, "GET", path, query, b"", auth)
        assert status == 200, (path, query, content[:300])

    def search(i: int) -> None:
        get("/api/search/products/", searches[i % len(searches)])

    def suggest_hit(i: int) -> None:
        get("/api/search/suggest/", prefixes[i % len(prefixes)])

    def suggest_cold(i: int) -> None:
        catalog_version_bump()  # outside the request, but in this process: subtracted below
        get("/api/search/suggest/", prefixes[i % len(prefixes)])

    def place(_i: int) -> None:
        headers = {
            **auth,
            "CONTENT_TYPE": "application/json",
            "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex,
        }
        status, content = wsgi_call(application, "POST", "/orders/", "", order, headers)
        assert status == 201, content[:300]

    def healthz(_i: int) -> None:
        status, content = wsgi_call(application, "GET", "/healthz", "", b"", {})
        assert status == 200, content[:300]

    def suggest_warm() -> None:
        for prefix in prefixes:  # every prefix cached (again, after a cold run's bumps)
            get("/api/search/suggest/", prefix)

    warm["suggest_hit"] = warm["suggest_io"] = suggest_warm
    return {
        "search": search,
        "suggest_hit": suggest_hit,
        "suggest_cold": suggest_cold,
        "order": place,
        "healthz": healthz,
        "search_io": search_floor(search, mix[:count], key),
        "suggest_io": suggest_floor(prefixes, key),
        "order_io": order_floor(store_id, product_id, key),
    }


def _auth_and_throttle(key: str, scope: str) -> None:
    ApiKey.objects.get_from_key(key)
    _increment_script(get_redis_connection("default"))(
        keys=[f"bench-cpu-floor:{scope}:{key[:8]}"], args=[60_000, 1]
    )


def search_floor(search: Request, mix: list[dict[str, str]], key: str) -> Request:
    """The search mix's I/O alone: what `search` sends Elasticsearch is recorded in one pass."""
    sent: list[list[tuple[dict[str, Any], Any]]] = []
    real = search_module.search_request
    # Suggest binds search_request by name when first imported: before the swap, not during it.
    importlib.import_module("searchindex.suggest")

    def recording(body: dict[str, Any], filter_path: Any) -> dict[str, Any]:
        sent[-1].append((copy.deepcopy(body), filter_path))
        return real(body, filter_path)

    search_module.search_request = recording
    try:
        for i in range(len(mix)):
            sent.append([])
            search(i)
    finally:
        search_module.search_request = real

    def search_io(i: int) -> None:
        params = mix[i % len(mix)]
        _auth_and_throttle(key, "search")
        responses = [real(body, filter_path) for body, filter_path in sent[i % len(sent)]]
        page = responses[0].get("hits", {}).get("hits", [])  # the first is the page's search
        ids = [int(hit["_source"]["id"]) for hit in page]
        store_id = int(params["store_id"]) if "store_id" in params else None
        hits_remember(
            search_id=uuid.uuid4().hex,
            product_ids=ids,
            first_position=1,
            query=params.get("q", ""),
            store_id=store_id,
        )
        if store_id is not None:
            store_quantities(store_id=store_id, product_ids=ids)

    return search_io


def suggest_floor(prefixes: list[str], key: str) -> Request:
    """A cached suggestion's I/O alone (run after the hits are warmed, so each read finds one)."""
    typed = [parse_qs(prefix)["q"][0] for prefix in prefixes]

    def suggest_io(i: int) -> None:
        _auth_and_throttle(key, "suggest")
        _, cached = suggestions_lookup(q=typed[i % len(typed)], store_id=None)
        assert cached is not None, "the suggestion was not cached"

    return suggest_io


# A keyed order's Idempotency-Key statements (ordering.idempotency): the check before the
# transaction, the claim first inside it, the response recorded before the commit.
KEY_CHECK = "SELECT 1 FROM ordering_idempotencyrecord WHERE caller = %s AND key = %s LIMIT 1"
KEY_CLAIM = (
    "INSERT INTO ordering_idempotencyrecord (caller, key, request_hash, response_body, created_at)"
    " VALUES (%s, %s, %s, '', now()) RETURNING id"
)
KEY_RECORD = (
    "UPDATE ordering_idempotencyrecord SET order_id = %s, response_status = 201,"
    " response_body = %s WHERE id = %s"
)


def order_floor(store_id: int, product_id: int, key: str) -> Request:
    """A keyed single-unit order's I/O alone: its Idempotency-Key statements around the
    order-SQL floor of bench-orders, then what the order does after commit."""
    caller = f"key:{key[:8]}"

    def order_io(_i: int) -> None:
        _auth_and_throttle(key, "orders")
        idempotency_key = uuid.uuid4().hex
        with connection.cursor() as cursor:
            cursor.execute(KEY_CHECK, [caller, idempotency_key])
            cursor.fetchone()
            cursor.execute(ORDER_READ, [store_id, [product_id]])
            price = cursor.fetchone()[3]
            with transaction.atomic():
                cursor.execute(KEY_CLAIM, [caller, idempotency_key, "0" * 64])
                claim_id = cursor.fetchone()[0]
                cursor.execute(ORDER_WRITES[0], [store_id])
                order_id = cursor.fetchone()[0]
                cursor.execute(ORDER_WRITES[1], [order_id, product_id, price])
                cursor.execute(ORDER_WRITES[2], [store_id, [product_id]])
                row_id, left = cursor.fetchone()
                cursor.execute(ORDER_WRITES[3], [left - 1, row_id])
                body = f'{{"id": {order_id}, "store_id": {store_id}, "status": "CONFIRMED"}}'
                cursor.execute(KEY_RECORD, [order_id, body, claim_id])
        send_order_confirmation.apply_async((order_id,), retry=False)
        store_inventory_version_bump(store_id)

    return order_io


def _nothing() -> None:
    pass


def bump_cpu_ms(count: int) -> float:
    """The CPU of `catalog_version_bump()` alone, per call: what suggest_cold adds outside."""
    started = time.process_time()
    for _ in range(count):
        catalog_version_bump()
    return (time.process_time() - started) / count * 1000


def cpu_ms(request: Request, count: int) -> float:
    started = time.process_time()
    for i in range(count):
        request(i)
    return (time.process_time() - started) / count * 1000


def profile(request: Request, count: int, lines: int) -> str:
    profiler = cProfile.Profile(time.process_time)  # CPU, not waits
    profiler.enable()
    for i in range(count):
        request(i)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    for order in ("cumulative", "tottime"):
        out.write(f"--- by {order} ---\n")
        stats.sort_stats(order).print_stats(lines)
    return out.getvalue()


def floors_report(measured: dict[str, float]) -> None:
    """Each kind's least possible web CPU here (healthz + its I/O) beside its target."""
    pairs = (("search", "search_io"), ("suggest_hit", "suggest_io"), ("order", "order_io"))
    if "healthz" not in measured or not any(floor in measured for _, floor in pairs):
        return
    say("\nfloor on this stack (healthz + the kind's I/O, min of rounds), ms:")
    for kind, io_kind in pairs:
        if io_kind not in measured:
            continue
        floor = measured["healthz"] + measured[io_kind]
        now = f", the API {measured[kind]:.2f}" if kind in measured else ""
        say(
            f"  {kind:<11} floor {floor:5.2f} (healthz {measured['healthz']:.2f} + I/O "
            f"{measured[io_kind]:.2f}){now}; target {TARGETS[kind]:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=sized(300, 5), help="requests per kind")
    parser.add_argument("--rounds", type=int, default=sized(3, 1), help="measured passes")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"of {', '.join(KINDS)}")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--lines", type=int, default=sized(25, 5), help="profile lines")
    args = parser.parse_args()
    kinds = [kind for kind in args.kinds.split(",") if kind]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise SystemExit(f"unknown kinds: {', '.join(sorted(unknown))}")

    database_prepare(env=os.environ, catalog=Catalog(PRODUCTS, STORES, SEED), say=say)
    index_build()
    api_key = None
    try:
        api_key, key = api_key_create(
            name=f"bench-cpu-{os.getpid()}", scopes=[Scope.SEARCH, Scope.ORDERS_WRITE]
        )
        warm: dict[str, Callable[[], None]] = {}
        run = requests(get_wsgi_application(), key, warm, args.n)
        for kind in kinds:  # warm-up: connections, caches, first imports
            warm.get(kind, _nothing)()
            for i in range(min(args.n, 20)):
                run[kind](i)
        bump = bump_cpu_ms(args.n)
        measured: dict[str, float] = {}
        say(f"\nweb CPU per request, in-process, ms ({args.n} requests x {args.rounds} rounds):")
        for kind in kinds:
            warm.get(kind, _nothing)()
            rounds = [cpu_ms(run[kind], args.n) for _ in range(args.rounds)]
            if kind == "suggest_cold":
                rounds = [value - bump for value in rounds]
            figures = " ".join(f"{value:6.2f}" for value in rounds)
            say(f"  {kind:<13} min {min(rounds):6.2f}  rounds {figures}")
            measured[kind] = min(rounds)
        floors_report(measured)
        if not args.no_profile:
            for kind in kinds:
                warm.get(kind, _nothing)()
                say(f"\n=== cProfile: {kind}, {args.n} requests ===")
                say(profile(run[kind], args.n, args.lines))
    finally:
        if api_key is not None:
            api_key.delete()
        index_drop()
        # No worker runs here: what the orders enqueued (confirmations, index drains) goes too.
        queues = ("celery*", settings.SEARCHINDEX_QUEUE, "_kombu*", "unacked*")
        redis_delete(REDIS_URL, f"{CACHE_PREFIX}:*", *queues)
        say("bench index and Redis keys deleted")


if __name__ == "__main__":
    main()
