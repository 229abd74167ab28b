"""POST /orders/ over HTTP: the contract's outcomes, validation envelope and idempotency."""

import pytest

from inventory.models import Inventory
from ordering.models import IdempotencyRecord, Order, OrderItem
from tests.factories import InventoryFactory, ProductFactory, StoreFactory
from tests.ordering.invariants import assert_stock_invariant, stock_snapshot

pytestmark = pytest.mark.django_db


def place(api_client, body, **headers):
    return api_client.post("/orders/", data=body, format="json", headers=headers or None)


def quantity(store, product) -> int:
    return Inventory.objects.get(store=store, product=product).quantity


@pytest.fixture
def store():
    return StoreFactory()


@pytest.fixture
def milk(store):
    product = ProductFactory(title="Milk", price="50.00")
    InventoryFactory(store=store, product=product, quantity=10)
    return product


@pytest.fixture
def bread(store):
    product = ProductFactory(title="Bread", price="30.00")
    InventoryFactory(store=store, product=product, quantity=5)
    return product


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def test_confirmed_order_deducts_every_line_and_answers_the_contract_shape(
    api_client, store, milk, bread
):
    initial = stock_snapshot()
    response = place(
        api_client,
        {
            "store_id": store.id,
            "items": [
                {"product_id": milk.id, "quantity_requested": 2},
                {"product_id": bread.id, "quantity_requested": 1},
            ],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    assert body == {
        "id": order.id,
        "store_id": store.id,
        "status": "CONFIRMED",
        "created_at": order.created_at.isoformat().replace("+00:00", "Z"),
        "total_items": 3,
        "items": [
            {
                "product_id": milk.id,
                "product_title": "Milk",
                "quantity_requested": 2,
                "unit_price": "50.00",
            },
            {
                "product_id": bread.id,
                "product_title": "Bread",
                "quantity_requested": 1,
                "unit_price": "30.00",
            },
        ],
        "rejected_items": [],
    }
    assert quantity(store, milk) == 8
    assert quantity(store, bread) == 4
    assert order.status == Order.Status.CONFIRMED
    assert_stock_invariant(initial)


def test_unit_price_is_captured_at_placement_and_survives_a_price_change(api_client, store, milk):
    place(
        api_client,
        {"store_id": store.id, "items": [{"product_id": milk.id, "quantity_requested": 1}]},
    )
    milk.price = "99.00"
    milk.save()

    item = OrderItem.objects.get()
    assert str(item.unit_price) == "50.00"


def test_order_rejected_when_any_line_lacks_stock_and_no_stock_changes(
    api_client, store, milk, bread
):
    initial = stock_snapshot()
    response = place(
        api_client,
        {
            "store_id": store.id,
            "items": [
                {"product_id": milk.id, "quantity_requested": 2},
                {"product_id": bread.id, "quantity_requested": 6},
            ],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "REJECTED"
    assert body["rejected_items"] == [
        {
            "product_id": bread.id,
            "quantity_requested": 6,
            "quantity_available": 5,
            "reason": "insufficient_stock",
        }
    ]
    assert [item["product_id"] for item in body["items"]] == [milk.id, bread.id]
    assert stock_snapshot() == initial
    order = Order.objects.get()
    assert order.status == Order.Status.REJECTED
    stored = {item.product_id: item for item in order.items.all()}
    assert stored[bread.id].reject_reason == "insufficient_stock"
    assert stored[bread.id].quantity_available == 5
    assert stored[milk.id].reject_reason == ""
    assert_stock_invariant(initial)


def test_product_without_inventory_row_is_rejected_not_stocked_not_a_4xx(api_client, store, milk):
    unstocked = ProductFactory()
    initial = stock_snapshot()

    response = place(
        api_client,
        {
            "store_id": store.id,
            "items": [
                {"product_id": milk.id, "quantity_requested": 1},
                {"product_id": unstocked.id, "quantity_requested": 1},
            ],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "REJECTED"
    assert body["rejected_items"] == [
        {
            "product_id": unstocked.id,
            "quantity_requested": 1,
            "quantity_available": 0,
            "reason": "not_stocked",
        }
    ]
    assert stock_snapshot() == initial


def test_ordering_the_exact_stock_confirms_and_the_next_unit_is_rejected(api_client, store, milk):
    first = place(
        api_client,
        {"store_id": store.id, "items": [{"product_id": milk.id, "quantity_requested": 10}]},
    )
    second = place(
        api_client,
        {"store_id": store.id, "items": [{"product_id": milk.id, "quantity_requested": 1}]},
    )

    assert first.json()["status"] == "CONFIRMED"
    assert quantity(store, milk) == 0
    assert second.status_code == 201
    assert second.json()["status"] == "REJECTED"
    assert second.json()["rejected_items"][0]["quantity_available"] == 0
    assert second.json()["rejected_items"][0]["reason"] == "insufficient_stock"
    assert quantity(store, milk) == 0


def test_stores_are_independent(api_client, store, milk):
    other = StoreFactory()
    InventoryFactory(store=other, product=milk, quantity=3)

    response = place(
        api_client,
        {"store_id": other.id, "items": [{"product_id": milk.id, "quantity_requested": 3}]},
    )

    assert response.json()["status"] == "CONFIRMED"
    assert quantity(other, milk) == 0
    assert quantity(store, milk) == 10


def test_quantity_as_a_string_of_digits_is_accepted(api_client, store, milk):
    response = place(
        api_client,
        {"store_id": store.id, "items": [{"product_id": milk.id, "quantity_requested": "2"}]},
    )

    assert response.status_code == 201
    assert response.json()["items"][0]["quantity_requested"] == 2
    assert quantity(store, milk) == 8


def test_unknown_store_is_404_store_not_found_and_nothing_is_stored(api_client, milk):
    initial = stock_snapshot()
    response = place(
        api_client,
        {"store_id": 999_999, "items": [{"product_id": milk.id, "quantity_requested": 1}]},
    )

    assert_error(response, 404, "store_not_found")
    assert not Order.objects.exists()
    assert stock_snapshot() == initial


def test_unknown_product_is_400_naming_the_line_and_nothing_is_stored(api_client, store, milk):
    initial = stock_snapshot()
    response = place(
        api_client,
        {
            "store_id": store.id,
            "items": [
                {"product_id": milk.id, "quantity_requested": 1},
                {"product_id": 999_999, "quantity_requested": 1},
            ],
        },
    )

    error = assert_error(response, 400, "validation_error")
    assert error["details"] == {"items": [{}, {"product_id": ["Unknown product."]}]}
    assert not Order.objects.exists()
    assert stock_snapshot() == initial


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"quantity_requested": 0}, "quantity_requested"),
        ({"quantity_requested": -1}, "quantity_requested"),
        ({"quantity_requested": 2.5}, "quantity_requested"),
        ({"quantity_requested": "abc"}, "quantity_requested"),
        ({"quantity_requested": 10_001}, "quantity_requested"),
        ({"quantity_requested": 10**30}, "quantity_requested"),
        ({"quantity_requested": True}, "quantity_requested"),
        ({"quantity_requested": None}, "quantity_requested"),
        ({"quantity_requested": None, "drop": "quantity_requested"}, "quantity_requested"),
        ({"product_id": "abc"}, "product_id"),
        ({"product_id": 10**30}, "product_id"),
        ({"product_id": None, "drop": "product_id"}, "product_id"),
    ],
    ids=[
        "zero",
        "negative",
        "fraction",
        "letters",
        "above-max",
        "huge",
        "boolean",
        "null",
        "missing-quantity",
        "product-letters",
        "product-huge",
        "missing-product",
    ],
)
def test_invalid_line_is_400_in_the_envelope_and_changes_nothing(
    api_client, store, milk, line, field
):
    initial = stock_snapshot()
    item = {"product_id": milk.id, "quantity_requested": 1, **line}
    item.pop(item.pop("drop", "none"), None)

    response = place(api_client, {"store_id": store.id, "items": [item]})

    error = assert_error(response, 400, "validation_error")
    assert list(error["details"]) == ["items"]
    assert field in error["details"]["items"][0]
    assert not Order.objects.exists()
    assert stock_snapshot() == initial


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "store_id"),
        ({"items": []}, "store_id"),
        ({"store_id": "x", "items": []}, "store_id"),
        ({"store_id": 10**30, "items": []}, "store_id"),
        ({"store_id": "STORE"}, "items"),
        ({"store_id": "STORE", "items": []}, "items"),
        ({"store_id": "STORE", "items": "milk"}, "items"),
        ({"store_id": "STORE", "items": [7]}, "items"),
        (
            {"store_id": "STORE", "items": [{"product_id": "MILK", "quantity_requested": 1}] * 101},
            "items",
        ),
    ],
    ids=[
        "empty-body",
        "missing-store",
        "store-letters",
        "store-huge",
        "missing-items",
        "empty-items",
        "items-not-a-list",
        "item-not-an-object",
        "too-many-lines",
    ],
)
def test_invalid_body_is_400_in_the_envelope_and_changes_nothing(
    api_client, store, milk, body, field
):
    initial = stock_snapshot()
    body = {key: (store.id if value == "STORE" else value) for key, value in body.items()}
    if isinstance(body.get("items"), list):
        body["items"] = [
            {**item, "product_id": milk.id} if isinstance(item, dict) else item
            for item in body["items"]
        ]

    response = place(api_client, body)

    error = assert_error(response, 400, "validation_error")
    assert field in error["details"]
    assert not Order.objects.exists()
    assert stock_snapshot() == initial


def test_duplicate_product_is_400_pointing_at_the_repeat_and_changes_nothing(
    api_client, store, milk
):
    initial = stock_snapshot()
    response = place(
        api_client,
        {
            "store_id": store.id,
            "items": [
                {"product_id": milk.id, "quantity_requested": 1},
                {"product_id": milk.id, "quantity_requested": 2},
            ],
        },
    )

    error = assert_error(response, 400, "validation_error")
    assert error["details"]["items"][0] == {}
    assert "product_id" in error["details"]["items"][1]
    assert not Order.objects.exists()
    assert stock_snapshot() == initial


@pytest.mark.parametrize("payload", ["{not json", '{"store_id": 1, "items": [', "", "[1, 2]"])
def test_malformed_or_non_object_json_is_400_and_changes_nothing(api_client, store, milk, payload):
    initial = stock_snapshot()
    response = api_client.post("/orders/", data=payload, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"malformed_request", "validation_error"}
    assert not Order.objects.exists()
    assert stock_snapshot() == initial


def test_non_json_content_type_is_415(api_client, store):
    response = api_client.post("/orders/", data="store_id=1", content_type="text/plain")

    assert_error(response, 415, "unsupported_media_type")
    assert not Order.objects.exists()


def test_get_on_orders_is_405(api_client):
    assert_error(api_client.get("/orders/"), 405, "method_not_allowed")


# Idempotency


def test_replay_with_same_key_and_body_returns_the_first_response_and_places_nothing(
    api_client, store, milk
):
    body = {"store_id": store.id, "items": [{"product_id": milk.id, "quantity_requested": 2}]}
    first = place(api_client, body, **{"Idempotency-Key": "k-1"})
    milk.title = "Renamed Milk"
    milk.save()

    second = place(api_client, body, **{"Idempotency-Key": "k-1"})

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert Order.objects.count() == 1
    assert quantity(store, milk) == 8
    record = IdempotencyRecord.objects.get()
    assert record.key == "k-1"
    assert record.order_id == first.json()["id"]
    assert record.response_status == 201


def test_replay_of_a_rejected_order_returns_it_again(api_client, store, milk):
    body = {"store_id": store.id, "items": [{"product_id": milk.id, "quantity_requested": 11}]}
    first = place(api_client, body, **{"Idempotency-Key": "k-rejected"})
    Inventory.objects.filter(product=milk).update(quantity=50)

    second = place(api_client, body, **{"Idempotency-Key": "k-rejected"})

    assert second.json() == first.json()
    assert second.json()["status"] == "REJECTED"
    assert Order.objects.count() == 1


def test_same_key_with_different_body_is_409_and_places_nothing(api_client, store, milk):
    place(
        api_client,
        {"store_id": store.id, "items": [{"product_id": milk.id, "quantity_requested": 1}]},
        **{"Idempotency-Key": "k-2"},
    )

    response = place(
        api_client,
        {"store_id": store.id, "items": [{"product_id": milk.id, "quantity_requested": 2}]},
        **{"Idempotency-Key": "k-2"},
    )

    assert_error(response, 409, "idempotency_conflict")
    assert Order.objects.count() == 1
    assert quantity(store, milk) == 9


def test_same_key_with_an_equivalent_body_is_a_replay(api_client, store, milk):
    place(
        api_client,
        {"store_id": store.id, "items": [{"product_id": milk.id, "quantity_requested": 2}]},
        **{"Idempotency-Key": "k-3"},
    )

    response = api_client.post(
        "/orders/",
        data=f'{{ "items": [{{"quantity_requested": "2", "product_id": {milk.id}}}],'
        f' "store_id": {store.id} }}',
        content_type="application/json",
        headers={"Idempotency-Key": "k-3"},
    )

    assert response.status_code == 201
    assert response.headers["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_different_keys_place_different_orders(api_client, store, milk):
    body = {"store_id": store.id, "items": [{"product_id": milk.id, "quantity_requested": 1}]}
    place(api_client, body, **{"Idempotency-Key": "a"})
    place(api_client, body, **{"Idempotency-Key": "b"})
    place(api_client, body)

    assert Order.objects.count() == 3
    assert quantity(store, milk) == 7


def test_idempotency_key_longer_than_255_characters_is_400(api_client, store, milk):
    response = place(
        api_client,
        {"store_id": store.id, "items": [{"product_id": milk.id, "quantity_requested": 1}]},
        **{"Idempotency-Key": "k" * 256},
    )

    error = assert_error(response, 400, "validation_error")
    assert "Idempotency-Key" in error["details"]
    assert not Order.objects.exists()


def test_invalid_request_with_a_key_stores_no_key(api_client, store):
    response = place(
        api_client,
        {"store_id": store.id, "items": [{"product_id": 999_999, "quantity_requested": 1}]},
        **{"Idempotency-Key": "k-invalid"},
    )

    assert response.status_code == 400
    assert not IdempotencyRecord.objects.exists()
