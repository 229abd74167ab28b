"""Cluster drills: mixed traffic while nodes of a real 3-node Elasticsearch cluster are SIGKILLed.

Run by `make test-cluster` (and, short, at the end of `make test`; long: `make drills`), which
start a local cluster on ports of their own (tests/escluster.py) and set AISLE_ES_CLUSTER_PORT;
skipped otherwise. The index has 3 shards and 1 replica. While searches, suggests, keyed orders,
product edits, restocks and analytics flow through a live server: SIGKILL a node that is not the
elected master (a `rebuild_index` runs meanwhile) and start it again; once green, SIGKILL the
elected master (a synonym change is applied meanwhile) and start it again; in the long version
(`CLUSTER_DRILL_ROLLING=1`) then restart all three in turn, as an upgrade would. Each phase
prints one `DRILL cluster_...` line; the test ends with invariant checks.
"""

import http.client
import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection, transaction
from elasticsearch.dsl.connections import connections

from catalog.models import Product
from inventory.services import inventory_lock, inventory_set_quantity
from ordering.models import Order
from searchindex import analytics
from searchindex.drift import index_drift
from searchindex.exceptions import RebuildError
from searchindex.models import PendingIndexUpdate, Synonym
from searchindex.outbox import outbox_drain
from searchindex.rebuild import alias_indices, index_rebuild
from searchindex.synonyms import live_synonym_rules, synonym_rules, synonyms_apply
from tests.escluster import LocalCluster
from tests.factories import CategoryFactory, InventoryFactory, ProductFactory, StoreFactory
from tests.ordering.invariants import assert_stock_invariant, stock_snapshot

CLUSTER_PORT = os.environ.get("AISLE_ES_CLUSTER_PORT")
SCALE = max(1, int(os.environ.get("DRILL_SCALE", "1")))
ROLLING = os.environ.get("CLUSTER_DRILL_ROLLING") == "1"
# Seconds of traffic with the node down, before it is started again.
DOWN_SECONDS = 4 * SCALE
SEARCHERS = 2

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CLUSTER_PORT, reason="needs a local cluster: make test-cluster starts one"
    ),
]


def report(drill: str, **figures: object) -> None:
    print(f"DRILL {drill}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


@pytest.fixture
def cluster(settings) -> Iterator[LocalCluster]:
    """The app's Elasticsearch connection on every node of the local cluster; 3 shards, 1
    replica; analytics on, into the cluster's data stream."""
    local = LocalCluster(port=int(CLUSTER_PORT or 0))
    local.wait_for(status="green", timeout=180)
    original = connections.get_connection()
    settings.ELASTICSEARCH_URL = local.url_list
    settings.ELASTICSEARCH_SHARDS = 3
    settings.ELASTICSEARCH_REPLICAS = 1
    settings.SEARCH_ANALYTICS_ENABLED = True
    settings.SEARCH_ANALYTICS_REPLICAS = 1
    # This machine's 2 cores are shared (load averages of 20 were seen while drilling): a 2 s
    # search budget then times out from CPU starvation alone, whatever the cluster does.
    settings.ELASTICSEARCH_SEARCH_TIMEOUT = float(os.environ.get("CLUSTER_DRILL_SEARCH_TIMEOUT", 5))
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(rest["DEFAULT_THROTTLE_RATES"], "1000000/min")
    settings.REST_FRAMEWORK = rest
    config = dict(settings.ELASTICSEARCH_DSL["default"])
    config["hosts"] = local.urls
    connections.create_connection(alias="default", **config)
    analytics.writer_reset()
    yield local
    analytics.writer_reset()
    connections.add_connection("default", original)


@dataclass
class Traffic:
    """Threads sending mixed traffic to a live server; each answer is (sent, answered, kind,
    status). Paced, so the Elasticsearch nodes starting again get their share of 2 cores."""

    base_url: str
    products: list[int]
    stores: list[int]
    answers: list[tuple[float, float, str, int]] = field(default_factory=list)
    orders: Counter = field(default_factory=Counter)
    order_retries: int = 0
    edits: Counter = field(default_factory=Counter)
    restocked: dict[tuple[int, int], int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def request(self, method: str, path: str, body: dict | None = None, headers=None):
        url = urlsplit(self.base_url)
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
        try:
            payload = json.dumps(body) if body is not None else None
            conn.request(
                method, path, payload, {"Content-Type": "application/json", **(headers or {})}
            )
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def record(self, sent: float, kind: str, status: int) -> None:
        with self.lock:
            self.answers.append((sent, time.monotonic(), kind, status))

    def searcher(self, seed: int) -> None:
        rng = random.Random(seed)
        words = ["milk", "drill", "oat milk", "mlik", "cheese"]
        while not self.stop.is_set():
            params = {"q": rng.choice(words), "store_id": rng.choice(self.stores)}
            sent = time.monotonic()
            status, _ = self.request("GET", f"/api/search/products/?{urlencode(params)}")
            self.record(sent, "search", status)
            time.sleep(0.1)

    def suggester(self) -> None:
        rng = random.Random(7)
        while not self.stop.is_set():
            q = rng.choice(["dri", "dril", "mil", "drill m"])
            sent = time.monotonic()
            status, _ = self.request("GET", f"/api/search/suggest/?{urlencode({'q': q})}")
            self.record(sent, "suggest", status)
            time.sleep(0.2)

    def orderer(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            body = {
                "store_id": rng.choice(self.stores),
                "items": [{"product_id": rng.choice(self.products), "quantity_requested": 1}],
            }
            key = {"Idempotency-Key": uuid.uuid4().hex}
            status, _ = self.request("POST", "/orders/", body, key)
            while status == 503 and not self.stop.is_set():  # retried with its key
                self.order_retries += 1
                time.sleep(0.2)
                status, _ = self.request("POST", "/orders/", body, key)
            with self.lock:
                self.orders[status] += 1
            time.sleep(0.2)

    def editor(self) -> None:
        """Product edits and restocks in this process, as the admin or an import would."""
        rng = random.Random(11)
        try:
            step = 0
            while not self.stop.is_set():
                step += 1
                pk = rng.choice(self.products)
                if step % 2:
                    product = Product.objects.get(pk=pk)
                    product.title = f"Drill Milk {pk} v{step}"
                    product.price += Decimal("0.10")
                    product.save()
                    self.edits["product"] += 1
                else:
                    store, added = rng.choice(self.stores), rng.randint(1, 5)
                    # Read and set under the row's lock: an order landing between an unlocked
                    # read and the set would have its deduction overwritten by the set.
                    with transaction.atomic():
                        (row,) = inventory_lock(store_id=store, product_ids=[pk]).values()
                        inventory_set_quantity(
                            store_id=store, product_id=pk, quantity=row.quantity + added
                        )
                    with self.lock:
                        self.restocked[(store, pk)] = self.restocked.get((store, pk), 0) + added
                    self.edits["restock"] += 1
                time.sleep(0.3)
        except Exception as exc:  # noqa: BLE001 - reported and asserted on by the test
            self.errors.append(f"editor: {exc!r}")
        finally:
            connection.close()

    def start(self) -> None:
        targets = [
            *(lambda i=i: self.searcher(i) for i in range(SEARCHERS)),
            self.suggester,
            *(lambda i=i: self.orderer(100 + i) for i in range(2)),
            self.editor,
        ]
        self.threads = [threading.Thread(target=target, daemon=True) for target in targets]
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def counts(self, since: float, until: float) -> dict[str, dict[int, int]]:
        """Answers to the requests sent from `since` until `until`."""
        with self.lock:
            window = [(k, status) for at, _, k, status in self.answers if since <= at < until]
        return _by_kind(window)

    def in_flight(self, moment: float) -> dict[str, dict[int, int]]:
        """Answers to the requests sent before `moment` and answered after it."""
        with self.lock:
            window = [(k, status) for at, done, k, status in self.answers if at < moment <= done]
        return _by_kind(window)

    def failures_at(self, since: float, until: float) -> list[str]:
        """When each failed search or suggest was sent, in seconds after `since`."""
        with self.lock:
            return [
                f"{kind}@{at - since:.1f}s"
                for at, _, kind, status in self.answers
                if since <= at < until and status >= 300 and kind in ("search", "suggest")
            ]


def _by_kind(window: list[tuple[str, int]]) -> dict[str, dict[int, int]]:
    out: dict[str, Counter] = {}
    for kind, status in window:
        out.setdefault(kind, Counter())[status] += 1
    return {kind: dict(counter) for kind, counter in out.items()}


def failed(counts: dict[str, dict[int, int]], kinds=("search", "suggest")) -> int:
    return sum(n for kind in kinds for status, n in counts.get(kind, {}).items() if status >= 300)


def node_other_than_master(cluster: LocalCluster) -> int:
    master = cluster.master()
    return next(n for n in range(1, cluster.nodes + 1) if n != master)


def run_in_thread(target) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def body() -> None:
        try:
            outcome["result"] = target()
        except Exception as exc:  # noqa: BLE001 - the drill reports how the operation ended
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, outcome


def kill_and_restart(cluster: LocalCluster, traffic: Traffic, node: int, name: str, during=None):
    """SIGKILL `node`, keep traffic flowing (and `during` running), start it again, wait green."""
    cluster.kill(node)
    killed = time.monotonic()
    job = run_in_thread(during) if during else None
    time.sleep(DOWN_SECONDS)
    status_down = cluster.health()["status"]
    cluster.start(node)
    started = time.monotonic()
    cluster.wait_for(status="green", timeout=240)
    green = time.monotonic()
    outcome: dict = {}
    if job:
        job[0].join(timeout=300)
        outcome = job[1]
    counts = traffic.counts(killed, green)
    in_flight = traffic.in_flight(killed)
    report(
        name,
        node=node,
        status_while_down=status_down,
        answers=counts,
        failed=failed(counts),
        failed_in_flight=failed(in_flight),
        failures_sent_at=traffic.failures_at(killed, green),
        restart_s=f"{started - killed:.1f}",
        back_to_green_s=f"{green - started:.1f}",
        kill_to_green_s=f"{green - killed:.1f}",
    )
    return counts, in_flight, outcome


def test_cluster_drill_node_kills_under_mixed_traffic_lose_no_search_order_or_document(
    cluster, live_server
):
    rng = random.Random(3)
    index_rebuild()  # the alias first, so the catalogue's own changes have an index to drain to
    category = CategoryFactory()
    products = [ProductFactory(category=category, title=f"Drill Milk {i}") for i in range(40)]
    stores = [StoreFactory() for _ in range(2)]
    for shop in stores:
        for product in products:
            InventoryFactory(store=shop, product=product, quantity=rng.randint(200, 400))
    built = index_rebuild()
    assert (
        cluster.get(f"/{built.index}/_settings")[built.index]["settings"]["index"][
            "number_of_shards"
        ]
        == "3"
    )
    cluster.wait_for(status="green")
    initial = stock_snapshot()

    traffic = Traffic(live_server.url, [p.pk for p in products], [s.pk for s in stores])
    started = time.monotonic()
    traffic.start()
    try:
        time.sleep(2)
        # 1. A node that is not the elected master, while a rebuild runs.
        counts_1, inflight_1, rebuild = kill_and_restart(
            cluster,
            traffic,
            node_other_than_master(cluster),
            "cluster_kill_data_node",
            during=lambda: index_rebuild(chunk_size=20),
        )

        # 2. The elected master, while a synonym change is swapped in.
        def synonym_change():
            Synonym.objects.create(terms="drill milk, clustermilk")
            return synonyms_apply()

        master = cluster.master()
        counts_2, inflight_2, synonyms = kill_and_restart(
            cluster, traffic, master, "cluster_kill_master", during=synonym_change
        )
        rolling = []
        if ROLLING:
            # 3. A rolling restart, as an upgrade would: one node at a time, each back to green.
            for node in range(1, cluster.nodes + 1):
                stop = time.monotonic()
                cluster.stop_node(node)
                cluster.start(node)
                cluster.wait_for(status="green", timeout=240)
                rolling.append((node, time.monotonic() - stop))
            counts_3 = traffic.counts(started, time.monotonic())
            report(
                "cluster_rolling_restart",
                nodes=[f"{n}:{s:.0f}s" for n, s in rolling],
                failed=failed(counts_3),
            )
        time.sleep(1)
    finally:
        traffic.finish()

    # Recovery: what the drains could not apply during the kills is applied now.
    drained = outbox_drain()
    drift = index_drift(sample=None)
    live = alias_indices()
    rules_live = live_synonym_rules(live[0]) if len(live) == 1 else None
    total = traffic.counts(started, time.monotonic())
    orders = Order.objects.count()
    try:
        events = cluster.get(f"/{analytics.stream_name()}/_count")["count"]
    except RuntimeError:  # no stream: no event was written
        events = 0
    report(
        "cluster_summary",
        answers=total,
        failed=failed(total),
        orders=dict(traffic.orders),
        order_retries=traffic.order_retries,
        orders_persisted=orders,
        edits=dict(traffic.edits),
        rebuild="completed" if "result" in rebuild else f"failed: {rebuild.get('error')!r}"[:160],
        synonyms="swapped" if synonyms.get("result") else f"{synonyms!r}"[:160],
        alias=live,
        drained_after=drained.applied,
        drift=len(drift.missing) + len(drift.unexpected) + len(drift.stale),
        analytics_events=events,
        seconds=f"{time.monotonic() - started:.0f}",
    )

    assert traffic.errors == []
    # Searches: nothing lost beyond what was in flight at each kill (the client retries those).
    # Requests sent after a kill never fail: the client moves to another node (those in flight
    # at the kill are counted apart, and the client retries most of them too).
    assert failed(counts_1) == 0, counts_1
    assert failed(counts_2) == 0, counts_2
    assert failed(inflight_1) + failed(inflight_2) <= 2 * (SEARCHERS + 1), (inflight_1, inflight_2)
    assert set(traffic.orders) == {201}, traffic.orders
    assert orders == sum(traffic.orders.values())
    for pair, added in traffic.restocked.items():
        initial[pair] += added
    assert_stock_invariant(initial)
    # The rebuild completed, or failed cleanly leaving one index behind the alias.
    assert len(live) == 1
    if "error" in rebuild:
        assert isinstance(rebuild["error"], RebuildError), rebuild
    assert rules_live == synonym_rules()
    assert any("clustermilk" in rule for rule in rules_live or [])
    assert drained.failed == 0
    assert PendingIndexUpdate.objects.count() == 0
    assert drift.ok, drift
    assert cluster.health()["status"] == "green"
