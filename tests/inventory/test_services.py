"""Stock writes announce themselves: `stock_changed` in the transaction, a cache bump on commit."""

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from config.errors import InvalidParameters
from inventory.cache import store_inventory_version
from inventory.exceptions import StoreNotFound
from inventory.models import Inventory
from inventory.services import inventory_deduct, inventory_set_quantities, inventory_set_quantity
from inventory.signals import stock_changed
from tests.factories import InventoryFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def announcements():
    """Every `stock_changed` sent during the test, with whether it came inside a transaction."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append({**kwargs, "in_atomic": transaction.get_connection().in_atomic_block})

    stock_changed.connect(receiver, dispatch_uid="test-announcements")
    yield sent
    stock_changed.disconnect(dispatch_uid="test-announcements")


def without_signal(sent):
    return [{k: v for k, v in s.items() if k not in {"signal", "in_atomic"}} for s in sent]


def test_deduct_takes_every_line_and_reports_products_that_ran_out(announcements):
    store = StoreFactory()
    a = InventoryFactory(store=store, quantity=2)
    b = InventoryFactory(store=store, quantity=5)
    announcements.clear()

    result = inventory_deduct(store_id=store.id, quantities={b.product_id: 1, a.product_id: 2})

    assert result.deducted
    assert result.flipped_product_ids == [a.product_id]
    assert Inventory.objects.get(pk=a.pk).quantity == 0
    assert Inventory.objects.get(pk=b.pk).quantity == 4
    assert without_signal(announcements) == [
        {
            "store_id": store.id,
            "product_ids": sorted([a.product_id, b.product_id]),
            "flipped_product_ids": [a.product_id],
        }
    ]
    assert all(s["in_atomic"] for s in announcements)


def test_deduct_with_any_shortage_changes_nothing_and_announces_nothing(announcements):
    store = StoreFactory()
    a = InventoryFactory(store=store, quantity=2)
    missing = ProductFactory()
    announcements.clear()

    result = inventory_deduct(store_id=store.id, quantities={a.product_id: 1, missing.id: 1})

    assert not result.deducted
    assert result.shortages[missing.id].stocked is False
    assert Inventory.objects.get(pk=a.pk).quantity == 2
    assert announcements == []


def test_set_quantities_creates_and_updates_rows_and_reports_flips(
    announcements, django_capture_on_commit_callbacks
):
    store = StoreFactory()
    empty = InventoryFactory(store=store, quantity=0)
    stocked = InventoryFactory(store=store, quantity=3)
    same = InventoryFactory(store=store, quantity=4)
    new = ProductFactory()
    announcements.clear()
    version = store_inventory_version(store.id)

    with django_capture_on_commit_callbacks(execute=True):
        inventory_set_quantities(
            store_id=store.id,
            quantities={empty.product_id: 5, stocked.product_id: 0, same.product_id: 4, new.id: 2},
        )

    assert dict(Inventory.objects.filter(store=store).values_list("product_id", "quantity")) == {
        empty.product_id: 5,
        stocked.product_id: 0,
        same.product_id: 4,
        new.id: 2,
    }
    changed = sorted([empty.product_id, stocked.product_id, new.id])
    assert without_signal(announcements) == [
        {"store_id": store.id, "product_ids": changed, "flipped_product_ids": changed}
    ]
    assert store_inventory_version(store.id) != version


def test_set_quantity_to_the_same_value_announces_nothing_and_keeps_the_cache(
    announcements, django_capture_on_commit_callbacks
):
    row = InventoryFactory(quantity=3)
    announcements.clear()
    version = store_inventory_version(row.store_id)

    with django_capture_on_commit_callbacks(execute=True):
        inventory_set_quantity(store_id=row.store_id, product_id=row.product_id, quantity=3)

    assert announcements == []
    assert store_inventory_version(row.store_id) == version


@pytest.mark.parametrize("quantity", [-1, 2.5, "3", True])
def test_set_quantity_refuses_anything_but_a_whole_number_of_0_or_more(quantity):
    row = InventoryFactory(quantity=3)

    with pytest.raises(InvalidParameters):
        inventory_set_quantity(store_id=row.store_id, product_id=row.product_id, quantity=quantity)

    assert Inventory.objects.get(pk=row.pk).quantity == 3


def test_set_quantity_refuses_unknown_store_and_unknown_product():
    row = InventoryFactory(quantity=3)

    with pytest.raises(StoreNotFound):
        inventory_set_quantity(store_id=999_999, product_id=row.product_id, quantity=1)
    with pytest.raises(InvalidParameters):
        inventory_set_quantity(store_id=row.store_id, product_id=999_999, quantity=1)


def test_the_cache_is_not_bumped_when_the_transaction_rolls_back(
    django_capture_on_commit_callbacks,
):
    row = InventoryFactory(quantity=3)
    version = store_inventory_version(row.store_id)

    def set_then_fail():
        with transaction.atomic():
            inventory_set_quantity(store_id=row.store_id, product_id=row.product_id, quantity=0)
            raise RuntimeError("roll back")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        set_then_fail()

    assert callbacks == []
    assert store_inventory_version(row.store_id) == version
    assert Inventory.objects.get(pk=row.pk).quantity == 3


# Single-row saves and deletes (what the admin does) go through the receivers.


def test_saving_a_row_announces_the_change_with_the_flip_computed_from_the_stored_value(
    announcements,
):
    row = InventoryFactory(quantity=3)
    announcements.clear()

    row.quantity = 1
    row.save()
    row.quantity = 0
    row.save()

    assert [s["flipped_product_ids"] for s in announcements] == [[], [row.product_id]]
    assert [s["product_ids"] for s in announcements] == [[row.product_id]] * 2


def test_creating_and_deleting_rows_announce_availability_flips(announcements):
    store = StoreFactory()
    row = InventoryFactory(store=store, quantity=2)
    InventoryFactory(store=store, quantity=0)  # no stock before or after: nothing to say
    row.delete()

    assert (
        without_signal(announcements)
        == [
            {
                "store_id": store.id,
                "product_ids": [row.product_id],
                "flipped_product_ids": [row.product_id],
            }
        ]
        * 2
    )


def test_moving_a_row_to_another_store_announces_both_stores(announcements):
    row = InventoryFactory(quantity=2)
    old_store = row.store
    new_store = StoreFactory()
    announcements.clear()

    row.store = new_store
    row.save()

    assert [(s["store_id"], s["flipped_product_ids"]) for s in announcements] == [
        (old_store.id, [row.product_id]),
        (new_store.id, [row.product_id]),
    ]


def test_an_admin_edit_bumps_the_store_cache_and_announces(
    client, announcements, django_capture_on_commit_callbacks
):
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    row = InventoryFactory(quantity=5)
    announcements.clear()
    version = store_inventory_version(row.store_id)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/inventory/inventory/{row.pk}/change/",
            {"store": row.store_id, "product": row.product_id, "quantity": 0},
        )

    assert response.status_code == 302, response.content[:2000]
    assert Inventory.objects.get(pk=row.pk).quantity == 0
    assert store_inventory_version(row.store_id) != version
    assert without_signal(announcements) == [
        {
            "store_id": row.store_id,
            "product_ids": [row.product_id],
            "flipped_product_ids": [row.product_id],
        }
    ]
