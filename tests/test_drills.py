"""Fault drills: Elasticsearch, Redis, a Celery worker and a Postgres connection fail mid-traffic.

Each drill drives real traffic through the real services while one of them is unreachable (a
closed port, a SIGKILLed worker, a terminated backend), restores it, and ends with invariant
checks. `DRILL_SCALE` (default 1) multiplies the traffic: `make drills` runs them at a larger
scale and prints each drill's figures (`bench/drills.py`).
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import redis
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from elasticsearch.helpers import scan

from catalog.models import Product
from config.celery import app as celery_app
from inventory.models import Inventory
from inventory.services import inventory_set_quantity
from ordering.models import Order
from ordering.tasks import SWEEP_GRACE, send_order_confirmation, send_pending_order_confirmations
from searchindex.client import ALIAS
from searchindex.drift import index_drift
from searchindex.models import PendingIndexUpdate
from searchindex.outbox import outbox_drain
from tests.factories import CategoryFactory, InventoryFactory, ProductFactory, StoreFactory
from tests.ordering.invariants import assert_stock_invariant, stock_snapshot
from tests.searchindex.conftest import (  # noqa: F401 - fixtures used by the drills below
    ElasticsearchOutage,
    es,
    index_products,
    product_index,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCALE = max(1, int(os.environ.get("DRILL_SCALE", "1")))
CLOSED_REDIS = "redis://127.0.0.1:1/0"
REPO = Path(__file__).resolve().parent.parent


def report(drill: str, **figures: object) -> None:
    """One line per drill; `make drills` shows them (pytest captures them otherwise)."""
    print(f"DRILL {drill}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


def catalog_build(*, products: int, stores: int, quantity: int) -> tuple[list, list]:
    category = CategoryFactory()
    items = [ProductFactory(category=category, title=f"Drill Milk {i}") for i in range(products)]
    shops = [StoreFactory() for _ in range(stores)]
    for shop in shops:
        for product in items:
            InventoryFactory(store=shop, product=product, quantity=quantity)
    return items, shops


def order_post(client, *, store_id: int, product_id: int, quantity: int):
    return client.post(
        "/orders/",
        data={
            "store_id": store_id,
            "items": [{"product_id": product_id, "quantity_requested": quantity}],
        },
        format="json",
    )


def error_code(response) -> str | None:
    return response.json().get("error", {}).get("code")


# --- 1. Elasticsearch down ------------------------------------------------------------------


def index_matches_postgres(es_client) -> tuple[int, list[int]]:
    """Every document's id, title, price and in-stock stores against Postgres; returns the
    number compared and the ids that differ (or exist on one side only)."""
    expected = {}
    for product in Product.objects.order_by("id"):
        stores = sorted(
            Inventory.objects.filter(product=product, quantity__gt=0).values_list(
                "store_id", flat=True
            )
        )
        expected[product.pk] = (product.title, float(product.price), stores)
    es_client.indices.refresh(index=ALIAS)
    indexed = {
        int(hit["_id"]): (
            hit["_source"]["title"],
            float(hit["_source"]["price"]),
            sorted(hit["_source"].get("in_stock_store_ids") or []),
        )
        for hit in scan(
            es_client,
            index=ALIAS,
            _source=["title", "price", "in_stock_store_ids"],
            size=1_000,
        )
    }
    differing = sorted(
        pk for pk in set(expected) | set(indexed) if expected.get(pk) != indexed.get(pk)
    )
    return len(expected), differing


def test_drill_elasticsearch_down_orders_succeed_search_503s_then_index_equals_postgres(
    api_client,
    index_products,  # noqa: F811 - a fixture, imported from tests/searchindex/conftest.py
    es,  # noqa: F811 - a fixture, imported from tests/searchindex/conftest.py
    settings,
):
    rng = random.Random(1)
    products, stores = catalog_build(products=10 * SCALE, stores=3, quantity=6)
    index_products()
    initial = stock_snapshot()
    outage = ElasticsearchOutage()
    statuses: Counter = Counter()
    search_statuses: Counter = Counter()
    changes = {"product": 0, "stock": 0}

    # One client sends every request here: the drill is about the outage, not the rate limit.
    settings.REST_FRAMEWORK = throttle_rates("100000/min")
    outage.start()
    try:
        for step in range(30 * SCALE):
            product, store = rng.choice(products), rng.choice(stores)
            if step % 3 == 0:
                product.title = f"Drill Milk {product.pk} v{step}"
                product.price += Decimal("1.00")
                product.save()
                changes["product"] += 1
            elif step % 3 == 1:
                # A restock or a sell-out: availability flips, which the index must follow.
                # The invariant's "initial" moves by what the restock added.
                row = Inventory.objects.get(store=store, product=product)
                new = 0 if row.quantity else rng.randint(1, 5)
                initial[(store.pk, product.pk)] += new - row.quantity
                inventory_set_quantity(store_id=store.pk, product_id=product.pk, quantity=new)
                changes["stock"] += 1
            response = order_post(
                api_client, store_id=store.pk, product_id=product.pk, quantity=rng.randint(1, 3)
            )
            statuses[(response.status_code, response.json().get("status"))] += 1
            search = api_client.get("/api/search/products/", {"q": "milk"})
            search_statuses[(search.status_code, error_code(search))] += 1
        pending = PendingIndexUpdate.objects.count()
    finally:
        outage.end()

    started = time.monotonic()
    drained = outbox_drain()
    drain_seconds = time.monotonic() - started
    drift = index_drift(sample=None)
    compared, differing = index_matches_postgres(es)
    after = api_client.get("/api/search/products/", {"q": "milk"})
    report(
        "elasticsearch_down",
        orders=dict(statuses),
        searches=dict(search_statuses),
        product_changes=changes["product"],
        stock_changes=changes["stock"],
        outbox_pending_at_restore=pending,
        drained_rows=drained.applied,
        drain_s=f"{drain_seconds:.2f}",
        documents_compared=compared,
        drift=len(differing) + len(drift.stale) + len(drift.missing) + len(drift.unexpected),
    )

    assert {status for status, _ in statuses} == {201}
    assert set(search_statuses) == {(503, "search_unavailable")}
    assert pending > 0
    assert drained.failed == 0
    assert PendingIndexUpdate.objects.count() == 0
    assert drift.ok, drift
    assert compared == len(products)
    assert differing == []
    assert after.status_code == 200
    assert_stock_invariant(initial)


# --- 2. Redis down --------------------------------------------------------------------------


def closed_redis_cache() -> dict:
    from django.conf import settings

    cache = dict(settings.CACHES["default"])
    cache["LOCATION"] = CLOSED_REDIS
    return {"default": cache}


def throttle_rates(rate: str) -> dict:
    from django.conf import settings

    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"search": rate, "suggest": rate}
    return rest


class BrokerOutage:
    """The (otherwise eager) Celery app publishes for real, to a closed port, until `end()`."""

    def __init__(self) -> None:
        self.saved = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)

    def start(self) -> None:
        celery_app.conf.task_always_eager = False
        celery_app.conf.broker_url = CLOSED_REDIS
        celery_app._after_fork()  # drop connection and producer pools built for the old URL

    def end(self) -> None:
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = self.saved
        celery_app._after_fork()


@pytest.fixture
def broker_outage() -> Iterator[BrokerOutage]:
    outage = BrokerOutage()
    yield outage
    outage.end()


def confirmations_sent(caplog) -> Counter:
    return Counter(
        r.order_id for r in caplog.records if getattr(r, "event", "") == "order_confirmation_sent"
    )


def test_drill_redis_down_no_5xx_throttle_fails_open_and_the_sweep_sends_each_confirmation_once(
    api_client,
    index_products,  # noqa: F811 - a fixture, imported from tests/searchindex/conftest.py
    broker_outage,
    caplog,
):
    caplog.set_level("INFO", logger="ordering")
    rng = random.Random(2)
    products, stores = catalog_build(products=5 * SCALE, stores=2, quantity=5)
    index_products()
    initial = stock_snapshot()
    statuses: dict[str, Counter] = {
        "search": Counter(),
        "suggest": Counter(),
        "listing": Counter(),
        "order": Counter(),
    }

    with override_settings(CACHES=closed_redis_cache(), REST_FRAMEWORK=throttle_rates("1/min")):
        broker_outage.start()
        try:
            for _ in range(8 * SCALE):
                store, product = rng.choice(stores), rng.choice(products)
                answers = {
                    "search": api_client.get("/api/search/products/", {"q": "milk"}),
                    "suggest": api_client.get("/api/search/suggest/", {"q": "dri"}),
                    "listing": api_client.get(f"/stores/{store.pk}/inventory/"),
                    "order": order_post(
                        api_client, store_id=store.pk, product_id=product.pk, quantity=2
                    ),
                }
                for name, response in answers.items():
                    statuses[name][response.status_code] += 1
        finally:
            broker_outage.end()
    confirmed = list(
        Order.objects.filter(status=Order.Status.CONFIRMED).values_list("pk", flat=True)
    )
    unsent_at_restore = Order.objects.filter(
        pk__in=confirmed, confirmation_sent_at__isnull=True
    ).count()

    # Redis is back: the 1/min limit holds again (so it was real and had failed open).
    with override_settings(REST_FRAMEWORK=throttle_rates("1/min")):
        limited = [api_client.get("/api/search/products/").status_code for _ in range(2)]

    # The sweep leaves orders younger than its grace to their own enqueue; age them past it
    # rather than wait a minute.
    Order.objects.update(created_at=timezone.now() - SWEEP_GRACE * 2)
    swept = send_pending_order_confirmations.apply().get()
    swept_again = send_pending_order_confirmations.apply().get()
    sent = confirmations_sent(caplog)
    report(
        "redis_down",
        statuses={name: dict(counts) for name, counts in statuses.items()},
        confirmed_orders=len(confirmed),
        unsent_at_restore=unsent_at_restore,
        swept=swept,
        swept_again=swept_again,
        sent_once=sum(1 for pk in confirmed if sent[pk] == 1),
        throttle_after_restore=limited,
    )

    for name, counts in statuses.items():
        assert all(code < 500 for code in counts), (name, counts)
    assert set(statuses["search"]) == {200}  # 1/min, yet never 429: the throttle failed open
    assert set(statuses["suggest"]) == {200}
    assert set(statuses["listing"]) == {200}
    assert set(statuses["order"]) == {201}
    assert confirmed
    assert unsent_at_restore == len(confirmed)
    assert limited == [200, 429]
    assert swept == len(confirmed)
    assert swept_again == 0
    assert not Order.objects.filter(
        status=Order.Status.CONFIRMED, confirmation_sent_at__isnull=True
    ).exists()
    assert not Order.objects.filter(
        status=Order.Status.REJECTED, confirmation_sent_at__isnull=False
    ).exists()
    assert {pk: sent[pk] for pk in confirmed} == dict.fromkeys(confirmed, 1)
    assert set(sent) == set(confirmed)
    assert_stock_invariant(initial)


# --- 3. A Celery worker killed mid-task -----------------------------------------------------

TASK = send_order_confirmation.name
VISIBILITY_TIMEOUT = 2  # seconds before an unacked task is redelivered, for the drill's worker
_RECEIVED = re.compile(rf"Task {re.escape(TASK)}\[([\w-]+)\] received")
_SUCCEEDED = re.compile(rf"Task {re.escape(TASK)}\[([\w-]+)\] succeeded in [\d.e-]+s: (\w+)")


def drill_db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_start(log: Path) -> subprocess.Popen:
    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": drill_db_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": "INFO",
        # The drill counts the worker's per-task received/succeeded lines, quiet by default.
        "LOG_LEVEL_CELERY": "INFO",
    }
    celery = Path(sys.executable).parent / "celery"
    with log.open("w") as out:
        return subprocess.Popen(  # noqa: S603 - our own venv's celery, fixed arguments
            [str(celery), "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "drill@%h"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def lock_waiters(admin: psycopg.Connection, *, exclude: int) -> list[int]:
    """Backends of the test database blocked on a row lock (other than `exclude`)."""
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
        " AND pid <> %s",
        [connection.settings_dict["NAME"], exclude],
    ).fetchall()
    return [pid for (pid,) in rows]


@pytest.fixture
def real_broker() -> Iterator[None]:
    """Tasks are published for real to the test broker (emptied first), not run eagerly."""
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app._after_fork()
    yield
    celery_app.conf.task_always_eager = saved
    celery_app._after_fork()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def test_drill_worker_killed_mid_task_redelivers_and_sends_each_confirmation_once(
    real_broker, tmp_path
):
    store = StoreFactory()
    orders = [Order.objects.create(store=store, status=Order.Status.CONFIRMED) for _ in range(4)]
    victim = orders[1]
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    dsn = drill_db_url()
    workers: list[subprocess.Popen] = []
    started = time.monotonic()
    try:
        with (
            psycopg.connect(dsn) as holder,
            psycopg.connect(dsn, autocommit=True) as admin,
        ):
            # Holding the victim's row lock parks the worker inside its task, mid-transaction.
            holder.execute("SELECT id FROM ordering_order WHERE id = %s FOR UPDATE", [victim.pk])
            holder_pid = holder.info.backend_pid
            # Every order twice (the after-commit enqueue and a sweep can both fire).
            task_ids = []
            for copy in ("a", "b"):
                for order in orders:
                    task_id = f"drill-{order.pk}-{copy}"
                    send_order_confirmation.apply_async(args=[order.pk], task_id=task_id)
                    task_ids.append(task_id)
            workers.append(worker_start(logs[0]))
            wait_for(
                lambda: lock_waiters(admin, exclude=holder_pid),
                timeout=30,
                what="the worker to block inside the victim's task",
            )
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            killed_at = time.monotonic()
            holder.rollback()

        # Kombu scans for unacked tasks past their visibility timeout when a worker starts (and
        # then only every 100 s by default): restart once the victim's task is past it.
        time.sleep(VISIBILITY_TIMEOUT + 0.5)
        workers.append(worker_start(logs[1]))

        def all_done() -> bool:
            text = logs[1].read_text()
            done = {m.group(1) for m in _SUCCEEDED.finditer(text)}
            done |= {m.group(1) for m in _SUCCEEDED.finditer(logs[0].read_text())}
            return set(task_ids) <= done

        wait_for(all_done, timeout=45, what="every task to finish on the restarted worker")
        recovered_s = time.monotonic() - killed_at
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()

    first, second = (log.read_text() for log in logs)
    received = [Counter(m.group(1) for m in _RECEIVED.finditer(text)) for text in (first, second)]
    outcomes = [dict(_SUCCEEDED.findall(text)) for text in (first, second)]
    killed_task = f"drill-{victim.pk}-a"
    sends: Counter[int] = Counter()
    for done in outcomes:
        for task_id, result in done.items():
            if result == "True":
                sends[int(task_id.split("-")[1])] += 1
    report(
        "worker_killed",
        tasks=len(task_ids),
        done_before_kill=len(outcomes[0]),
        redelivered=sorted(t for t in received[1] if t in received[0]),
        recovered_s=f"{recovered_s:.1f}",
        total_s=f"{time.monotonic() - started:.1f}",
        sends_per_order=dict(sends),
    )

    assert killed_task in received[0]
    assert killed_task not in outcomes[0]
    assert received[1][killed_task] == 1, "the task the worker died in was redelivered"
    assert outcomes[1][killed_task] in {"True", "False"}
    assert dict(sends) == {order.pk: 1 for order in orders}
    for order in orders:
        order.refresh_from_db()
        assert order.confirmation_sent_at is not None


# --- 4. Postgres connection dropped mid-request ---------------------------------------------


def http_post_json(url: str, body: bytes, headers: dict | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(  # noqa: S310 - a loopback http URL we built
        url,
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_drill_postgres_connection_dropped_mid_order_is_a_503_and_a_keyed_retry_places_it_once(
    live_server,
):
    row = InventoryFactory(quantity=10)
    other = InventoryFactory(store=row.store, quantity=10)
    initial = stock_snapshot()
    body = json.dumps(
        {
            "store_id": row.store_id,
            "items": [
                {"product_id": other.product_id, "quantity_requested": 1},
                {"product_id": row.product_id, "quantity_requested": 2},
            ],
        }
    ).encode()
    dsn = drill_db_url()
    answer: dict = {}
    keyed = {"Idempotency-Key": "drill-dropped-1"}

    def place() -> None:
        answer["response"] = http_post_json(f"{live_server.url}/orders/", body, keyed)

    with (
        psycopg.connect(dsn) as holder,
        psycopg.connect(dsn, autocommit=True) as admin,
    ):
        # The request's transaction inserts the order and its lines, then waits for this lock.
        holder.execute(
            f"SELECT id FROM {Inventory._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608
            [row.pk],
        )
        request = threading.Thread(target=place)
        request.start()
        wait_for(
            lambda: lock_waiters(admin, exclude=holder.info.backend_pid),
            timeout=20,
            what="the order request to wait for the stock lock",
        )
        (victim_pid,) = lock_waiters(admin, exclude=holder.info.backend_pid)
        killed = admin.execute("SELECT pg_terminate_backend(%s)", [victim_pid]).fetchone()
        assert killed is not None
        terminated = killed[0]
        request.join(timeout=30)
        holder.rollback()

    status, content_type, payload = answer["response"]
    orphans = Order.objects.filter(items__isnull=True).count()
    orders_after_failure = Order.objects.count()
    retry_status, _, retry_payload = http_post_json(f"{live_server.url}/orders/", body, keyed)
    replay_status, _, replay_payload = http_post_json(f"{live_server.url}/orders/", body, keyed)
    report(
        "postgres_dropped",
        terminated=terminated,
        failed_status=status,
        failed_code=json.loads(payload)["error"]["code"],
        orders_after_failure=orders_after_failure,
        orphan_orders=orphans,
        retry_status=retry_status,
        retry_order=json.loads(retry_payload).get("status"),
    )

    assert terminated is True
    assert status == 503  # the database went away: retry, with the same Idempotency-Key
    assert content_type == "application/json"
    assert json.loads(payload)["error"]["code"] == "service_unavailable"
    assert b"Traceback" not in payload
    assert b"<html" not in payload.lower()
    assert orders_after_failure == 0  # the order and its lines rolled back with the connection
    assert orphans == 0
    assert retry_status == 201
    assert json.loads(retry_payload)["status"] == "CONFIRMED"
    assert replay_status == 201
    assert json.loads(replay_payload)["id"] == json.loads(retry_payload)["id"]
    assert Order.objects.count() == 1  # placed exactly once
    assert not Order.objects.filter(items__isnull=True).exists()
    assert_stock_invariant(initial)
