"""`order_place` called directly: the rules hold without the HTTP layer in front."""

import pytest

from config.errors import InvalidParameters
from inventory.exceptions import StoreNotFound
from inventory.signals import stock_changed
from ordering.exceptions import IdempotencyConflict
from ordering.idempotency import IdempotencyKey
from ordering.models import IdempotencyRecord, Order
from ordering.services import OrderLine, order_place
from tests.factories import InventoryFactory, ProductFactory, StoreFactory
from tests.ordering.invariants import assert_stock_invariant, stock_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def announcements():
    sent = []

    def receiver(sender, **kwargs):
        sent.append((kwargs["store_id"], kwargs["product_ids"], kwargs["flipped_product_ids"]))

    stock_changed.connect(receiver, dispatch_uid="test-order-announcements")
    yield sent
    stock_changed.disconnect(dispatch_uid="test-order-announcements")


def test_confirmed_order_announces_deducted_products_and_those_that_ran_out(announcements):
    store = StoreFactory()
    last_one = InventoryFactory(store=store, quantity=1)
    plenty = InventoryFactory(store=store, quantity=9)
    announcements.clear()

    placement = order_place(
        store_id=store.id,
        lines=[OrderLine(plenty.product_id, 2), OrderLine(last_one.product_id, 1)],
    )

    assert placement.order.status == "CONFIRMED"
    assert not placement.replayed
    assert announcements == [
        (store.id, sorted([last_one.product_id, plenty.product_id]), [last_one.product_id])
    ]


def test_rejected_order_announces_nothing(announcements):
    row = InventoryFactory(quantity=1)
    announcements.clear()

    placement = order_place(store_id=row.store_id, lines=[OrderLine(row.product_id, 2)])

    assert placement.order.status == "REJECTED"
    assert [(x.product_id, x.quantity_available) for x in placement.rejected_lines] == [
        (row.product_id, 1)
    ]
    assert announcements == []


def test_confirmed_then_rejected_keeps_the_stock_invariant():
    store = StoreFactory()
    rows = [InventoryFactory(store=store, quantity=q) for q in (3, 1, 0)]
    initial = stock_snapshot()

    order_place(store_id=store.id, lines=[OrderLine(rows[0].product_id, 2)])
    order_place(store_id=store.id, lines=[OrderLine(r.product_id, 1) for r in rows])
    order_place(store_id=store.id, lines=[OrderLine(rows[1].product_id, 1)])

    assert list(Order.objects.order_by("id").values_list("status", flat=True)) == [
        "CONFIRMED",
        "REJECTED",
        "CONFIRMED",
    ]
    assert_stock_invariant(initial)


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [OrderLine(1, 1)] * 2,
        [OrderLine(1, 0)],
        [OrderLine(1, 10_001)],
        [OrderLine(n, 1) for n in range(1, 102)],
    ],
    ids=["empty", "duplicate", "zero", "too-many-units", "too-many-lines"],
)
def test_service_refuses_bad_lines_before_writing(lines):
    store = StoreFactory()
    ProductFactory()

    with pytest.raises(InvalidParameters):
        order_place(store_id=store.id, lines=lines)

    assert not Order.objects.exists()


def test_unknown_store_is_checked_before_products():
    with pytest.raises(StoreNotFound):
        order_place(store_id=999_999, lines=[OrderLine(999_999, 1)])


def test_a_key_reused_with_another_body_raises_a_conflict():
    row = InventoryFactory(quantity=5)
    key = IdempotencyKey(caller="ip:127.0.0.1", value="k")
    order_place(store_id=row.store_id, lines=[OrderLine(row.product_id, 1)], idempotency_key=key)

    with pytest.raises(IdempotencyConflict):
        order_place(
            store_id=row.store_id, lines=[OrderLine(row.product_id, 2)], idempotency_key=key
        )

    assert IdempotencyRecord.objects.count() == 1
    assert Order.objects.count() == 1


def test_a_repeated_key_returns_the_first_order_and_its_recorded_response():
    row = InventoryFactory(quantity=1)
    lines = [OrderLine(row.product_id, 2)]
    key = IdempotencyKey(caller="ip:127.0.0.1", value="k")
    first = order_place(store_id=row.store_id, lines=lines, idempotency_key=key)

    again = order_place(store_id=row.store_id, lines=lines, idempotency_key=key)

    assert not first.replayed
    assert again.replayed
    assert again.order == first.order
    assert [x.pk for x in again.lines] == [x.pk for x in first.lines]
    assert [x.reject_reason for x in again.rejected_lines] == ["insufficient_stock"]
    assert again.replay is not None
    assert again.replay.status_code == 201
    assert again.replay.body["id"] == first.order.pk
    assert again.replay.body["rejected_items"][0]["quantity_available"] == 1
    assert Order.objects.count() == 1
