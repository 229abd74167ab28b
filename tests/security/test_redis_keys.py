"""What a client can make Redis hold: nothing for a refused request, and nothing for good."""

import pytest
from django_redis import get_redis_connection

from inventory.models import Inventory
from searchindex.cache import catalog_version, catalog_version_bump
from tests.config.test_errors import assert_envelope
from tests.factories import InventoryFactory

pytestmark = pytest.mark.django_db


def redis_keys() -> set[str]:
    """Every key in this test run's Redis database (the autouse fixture empties it)."""
    return {key.decode() for key in get_redis_connection("default").keys("*")}


def cache_keys() -> set[str]:
    """The keys a request leaves besides the client's throttle counters, which expire."""
    return {key for key in redis_keys() if ":throttle:" not in key}


@pytest.mark.parametrize("store_id", [999_999, 2**63])
def test_an_unknown_store_leaves_no_cache_key(api_client, store_id):
    response = api_client.get(f"/stores/{store_id}/inventory/")
    assert response.status_code == 404
    # The caller's one listing counter (it expires) is all: nothing named after the path.
    assert cache_keys() == set()
    assert len(redis_keys()) <= 1


@pytest.mark.parametrize(
    ("query", "status"),
    [("page_size=abc", 400), ("page=0", 400), ("page=99", 404)],
)
def test_a_refused_listing_request_leaves_only_its_throttle_counter(api_client, query, status):
    row = InventoryFactory()
    response = api_client.get(f"/stores/{row.store_id}/inventory/?{query}")
    assert response.status_code == status
    assert cache_keys() == set()


def test_a_refused_suggest_request_leaves_only_its_throttle_counter(api_client):
    response = api_client.get("/api/search/suggest/", {"q": "milk", "store_id": 999_999})
    assert response.status_code == 400
    assert cache_keys() == set()


def test_a_throttled_request_leaves_only_its_throttle_counter(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"search": "0/min", "suggest": "0/min"},
    }
    for url in ("/api/search/suggest/", "/api/search/products/"):
        assert_envelope(api_client.get(url, {"q": "milk"}), 429, "throttled")
    assert cache_keys() == set()
    assert len(redis_keys()) == 2  # one counter per scope


def test_only_the_default_page_size_is_cached(api_client, django_assert_max_num_queries):
    row = InventoryFactory()
    url = f"/stores/{row.store_id}/inventory/"
    for size in (1000, 999, 17):
        for _ in range(2):
            assert api_client.get(f"{url}?page_size={size}").status_code == 200
    assert cache_keys() == set()

    api_client.get(url)
    with django_assert_max_num_queries(0):
        assert api_client.get(f"{url}?page_size=100").status_code == 200
    assert len(cache_keys()) == 2  # the store's version and its one page


def test_the_cached_page_sizes_are_a_setting(api_client, settings):
    settings.INVENTORY_CACHED_PAGE_SIZES = [100, 1000]
    row = InventoryFactory()
    api_client.get(f"/stores/{row.store_id}/inventory/?page_size=1000")
    assert any(key.endswith(":size:1000") for key in redis_keys())


def test_every_cache_key_expires(api_client, django_capture_on_commit_callbacks):
    row = InventoryFactory(quantity=5)
    url = f"/stores/{row.store_id}/inventory/"
    api_client.get(url)
    line = {"product_id": row.product_id, "quantity_requested": 1}
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/orders/", {"store_id": row.store_id, "items": [line]}, format="json")
    api_client.get(url)
    catalog_version()
    catalog_version_bump()
    api_client.get("/api/search/suggest/", {"q": "mi"})  # a 400, but counted by the throttle

    connection = get_redis_connection("default")
    keys = redis_keys()
    assert any(key.endswith(f"inventory:store:{row.store_id}:version") for key in keys)
    assert any(key.endswith("search:catalog:version") for key in keys)
    assert any(":throttle:" in key for key in keys)
    assert {key: connection.ttl(key) for key in keys if connection.ttl(key) < 0} == {}


def test_a_version_that_expired_never_serves_the_pages_cached_under_it(api_client):
    row = InventoryFactory(quantity=5)
    url = f"/stores/{row.store_id}/inventory/"
    assert api_client.get(url).json()["results"][0]["quantity"] == 5
    connection = get_redis_connection("default")
    (version_key,) = [key for key in redis_keys() if key.endswith(":version")]
    # The version expires while its pages are still cached, and stock changes without a bump.
    connection.delete(version_key)
    Inventory.objects.filter(pk=row.pk).update(quantity=2)

    assert api_client.get(url).json()["results"][0]["quantity"] == 2
    assert api_client.get(url).json()["results"][0]["quantity"] == 2  # now from the cache
