"""Outbox sync: committed changes reach the index, nothing is lost when Elasticsearch or the broker
is down, and rolled-back changes never arrive."""

import logging
import threading
from io import StringIO
from typing import Any

import pytest
from celery.exceptions import Retry
from django.core.management import call_command
from django.db import connection, transaction
from django_elasticsearch_dsl.signals import post_index
from elastic_transport import ConnectionError as TransportConnectionError
from elasticsearch import NotFoundError

from catalog.models import Category, Product
from catalog.signals import products_bulk_changed
from inventory.models import Inventory
from inventory.services import inventory_deduct, inventory_set_quantity
from searchindex.cache import catalog_version
from searchindex.client import ALIAS
from searchindex.drift import index_drift
from searchindex.models import PendingIndexUpdate
from searchindex.outbox import CATEGORY, PRODUCT, outbox_drain
from searchindex.tasks import drain_pending, sweep_pending
from tests.factories import CategoryFactory, InventoryFactory, ProductFactory, StoreFactory

# Changes must really commit: the outbox drains on commit, and rollbacks must really roll back.
pytestmark = pytest.mark.django_db(transaction=True)


# Any, not `dict | None`: tests index the document directly, and a None fails them either way.
def indexed(es, pk: int) -> Any:
    """The product's indexed document, or None when it is not in the index."""
    es.indices.refresh(index=ALIAS)
    try:
        return es.get(index=ALIAS, id=pk)["_source"]
    except NotFoundError:
        return None


def seq_no(es, pk: int) -> int:
    return es.get(index=ALIAS, id=pk)["_seq_no"]


def pending() -> list[tuple[str, int]]:
    return list(
        PendingIndexUpdate.objects.order_by("model", "object_pk").values_list("model", "object_pk")
    )


def test_created_product_is_indexed_after_commit_and_its_outbox_row_removed(es, product_index):
    product = ProductFactory(title="Basmati Rice")

    assert indexed(es, product.pk)["title"] == "Basmati Rice"
    assert pending() == []


def test_updated_product_is_reindexed(es, product_index):
    product = ProductFactory(title="Basmati Rice")
    with transaction.atomic():
        product.title = "Brown Basmati Rice"
        product.save()

    assert indexed(es, product.pk)["title"] == "Brown Basmati Rice"
    assert pending() == []


def test_deleted_product_document_is_removed(es, product_index):
    product = ProductFactory()
    pk = product.pk
    assert indexed(es, pk) is not None

    with transaction.atomic():
        product.delete()

    assert indexed(es, pk) is None
    assert pending() == []


def test_category_rename_reindexes_only_that_categorys_products(es, product_index):
    dairy, bakery = CategoryFactory(name="Dairy"), CategoryFactory(name="Bakery")
    milk, curd = ProductFactory(category=dairy), ProductFactory(category=dairy)
    bread = ProductFactory(category=bakery)
    es.indices.refresh(index=ALIAS)
    bread_seq_no = seq_no(es, bread.pk)

    with transaction.atomic():
        dairy.name = "Dairy & Eggs"
        dairy.save()

    assert indexed(es, milk.pk)["category"]["name"] == "Dairy & Eggs"
    assert indexed(es, curd.pk)["category"]["name"] == "Dairy & Eggs"
    assert seq_no(es, bread.pk) == bread_seq_no
    assert pending() == []


def test_stock_reaching_zero_and_restocking_flip_in_stock_store_ids(es, product_index):
    store = StoreFactory()
    product = ProductFactory()
    InventoryFactory(store=store, product=product, quantity=2)
    assert indexed(es, product.pk)["in_stock_store_ids"] == [store.pk]

    inventory_deduct(store_id=store.pk, quantities={product.pk: 2})
    assert indexed(es, product.pk)["in_stock_store_ids"] == []

    inventory_set_quantity(store_id=store.pk, product_id=product.pk, quantity=7)
    assert indexed(es, product.pk)["in_stock_store_ids"] == [store.pk]
    assert pending() == []


def test_admin_style_inventory_delete_flips_availability(es, product_index):
    store = StoreFactory()
    row = InventoryFactory(store=store, quantity=4)
    assert indexed(es, row.product_id)["in_stock_store_ids"] == [store.pk]

    with transaction.atomic():
        Inventory.objects.get(pk=row.pk).delete()

    assert indexed(es, row.product_id)["in_stock_store_ids"] == []


def test_ordinary_sale_writes_no_outbox_row_and_leaves_the_document_alone(es, product_index):
    store = StoreFactory()
    product = ProductFactory()
    InventoryFactory(store=store, product=product, quantity=5)
    es.indices.refresh(index=ALIAS)
    before = seq_no(es, product.pk)

    with transaction.atomic():
        inventory_deduct(store_id=store.pk, quantities={product.pk: 2})
        assert pending() == []

    es.indices.refresh(index=ALIAS)
    assert seq_no(es, product.pk) == before
    assert Inventory.objects.get(product=product).quantity == 3


def test_bulk_update_announced_with_products_bulk_changed_is_indexed(es, product_index):
    products = ProductFactory.create_batch(3, description="old")
    ids = [product.pk for product in products]

    with transaction.atomic():
        Product.objects.filter(pk__in=ids).update(description="new")
        products_bulk_changed.send(sender=Product, product_ids=ids)

    assert [indexed(es, pk)["description"] for pk in ids] == ["new", "new", "new"]
    assert pending() == []


def test_rolled_back_transaction_leaves_no_pending_row_and_no_document(es, product_index):
    category = CategoryFactory()
    recorded_inside = []

    def change_then_fail() -> None:
        with transaction.atomic():
            product = ProductFactory(category=category, title="Never Sold")
            category.name = "Renamed"
            category.save()
            recorded_inside.extend(pending())
            assert {(PRODUCT, product.pk), (CATEGORY, category.pk)} <= set(recorded_inside)
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        change_then_fail()

    assert recorded_inside
    assert pending() == []
    es.indices.refresh(index=ALIAS)
    assert es.count(index=ALIAS)["count"] == 0
    assert not Product.objects.exists()


def test_repeated_changes_to_a_product_coalesce_into_one_row(es, product_index, es_outage):
    es_outage.start()
    product = ProductFactory(title="v0")
    for version in range(1, 4):
        with transaction.atomic():
            product.title = f"v{version}"
            product.save()

    row = PendingIndexUpdate.objects.get()
    assert (row.model, row.object_pk, row.changes) == (PRODUCT, product.pk, 4)

    es_outage.end()
    outbox_drain()
    assert indexed(es, product.pk)["title"] == "v3"


def test_change_committed_while_a_drain_applies_the_previous_one_is_not_lost(es, product_index):
    product = ProductFactory(title="Old")
    fired = threading.Event()

    def commit_newer_title_from_another_connection(sender, **kwargs):
        if fired.is_set():
            return
        fired.set()

        def writer() -> None:
            try:
                with transaction.atomic():
                    changed = Product.objects.get(pk=product.pk)
                    changed.title = "Newest"
                    changed.save()
            finally:
                connection.close()

        thread = threading.Thread(target=writer)
        thread.start()
        thread.join()

    post_index.connect(commit_newer_title_from_another_connection)
    try:
        with transaction.atomic():
            product.title = "Middle"
            product.save()
    finally:
        post_index.disconnect(commit_newer_title_from_another_connection)

    assert fired.is_set()
    assert indexed(es, product.pk)["title"] == "Newest"
    assert pending() == []


def test_without_an_alias_rows_wait_and_no_stray_index_is_created(es, product_index):
    concrete = next(iter(es.indices.get_alias(name=ALIAS)))
    es.indices.delete_alias(index=concrete, name=ALIAS)

    product = ProductFactory()

    row = PendingIndexUpdate.objects.get()
    assert row.object_pk == product.pk
    assert row.attempts >= 1
    assert "alias" in row.last_error
    assert not es.indices.exists(index=ALIAS)
    with pytest.raises(Retry, match="refused"):  # the task backs off and tries again
        drain_pending.apply()
    assert PendingIndexUpdate.objects.get().attempts == row.attempts + 1

    es.indices.put_alias(index=concrete, name=ALIAS)
    assert outbox_drain().applied == 1
    assert indexed(es, product.pk) is not None


def test_elasticsearch_down_loses_no_change_and_the_sweep_makes_the_index_equal_postgres(
    es, product_index, es_outage
):
    store = StoreFactory()
    category = CategoryFactory(name="Snacks")
    products = ProductFactory.create_batch(30, category=category)
    for product in products[:10]:
        InventoryFactory(store=store, product=product, quantity=1)
    assert index_drift(sample=None).ok
    product_ids = [product.pk for product in products]
    es_outage.start()

    # 50 committed changes: 20 updates, 10 creations, 5 deletes, 10 stock flips, 5 renames.
    for product in products[10:30]:
        with transaction.atomic():
            product.price += 1
            product.save()
    created = [ProductFactory(category=category) for _ in range(10)]
    for product in products[:5]:
        with transaction.atomic():
            product.delete()
    for product in products[5:10]:
        inventory_deduct(store_id=store.pk, quantities={product.pk: 1})
        inventory_set_quantity(store_id=store.pk, product_id=product.pk, quantity=0)
    for product in created[:5]:
        inventory_set_quantity(store_id=store.pk, product_id=product.pk, quantity=3)
    for name in ["Chips", "Crisps", "Namkeen", "Savoury", "Snacks & More"]:
        with transaction.atomic():
            category.name = name
            category.save()

    expected_rows = {(PRODUCT, pk) for pk in product_ids + [p.pk for p in created]}
    expected_rows.add((CATEGORY, category.pk))
    assert set(pending()) == expected_rows

    # The drain task fails while the node is down and asks Celery to retry, backing off
    # exponentially (full jitter), until it gives up and leaves the rest to the sweep.
    for attempt in range(drain_pending.max_retries):
        with pytest.raises(Retry) as retry:
            drain_pending.apply(retries=attempt)
        assert 0 <= retry.value.when <= 2**attempt
    with pytest.raises(TransportConnectionError):
        drain_pending.apply(retries=drain_pending.max_retries)
    assert set(pending()) == expected_rows

    es_outage.end()
    assert sweep_pending.apply().result["applied"] == len(expected_rows)

    assert pending() == []
    drift = index_drift(sample=None)
    assert drift.ok, drift
    assert drift.checked == drift.postgres_count == 35
    assert indexed(es, created[0].pk)["category"]["name"] == "Snacks & More"


def test_broker_down_at_commit_keeps_the_change_and_the_sweep_recovers(
    es, product_index, broker_unreachable, caplog
):
    caplog.set_level(logging.WARNING, logger="config.broker")

    with transaction.atomic():
        product = ProductFactory(title="Committed Anyway")
    with transaction.atomic():
        product.title = "Committed Twice"
        product.save()

    assert Product.objects.get(pk=product.pk).title == "Committed Twice"
    assert pending() == [(PRODUCT, product.pk)]
    assert indexed(es, product.pk) is None
    failed = [r for r in caplog.records if getattr(r, "event", None) == "broker_publish_failed"]
    assert [r.task for r in failed] == ["searchindex.drain_pending"] * 2

    assert sweep_pending()["applied"] == 1

    assert indexed(es, product.pk)["title"] == "Committed Twice"
    assert pending() == []
    assert index_drift(sample=None).ok


def test_drain_is_idempotent(es, product_index):
    product = ProductFactory(title="Once")

    assert outbox_drain().applied == 0
    assert drain_pending.apply().result["applied"] == 0
    assert indexed(es, product.pk)["title"] == "Once"


def test_category_without_products_and_new_categories_write_no_rows(es, product_index):
    category = CategoryFactory()
    with transaction.atomic():
        category.name = "Empty Aisle"
        category.save()
        assert pending() == [(CATEGORY, category.pk)]

    assert pending() == []
    assert Category.objects.filter(name="Empty Aisle").exists()


def test_seed_data_queues_every_old_and_new_product_so_the_index_follows_a_reseed(
    es, product_index
):
    seed = ["seed_data", "--stores", "2", "--seed", "1", "--no-progress"]
    call_command(*seed, "--products", "30", stdout=StringIO())
    first = index_drift(sample=None)
    assert first.ok, first
    assert first.index_count == 30

    # Reseeding restarts ids: documents of ids the new catalog no longer has must go.
    call_command(*seed, "--products", "20", stdout=StringIO())

    drift = index_drift(sample=None)
    assert drift.ok, drift
    assert drift.index_count == 20
    assert pending() == []


def test_a_drain_that_changed_the_index_retires_cached_suggestions(es, product_index):
    product = ProductFactory(title="Old Title")
    version = catalog_version()
    assert outbox_drain().applied == 0
    assert catalog_version() == version  # nothing applied, cache kept

    with transaction.atomic():  # a bulk path: no model signal, so only the drain bumps
        Product.objects.filter(pk=product.pk).update(title="New Title")
        products_bulk_changed.send(sender=Product, product_ids=[product.pk])

    assert indexed(es, product.pk)["title"] == "New Title"
    assert catalog_version() != version
