"""The cache holds JSON, not pickles: nothing read back from Redis can run code."""

import pickle
from decimal import Decimal

import orjson
import pytest
from django.core.cache import cache
from django_redis import get_redis_connection

from searchindex.cache import suggestions_get, suggestions_set
from tests.factories import CategoryFactory, InventoryFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db

RAN: list[str] = []


def _record(marker: str) -> None:
    RAN.append(marker)


class RunsCodeWhenUnpickled:
    def __reduce__(self):
        return (_record, ("unpickled",))


def test_a_pickle_planted_in_redis_is_never_run():
    RAN.clear()
    get_redis_connection("default").set(
        cache.make_key("planted"), pickle.dumps(RunsCodeWhenUnpickled())
    )
    assert cache.get("planted") is None  # read as a miss
    assert RAN == []


def test_an_inventory_page_is_stored_as_json(api_client):
    row = InventoryFactory(product=ProductFactory(price=Decimal("12.50")))
    api_client.get(f"/stores/{row.store_id}/inventory/")
    connection = get_redis_connection("default")
    (page_key,) = [key for key in connection.keys("*") if b":page:" in key]
    stored = orjson.loads(connection.get(page_key))
    assert stored["count"] == 1
    assert stored["rows"][0]["price"] == "12.50"


def test_a_cached_inventory_page_is_byte_for_byte_the_fresh_one(
    api_client, django_assert_num_queries
):
    store = StoreFactory()
    dairy = CategoryFactory(name="Dairy & Eggs")
    for title, price in [("Ghee", "0.99"), ("Milk", "50.00"), ("Paneer", "1234567.10")]:
        InventoryFactory(
            store=store, product=ProductFactory(title=title, price=price, category=dairy)
        )
    InventoryFactory(store=store, product=ProductFactory(title="Crème fraîche", price="7.05"))
    url = f"/stores/{store.id}/inventory/"

    fresh = api_client.get(url)
    with django_assert_num_queries(0):
        cached = api_client.get(url)

    assert cached.status_code == fresh.status_code == 200
    assert cached.content == fresh.content
    assert [row["price"] for row in fresh.json()["results"]] == [
        "7.05",
        "0.99",
        "50.00",
        "1234567.10",
    ]


def test_suggestions_round_trip_unchanged():
    titles = ["Crème Brûlée", "Milk 1L", 'The "Best" Tea']
    suggestions_set(q="cre", store_id=None, version="v1", titles=titles)
    assert suggestions_get(q="cre", store_id=None, version="v1") == titles


def test_a_value_json_cannot_hold_is_refused_when_cached():
    with pytest.raises(TypeError):
        cache.set("not-json", {1, 2, 3})
