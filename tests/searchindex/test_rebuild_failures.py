"""rebuild_index against a node that stops answering, and under a sync worker's steady writes."""

import random
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings
from elasticsearch.dsl.connections import connections

from catalog.models import Category, Product
from inventory.services import inventory_set_quantity
from searchindex.client import ALIAS, alias_indices
from searchindex.drift import index_drift
from searchindex.locks import DRAIN_LOCK
from searchindex.models import IndexRebuild, IndexRebuildJournal, PendingIndexUpdate
from searchindex.outbox import outbox_drain
from searchindex.rebuild import index_rebuild
from tests.factories import StoreFactory
from tests.searchindex.test_rebuild import create_products, indexed_title, lock_held_elsewhere
from tests.stallproxy import StallProxy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stall_proxy() -> Iterator[StallProxy]:
    """Every Elasticsearch request goes through a StallProxy until the test ends."""
    node = urlsplit(settings.ELASTICSEARCH_URL)
    assert node.hostname is not None
    assert node.port is not None
    proxy = StallProxy(target=(node.hostname, node.port))
    original = connections.get_connection()
    connections.create_connection(
        alias="default", **{**settings.ELASTICSEARCH_DSL["default"], "hosts": proxy.url}
    )
    yield proxy
    connections.add_connection("default", original)
    proxy.close()


def impatient_bulk_requests() -> override_settings:
    """Bulk requests given up after 3 s and one retry, so a stalled rebuild fails in seconds."""
    return override_settings(
        ELASTICSEARCH_BULK_TIMEOUT=3, ELASTICSEARCH_BULK_RETRIES=1, ELASTICSEARCH_BULK_BACKOFF=0.1
    )


def retitle(pk: int, title: str) -> None:
    with transaction.atomic():
        product = Product.objects.get(pk=pk)
        product.title = title
        product.save()


def test_a_rebuild_whose_bulk_requests_go_unanswered_fails_in_one_line_and_loses_nothing(
    es, product_index, stall_proxy
):
    ids = create_products(300)
    old = f"{ALIAS}-test"
    # Requests of 100 products are held; index creation, a drain of a product or two, and the
    # clean-up are far smaller and go through.
    stall_proxy.stall_requests_over(16_000)
    during: dict[str, bool] = {}

    def change_while_stalled() -> None:
        try:
            assert stall_proxy.stalled.wait(30)
            retitle(ids[1], "Changed while the rebuild stalled")
            during["rebuild running"] = IndexRebuild.objects.filter(state="running").exists()
        finally:
            connection.close()

    writer = threading.Thread(target=change_while_stalled)
    # Another worker's drain holds the drain lock throughout, so both changes stay in the outbox:
    # one pending when the rebuild starts (covered by its snapshot, dropped only at a swap), one
    # committed while its bulk requests stall.
    with lock_held_elsewhere(DRAIN_LOCK), impatient_bulk_requests():
        retitle(ids[0], "Pending when the rebuild started")
        writer.start()
        try:
            with pytest.raises(CommandError) as failure:
                call_command(
                    "rebuild_index", "--no-progress", "--chunk-size", "100", stdout=StringIO()
                )
        finally:
            writer.join()

    run = IndexRebuild.objects.get()
    assert failure.value.returncode == 1
    assert str(failure.value) == (
        "rebuild_index: Elasticsearch did not acknowledge a bulk request within 3 s "
        f"(ConnectionTimeout, 2 attempts); the alias '{ALIAS}' still points at {old} and the "
        f"half-built {run.index_name} is deleted. Check the node's health and heap "
        "(GET _cluster/health, GET _cat/nodes?v), then re-run, or raise "
        "ELASTICSEARCH_BULK_TIMEOUT."
    )
    assert run.state == "failed"
    assert not es.indices.exists(index=run.index_name)
    assert alias_indices() == [old]
    assert es.count(index=ALIAS)["count"] == 300
    assert indexed_title(es, ids[2]) == "Rebuild product 2"
    assert during == {"rebuild running": True}
    assert set(PendingIndexUpdate.objects.values_list("object_pk", flat=True)) == set(ids[:2])
    assert not IndexRebuildJournal.objects.exists()

    outbox_drain()  # the next drain, once the lock is free

    assert indexed_title(es, ids[0]) == "Pending when the rebuild started"
    assert indexed_title(es, ids[1]) == "Changed while the rebuild stalled"
    assert not PendingIndexUpdate.objects.exists()
    drift = index_drift(sample=None)
    assert drift.ok, drift


def test_a_rebuild_of_many_bulk_requests_under_steady_writes_matches_postgres(es, product_index):
    ids = [pk for part in range(3) for pk in create_products(200, prefix=f"Part {part}")]
    store = StoreFactory()
    categories = list(Category.objects.all())
    stop = threading.Event()
    changes: list[float] = []  # when each change committed
    errors: list[BaseException] = []

    def sync_traffic() -> None:
        """Titles, prices, stock and category names changing, each drained as it commits."""
        rng = random.Random(7)
        try:
            while not stop.is_set():
                pk = rng.choice(ids)
                kind = len(changes) % 4
                if kind == 0:
                    retitle(pk, f"Retitled {len(changes)}")
                elif kind == 1:
                    with transaction.atomic():
                        product = Product.objects.get(pk=pk)
                        product.price = Decimal(rng.randrange(100, 10_000)) / 100
                        product.save()
                elif kind == 2:
                    quantity = rng.choice([0, 5])
                    inventory_set_quantity(store_id=store.pk, product_id=pk, quantity=quantity)
                else:
                    with transaction.atomic():
                        category = rng.choice(categories)
                        category.name = f"Aisle {len(changes)}"
                        category.save()
                changes.append(time.monotonic())
                # The drain the commit enqueued ran already (eager); this one stands in for the
                # beat sweep, and finds the drain lock taken when the rebuild holds it.
                outbox_drain()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=sync_traffic)
    worker.start()
    try:
        started = time.monotonic()
        result = index_rebuild(chunk_size=100, thread_count=2)
        finished = time.monotonic()
    finally:
        stop.set()
        worker.join()

    assert errors == []
    assert result.documents == 600
    during = [moment for moment in changes if started < moment < finished]
    assert len(during) >= 10, f"only {len(during)} changes during the rebuild"
    assert result.replayed > 0
    assert alias_indices() == [result.index]
    outbox_drain()  # what the last change's own drain may have left behind the lock
    assert not PendingIndexUpdate.objects.exists()
    drift = index_drift(sample=None)
    assert drift.ok, drift
    assert drift.checked == 600


def test_a_rebuild_with_elasticsearch_unreachable_fails_in_one_line(es, product_index, es_outage):
    create_products(3)
    es_outage.start()

    with pytest.raises(CommandError) as failure:
        call_command("rebuild_index", "--no-progress", stdout=StringIO())

    es_outage.end()
    message = str(failure.value)
    assert failure.value.returncode == 1
    assert message.startswith(
        "rebuild_index: Elasticsearch at http://127.0.0.1:1 could not be reached (ConnectionError"
    )
    assert message.endswith(
        f"; the alias '{ALIAS}' was not moved and no new index was made. Check that it is running "
        "and that ELASTICSEARCH_URL points at it, then re-run."
    )
    assert "\n" not in message
    assert IndexRebuild.objects.get().state == "failed"
    assert alias_indices() == [f"{ALIAS}-test"]
