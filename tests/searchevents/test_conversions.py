"""Conversions from orders: a confirmed order's lines with a valid query_id become conversion
events after commit, once, whatever replays or sweeps; a bad query_id never touches the order."""

import time

import pytest

from inventory.models import Inventory
from ordering.models import Order, OrderItem
from searchevents.conversions import order_conversions_record
from searchevents.models import PendingSearchEvent
from searchevents.query_ids import Kind, query_id_issue
from searchevents.shipping import events_ship
from searchevents.tasks import search_events_sweep
from tests.searchevents.conftest import caller_of, searched


def place(client, store, lines, **headers):
    response = client.post(
        "/orders/",
        {"store_id": store.id, "items": lines},
        format="json",
        headers=headers or None,
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_a_confirmed_order_records_its_attributed_lines_once(storefront, catalog, stream_events):
    north = catalog.stores["north"]
    milk, almond = catalog.products["Milk"], catalog.products["Almond Milk"]
    body = searched(storefront, q="milk", store_id=north.id)
    lines = [
        {"product_id": milk.id, "quantity_requested": 2, "query_id": body["query_id"]},
        {"product_id": almond.id, "quantity_requested": 1},
    ]
    order = place(storefront, north, lines, **{"Idempotency-Key": "order-1"})
    assert order["status"] == "CONFIRMED"
    assert "query_id" not in order["items"][0]  # the response is the contract's, unchanged
    # Shipped after commit by the (eager) task: nothing left pending, one event in the stream.
    assert not PendingSearchEvent.objects.exists()
    assert not Order.objects.get(pk=order["id"]).conversions_pending
    [event] = stream_events()
    assert event["event_type"] == "conversion"
    assert event["endpoint"] == "orders"
    assert (event["product_id"], event["order_id"], event["quantity"]) == (milk.id, order["id"], 2)
    assert event["query"] == "milk"
    assert event["search_id"] == body["query_id"].split(".")[1]
    hit_ids = [hit["id"] for hit in body["results"]]
    assert event["position"] == hit_ids.index(milk.id) + 1

    # A replay places nothing and records nothing; the sweep and a rerun find nothing to do.
    again = storefront.post(
        "/orders/",
        {"store_id": north.id, "items": lines},
        format="json",
        headers={"Idempotency-Key": "order-1"},
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert order_conversions_record(order_id=order["id"]) == 0
    search_events_sweep()
    assert len(stream_events()) == 1


@pytest.mark.django_db(transaction=True)
def test_a_rejected_order_records_nothing(storefront, catalog, stream_events):
    north = catalog.stores["north"]
    almond = catalog.products["Almond Milk"]  # 3 in stock
    body = searched(storefront, q="almond")
    line = {"product_id": almond.id, "quantity_requested": 50, "query_id": body["query_id"]}
    order = place(storefront, north, [line])
    assert order["status"] == "REJECTED"
    search_events_sweep()
    assert stream_events() == []
    assert not PendingSearchEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query_id",
    [
        "garbage",
        "q1.sAAAAAAAAAAAA.1.AAAAAA.AAAAAAAAAAAAAAAA",
        None,
        123,
        {"nested": ["x"]},
        "x" * 100_000,
        "expired",
        "foreign",
    ],
)
def test_an_unusable_query_id_never_fails_the_order_and_is_not_attributed(
    storefront, other_storefront, catalog, query_id
):
    north = catalog.stores["north"]
    milk = catalog.products["Milk"]
    if query_id == "expired":
        client_caller = caller_of(storefront)
        query_id = query_id_issue(
            caller=client_caller, kind=Kind.SEARCH, issued_at=int(time.time()) - 90_000
        ).token
    elif query_id == "foreign":
        query_id = searched(other_storefront, q="milk")["query_id"]
    before = Inventory.objects.get(store=north, product=milk).quantity
    line = {"product_id": milk.id, "quantity_requested": 1, "query_id": query_id}
    order = place(storefront, north, [line])
    assert order["status"] == "CONFIRMED"
    assert Inventory.objects.get(store=north, product=milk).quantity == before - 1
    item = OrderItem.objects.get(order_id=order["id"])
    assert item.query_id is None
    assert not Order.objects.get(pk=order["id"]).conversions_pending


@pytest.mark.django_db
def test_a_valid_query_id_is_stored_on_its_line_and_derived_once(storefront, catalog):
    north = catalog.stores["north"]
    milk = catalog.products["Milk"]
    body = searched(storefront, q="milk")
    order = place(
        storefront,
        north,
        [{"product_id": milk.id, "quantity_requested": 1, "query_id": body["query_id"]}],
    )
    assert OrderItem.objects.get(order_id=order["id"]).query_id == body["query_id"]
    # Inside the test's transaction nothing ran after commit: the order waits for the sweep.
    assert Order.objects.get(pk=order["id"]).conversions_pending
    assert order_conversions_record(order_id=order["id"]) == 1
    assert order_conversions_record(order_id=order["id"]) == 0
    [row] = PendingSearchEvent.objects.all()
    assert (row.type, row.order_id, row.product_id, row.quantity) == (
        "conversion",
        order["id"],
        milk.id,
        1,
    )


@pytest.mark.django_db
def test_events_ship_is_a_no_op_with_nothing_pending(stream):
    assert events_ship().shipped == 0
