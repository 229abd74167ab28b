"""rebuild_index: a new index behind the alias with no downtime and no change lost meanwhile."""

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from catalog.models import Product
from catalog.signals import products_bulk_changed
from searchindex.client import ALIAS, alias_indices
from searchindex.drift import index_drift
from searchindex.exceptions import RebuildError
from searchindex.locks import DRAIN_LOCK, REBUILD_LOCK, advisory_lock
from searchindex.models import IndexRebuild, IndexRebuildJournal, PendingIndexUpdate
from searchindex.rebuild import index_create, index_forcemerge, index_rebuild
from tests.factories import CategoryFactory, InventoryFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_index(es) -> Iterator[None]:
    es.indices.delete(index=f"{ALIAS}*", ignore_unavailable=True, allow_no_indices=True)
    yield
    es.indices.delete(index=f"{ALIAS}*", ignore_unavailable=True, allow_no_indices=True)


def create_products(count: int, prefix: str = "Rebuild product") -> list[int]:
    """Many products in one transaction, announced the way bulk paths announce them."""
    with transaction.atomic():
        category = CategoryFactory()
        products = Product.objects.bulk_create(
            Product(title=f"{prefix} {i}", category=category) for i in range(count)
        )
        ids = [product.pk for product in products]
        products_bulk_changed.send(sender=Product, product_ids=ids)
    return ids


def indexed_title(es, pk: int) -> str | None:
    es.indices.refresh(index=ALIAS)
    found = es.options(ignore_status=404).get(index=ALIAS, id=pk)
    return found["_source"]["title"] if found.get("found") else None


@contextmanager
def lock_held_elsewhere(key: int) -> Iterator[None]:
    """Hold an advisory lock from another connection, as another worker would."""
    acquired, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with advisory_lock(key, wait=True):
                acquired.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert acquired.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()


def test_first_rebuild_puts_a_timestamped_index_behind_the_alias(es, no_index):
    ids = create_products(5)
    # With no index yet, drains could not apply these and left them pending.
    assert PendingIndexUpdate.objects.count() == 5

    result = index_rebuild()

    assert re.fullmatch(rf"{re.escape(ALIAS)}-\d{{20}}", result.index)
    assert alias_indices() == [result.index]
    assert result.documents == 5
    assert result.previous == []
    assert index_drift(sample=None).ok
    assert {indexed_title(es, pk) for pk in ids} == {f"Rebuild product {i}" for i in range(5)}
    # Rows pending before the rebuild started are covered by its snapshot.
    assert PendingIndexUpdate.objects.count() == 0
    run = IndexRebuild.objects.get()
    assert (run.index_name, run.state, run.documents) == (result.index, "done", 5)
    assert not IndexRebuildJournal.objects.exists()


def test_rebuild_moves_the_alias_and_deletes_the_previous_index(es, product_index):
    create_products(3)
    old = alias_indices()

    result = index_rebuild()

    assert alias_indices() == [result.index] != old
    assert result.previous == old == [f"{ALIAS}-test"]
    assert result.deleted == old
    assert not es.indices.exists(index=old[0])
    assert index_drift(sample=None).ok


def test_rebuild_creates_the_new_index_with_the_configured_shards_and_replicas(
    es, product_index, settings
):
    create_products(4)
    nodes = es.cluster.health()["number_of_data_nodes"]
    settings.ELASTICSEARCH_SHARDS = 2
    settings.ELASTICSEARCH_REPLICAS = nodes  # more copies than nodes: served, yellow

    result = index_rebuild()

    index_settings = es.indices.get_settings(index=result.index)[result.index]["settings"]
    assert index_settings["index"]["number_of_shards"] == "2"
    assert index_settings["index"]["number_of_replicas"] == str(nodes)
    assert alias_indices() == [result.index]
    assert es.cluster.health(index=ALIAS)["status"] == "yellow"
    assert index_drift(sample=None).ok


def test_keep_retains_the_newest_previous_indices(es, product_index):
    create_products(2)
    first = index_rebuild(keep=5)
    second = index_rebuild(keep=1)

    assert second.previous == [first.index]
    assert second.deleted == [f"{ALIAS}-test"]
    assert es.indices.exists(index=first.index)
    assert alias_indices() == [second.index]


def test_searches_keep_answering_during_the_rebuild(es, product_index):
    ids = create_products(300)
    es.indices.refresh(index=ALIAS)
    answers: list[int] = []
    errors: list[Exception] = []
    stop = threading.Event()

    # A loaded test machine makes searches slow, not wrong: only a wrong answer or an error
    # (a missing index or alias) counts as the rebuild getting in the way.
    patient = es.options(request_timeout=60)

    def search_until_stopped() -> None:
        while not stop.is_set():
            try:
                answers.append(patient.count(index=ALIAS)["count"])
            except Exception as exc:  # noqa: BLE001 - any failure is what we are looking for
                errors.append(exc)

    searcher = threading.Thread(target=search_until_stopped)
    searcher.start()
    live_before_swap: list[list[str]] = []

    def before_swap(new_index: str) -> None:
        live_before_swap.append(alias_indices())
        # Let the searcher answer a few times while the new index is built but not yet live.
        seen = len(answers)
        for _ in range(3000):
            if len(answers) >= seen + 3:
                break
            stop.wait(0.01)

    try:
        # Two rebuilds, so searches span two swaps and both index builds.
        first = index_rebuild(chunk_size=50, before_swap=before_swap)
        result = index_rebuild(chunk_size=50, before_swap=before_swap)
    finally:
        stop.set()
        searcher.join()

    assert errors == []
    assert len(answers) >= 6
    assert set(answers) == {len(ids)}
    assert live_before_swap == [[f"{ALIAS}-test"], [first.index]]
    assert alias_indices() == [result.index]


def test_changes_committed_during_the_rebuild_are_in_the_new_index(es, product_index):
    store = StoreFactory()
    category = CategoryFactory(name="Pantry")
    kept, deleted, late, restocked = ProductFactory.create_batch(4, category=category)
    InventoryFactory(store=store, product=restocked, quantity=0)
    deleted_pk = deleted.pk
    create_products(40, prefix="Filler")

    def during_populate(_count: int) -> None:
        # The first chunk is already in the new index: this change must be replayed over it.
        if not Product.objects.filter(title="Changed while populating").exists():
            with transaction.atomic():
                kept.title = "Changed while populating"
                kept.save()

    added: list[int] = []

    def before_swap(new_index: str) -> None:
        # Drained at once into the old index (and journaled for the new one).
        with transaction.atomic():
            deleted.delete()
        added.append(ProductFactory(title="Added during rebuild", category=category).pk)
        with transaction.atomic():
            category.name = "Pantry Staples"
            category.save()
        from inventory.services import inventory_set_quantity

        inventory_set_quantity(store_id=store.pk, product_id=restocked.pk, quantity=9)
        # Committed but not drained before the swap: another drain holds the lock meanwhile.
        with lock_held_elsewhere(DRAIN_LOCK), transaction.atomic():
            late.title = "Committed, drained after the swap"
            late.save()
        assert PendingIndexUpdate.objects.filter(object_pk=late.pk).exists()

    result = index_rebuild(chunk_size=10, before_swap=before_swap, progress=during_populate)

    assert alias_indices() == [result.index]
    assert result.replayed >= 4
    assert indexed_title(es, kept.pk) == "Changed while populating"
    assert indexed_title(es, deleted_pk) is None
    assert indexed_title(es, added[0]) == "Added during rebuild"
    assert indexed_title(es, late.pk) == "Committed, drained after the swap"
    source = es.get(index=ALIAS, id=restocked.pk)["_source"]
    assert source["in_stock_store_ids"] == [store.pk]
    assert source["category"]["name"] == "Pantry Staples"
    assert PendingIndexUpdate.objects.count() == 0
    drift = index_drift(sample=None)
    assert drift.ok, drift


def test_forcemerge_leaves_the_new_index_in_one_segment(es, no_index):
    name = index_create(name=f"{ALIAS}-merge")
    for batch in range(3):  # a refresh after each write makes a segment of it
        es.index(index=name, id=batch, document={"title": f"Segment {batch}"}, refresh=True)

    def segments() -> int:
        shards = es.indices.segments(index=name)["indices"][name]["shards"]
        return sum(len(copy["segments"]) for shard in shards.values() for copy in shard)

    assert segments() == 3
    index_forcemerge(name=name)
    es.indices.refresh(index=name)
    assert segments() == 1
    assert es.count(index=name)["count"] == 3


def test_a_second_rebuild_is_refused_while_one_runs(es, product_index):
    create_products(2)
    with lock_held_elsewhere(REBUILD_LOCK), pytest.raises(RebuildError, match="another"):
        index_rebuild()

    assert alias_indices() == [f"{ALIAS}-test"]


def test_drains_journal_for_a_running_rebuild_only_while_it_holds_its_lock(es, product_index):
    # A run left "running" by a crashed process holds no lock: nothing will replay its journal.
    run = IndexRebuild.objects.create(index_name=f"{ALIAS}-crashed")
    create_products(1)
    assert not IndexRebuildJournal.objects.exists()

    with lock_held_elsewhere(REBUILD_LOCK):
        ids = create_products(1)

    journaled = IndexRebuildJournal.objects.values_list("rebuild_id", "object_pk")
    assert list(journaled) == [(run.pk, ids[0])]


def test_a_failed_rebuild_leaves_the_alias_and_removes_its_new_index(es, product_index):
    create_products(2)

    def fail(new_index: str) -> None:
        raise RuntimeError("node lost")

    with pytest.raises(RuntimeError, match="node lost"):
        index_rebuild(before_swap=fail)

    run = IndexRebuild.objects.get()
    assert run.state == "failed"
    assert "node lost" in run.error
    assert alias_indices() == [f"{ALIAS}-test"]
    assert not es.indices.exists(index=run.index_name)
    assert not IndexRebuildJournal.objects.exists()
    # Drains after a failed rebuild journal nothing.
    create_products(1)
    assert not IndexRebuildJournal.objects.exists()


def test_command_rebuilds_then_check_reports_no_drift(es, no_index):
    create_products(4)
    out = StringIO()

    call_command("rebuild_index", "--no-progress", stdout=out)
    call_command("rebuild_index", "--check", "--full", stdout=out)
    call_command("rebuild_index", "--dry-run", "--sample", "2", stdout=out)

    text = out.getvalue()
    assert "Indexed 4 products" in text
    assert "Compared 4 documents" in text
    assert "Compared 2 documents" in text
    assert text.count("No drift.") == 2


def test_command_check_fails_and_names_documents_that_drifted(es, no_index):
    ids = create_products(3)
    call_command("rebuild_index", "--no-progress", stdout=StringIO())
    Product.objects.filter(pk=ids[0]).update(title="Changed behind the outbox's back")
    with connection.cursor() as cursor:  # raw SQL: no signal, so the index cannot know
        cursor.execute("DELETE FROM catalog_product WHERE id = %s", [ids[1]])
    out = StringIO()

    with pytest.raises(CommandError, match="drifted"):
        call_command("rebuild_index", "--check", "--full", stdout=out)

    text = out.getvalue()
    assert f"{ids[0]}: head_noun, suggest, title, title_head" in text
    assert f"Unexpected documents (1): {ids[1]}" in text
    assert "Drift found." in text
