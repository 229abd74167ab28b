"""Per caller: rate limits and Idempotency-Keys belong to the API key, else to the address."""

import pytest
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from ordering.models import IdempotencyRecord, Order
from tests.apikeys.helpers import assert_error, auth
from tests.factories import InventoryFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked():
    store = StoreFactory()
    product = ProductFactory(title="Milk")
    InventoryFactory(store=store, product=product, quantity=1000)
    return store, product


@pytest.fixture
def rates(settings):
    def set_rates(**rates: str) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    return set_rates


def body(store, product, *, quantity: int = 1) -> dict:
    return {
        "store_id": store.id,
        "items": [{"product_id": product.id, "quantity_requested": quantity}],
    }


def place(client: APIClient, payload: dict, **headers: str):
    return client.post("/orders/", payload, format="json", headers=headers)


def test_two_keys_do_not_share_an_order_budget(make_key, rates, stocked):
    rates(orders="2/min")
    _, first = make_key("orders:write", name="till 1")
    _, second = make_key("orders:write", name="till 2")
    client = APIClient()
    assert [place(client, body(*stocked), **auth(first)).status_code for _ in range(2)] == [
        201,
        201,
    ]
    assert_error(place(client, body(*stocked), **auth(first)), 429, "throttled")
    assert place(client, body(*stocked), **auth(second)).status_code == 201


def test_listings_are_limited_per_key_and_share_one_budget(make_key, rates, stocked):
    rates(listings="2/min")
    store, _ = stocked
    _, first = make_key("stores:read")
    _, second = make_key("stores:read")
    client = APIClient()
    assert client.get(f"/stores/{store.id}/orders/", headers=auth(first)).status_code == 200
    assert client.get(f"/stores/{store.id}/inventory/", headers=auth(first)).status_code == 200
    response = client.get(f"/stores/{store.id}/inventory/", headers=auth(first))
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    assert client.get(f"/stores/{store.id}/inventory/", headers=auth(second)).status_code == 200


def test_anonymous_orders_are_limited_per_address_whatever_forwarding_header_is_sent(
    rates, stocked
):
    rates(orders="2/min")
    client = APIClient()
    statuses = [
        place(client, body(*stocked), **{"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(3)
    ]
    assert statuses == [201, 201, 429]
    other_address = APIClient(REMOTE_ADDR="198.51.100.7")
    assert place(other_address, body(*stocked)).status_code == 201


@pytest.mark.usefixtures("keys_required")
def test_a_refused_call_writes_no_throttle_counter(rates, stocked):
    rates(orders="100/min", listings="100/min")
    redis = get_redis_connection("default")
    before = set(redis.keys("*"))
    client = APIClient()
    assert_error(place(client, body(*stocked)), 401, "authentication_required")
    assert set(redis.keys("*")) == before


def test_the_same_idempotency_key_from_two_keys_is_two_orders(make_key, stocked):
    _, first = make_key("orders:write", name="app 1")
    _, second = make_key("orders:write", name="app 2")
    client = APIClient()
    one = place(client, body(*stocked, quantity=1), **auth(first), **{"Idempotency-Key": "order-1"})
    # Another caller's key is a new key: a different body is no conflict, and nothing is replayed.
    two = place(
        client, body(*stocked, quantity=2), **auth(second), **{"Idempotency-Key": "order-1"}
    )
    assert (one.status_code, two.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in two
    assert one.json()["id"] != two.json()["id"]
    assert Order.objects.count() == 2
    assert IdempotencyRecord.objects.filter(key="order-1").count() == 2
    again = place(
        client, body(*stocked, quantity=2), **auth(second), **{"Idempotency-Key": "order-1"}
    )
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == two.json()


def test_the_same_idempotency_key_from_two_addresses_is_two_orders(stocked):
    first, second = APIClient(REMOTE_ADDR="198.51.100.1"), APIClient(REMOTE_ADDR="198.51.100.2")
    one = place(first, body(*stocked), **{"Idempotency-Key": "k"})
    two = place(second, body(*stocked), **{"Idempotency-Key": "k"})
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["id"] != two.json()["id"]
    assert "Idempotent-Replayed" not in two
    replay = place(first, body(*stocked), **{"Idempotency-Key": "k"})
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == one.json()["id"]
