"""GET /stores/{id}/inventory/: shape, title order, pagination, the versioned cache and 404s."""

import pytest
from django.core.cache import cache
from django.test import override_settings

from inventory.cache import store_inventory_version
from inventory.services import inventory_set_quantity
from tests.factories import CategoryFactory, InventoryFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db


def listing(api_client, store, query=""):
    response = api_client.get(f"/stores/{store.id}/inventory/{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_rows_have_the_contract_shape(api_client):
    store = StoreFactory()
    dairy = CategoryFactory(name="Dairy", slug="dairy")
    milk = ProductFactory(title="Milk", price="50.00", category=dairy)
    InventoryFactory(store=store, product=milk, quantity=7)

    body = listing(api_client, store)

    assert body == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "product_id": milk.id,
                "product_title": "Milk",
                "price": "50.00",
                "category_name": "Dairy",
                "quantity": 7,
            }
        ],
    }


def test_rows_sort_by_title_case_insensitively_then_product_id(api_client):
    store = StoreFactory()
    titles = ["banana", "Apple", "cherry", "apple"]
    products = [ProductFactory(title=title) for title in titles]
    for product in products:
        InventoryFactory(store=store, product=product)
    InventoryFactory(product=ProductFactory(title="Aardvark"))  # another store's row

    rows = listing(api_client, store)["results"]

    assert [row["product_title"] for row in rows] == ["Apple", "apple", "banana", "cherry"]
    assert rows[0]["product_id"] < rows[1]["product_id"]


def test_pages_default_to_100_and_cap_at_1000(api_client):
    store = StoreFactory()
    InventoryFactory.create_batch(101, store=store)

    first = listing(api_client, store)
    second = listing(api_client, store, "?page=2")
    small = listing(api_client, store, "?page_size=10&page=3")

    assert first["count"] == 101
    assert len(first["results"]) == 100
    assert first["next"].endswith("?page=2")
    assert first["previous"] is None
    assert len(second["results"]) == 1
    assert second["next"] is None
    assert "page=" not in second["previous"]
    assert "page=2" in small["previous"]
    assert "page=4" in small["next"]
    assert len(listing(api_client, store, "?page_size=5000")["results"]) == 101


def test_store_without_stock_lists_an_empty_page(api_client):
    body = listing(api_client, StoreFactory())

    assert body == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("store_id", [999_999, 2**70])
def test_unknown_store_is_404_store_not_found(api_client, store_id):
    response = api_client.get(f"/stores/{store_id}/inventory/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "store_not_found"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("page=abc", 400, "validation_error"),
        ("page_size=0", 400, "validation_error"),
        ("page=3", 404, "not_found"),
    ],
)
def test_bad_or_past_the_end_pages(api_client, query, status, code):
    row = InventoryFactory()

    response = api_client.get(f"/stores/{row.store_id}/inventory/?{query}")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_a_warm_page_is_served_from_redis_without_queries(api_client, django_assert_num_queries):
    row = InventoryFactory(quantity=4)
    first = listing(api_client, row.store)

    with django_assert_num_queries(0):
        second = listing(api_client, row.store)

    assert second == first
    # django-redis's cache has keys(); `cache` is typed as Django's BaseCache.
    keys = cache.keys("*")  # type: ignore[attr-defined]
    assert any(key.startswith(f"inventory:store:{row.store_id}:v:") for key in keys)


def test_listing_is_fresh_after_an_order_with_the_cache_warm(
    api_client, django_capture_on_commit_callbacks
):
    row = InventoryFactory(quantity=4)
    assert listing(api_client, row.store)["results"][0]["quantity"] == 4

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/orders/",
            data={
                "store_id": row.store_id,
                "items": [{"product_id": row.product_id, "quantity_requested": 3}],
            },
            format="json",
        )
    assert response.json()["status"] == "CONFIRMED"

    assert listing(api_client, row.store)["results"][0]["quantity"] == 1


def test_a_rejected_order_does_not_invalidate_the_store_cache(
    api_client, django_capture_on_commit_callbacks
):
    row = InventoryFactory(quantity=1)
    listing(api_client, row.store)
    version = store_inventory_version(row.store_id)

    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            "/orders/",
            data={
                "store_id": row.store_id,
                "items": [{"product_id": row.product_id, "quantity_requested": 2}],
            },
            format="json",
        )

    assert store_inventory_version(row.store_id) == version


def test_an_order_at_one_store_leaves_other_stores_cached(
    api_client, django_capture_on_commit_callbacks
):
    row = InventoryFactory(quantity=4)
    other = InventoryFactory(product=row.product, quantity=4)
    listing(api_client, other.store)
    version = store_inventory_version(other.store_id)

    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            "/orders/",
            data={
                "store_id": row.store_id,
                "items": [{"product_id": row.product_id, "quantity_requested": 1}],
            },
            format="json",
        )

    assert store_inventory_version(other.store_id) == version


def test_listing_is_fresh_after_a_service_stock_change(
    api_client, django_capture_on_commit_callbacks
):
    row = InventoryFactory(quantity=4)
    listing(api_client, row.store)

    with django_capture_on_commit_callbacks(execute=True):
        inventory_set_quantity(store_id=row.store_id, product_id=row.product_id, quantity=9)

    assert listing(api_client, row.store)["results"][0]["quantity"] == 9


def test_listing_is_fresh_after_a_model_save_like_the_admin_does(
    api_client, django_capture_on_commit_callbacks
):
    row = InventoryFactory(quantity=4)
    listing(api_client, row.store)

    with django_capture_on_commit_callbacks(execute=True):
        row.quantity = 2
        row.save()

    assert listing(api_client, row.store)["results"][0]["quantity"] == 2


def test_a_deleted_store_stops_answering_from_the_cache(
    api_client, django_capture_on_commit_callbacks
):
    store = StoreFactory()
    listing(api_client, store)
    store_id = store.id

    with django_capture_on_commit_callbacks(execute=True):
        store.delete()

    assert api_client.get(f"/stores/{store_id}/inventory/").status_code == 404


UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}


def test_listing_is_served_from_postgres_when_redis_is_unreachable(
    api_client, django_capture_on_commit_callbacks
):
    row = InventoryFactory(quantity=4)

    with override_settings(CACHES=UNREACHABLE_REDIS):
        first = listing(api_client, row.store)
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client.post(
                "/orders/",
                data={
                    "store_id": row.store_id,
                    "items": [{"product_id": row.product_id, "quantity_requested": 1}],
                },
                format="json",
            )
        second = listing(api_client, row.store)

    assert first["results"][0]["quantity"] == 4
    assert response.status_code == 201
    assert second["results"][0]["quantity"] == 3
