"""Suggest with `products=N` and storefront fields on search hits (sku, brand, image_url)."""

import pytest

from searchindex.cache import catalog_version, suggest_cache_key, suggestions_get
from tests.config.test_errors import assert_envelope

pytestmark = pytest.mark.django_db

SUGGEST = "/api/search/suggest/"


def suggest(api_client, **params) -> dict:
    response = api_client.get(SUGGEST, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_products_are_returned_with_the_titles(api_client, catalog):
    body = suggest(api_client, q="milk", products=3)
    assert body["results"][0] == "Milk"
    assert len(body["products"]) == 3
    first = body["products"][0]
    milk = catalog.products["Milk"]
    assert first == {
        "id": milk.id,
        "title": "Milk",
        "price": "50.00",
        "image_url": None,
        "in_stock": True,
    }


def test_no_products_key_without_the_parameter(api_client, catalog):
    assert "products" not in suggest(api_client, q="milk")
    assert "products" not in suggest(api_client, q="milk", products=0)


def test_with_a_store_only_products_in_stock_there(api_client, catalog):
    north = catalog.stores["north"]
    body = suggest(api_client, q="milk", store_id=north.id, products=8)
    # North has Milk and Almond Milk in stock among the milk products.
    assert {row["title"] for row in body["products"]} == {"Milk", "Almond Milk"}
    assert all(row["in_stock"] for row in body["products"])


@pytest.mark.parametrize("value", ["-1", "9", "x", "1.5"])
def test_products_out_of_range_is_400(api_client, catalog, value):
    response = api_client.get(SUGGEST, {"q": "milk", "products": value})
    assert_envelope(response, 400, "validation_error")


def test_cache_key_includes_n_so_requests_never_share_an_entry(api_client, catalog):
    assert len(suggest(api_client, q="milk", products=2)["products"]) == 2
    assert len(suggest(api_client, q="milk", products=4)["products"]) == 4
    assert "products" not in suggest(api_client, q="milk")
    version = catalog_version()
    assert suggestions_get(q="milk", store_id=None, version=version, products=2)
    assert suggestions_get(q="milk", store_id=None, version=version)
    # Served from the cache, the same shape.
    assert len(suggest(api_client, q="milk", products=2)["products"]) == 2
    keys = {
        suggest_cache_key(q=q, store_id=s, products=n)
        for q, s, n in [("milk", None, 0), ("milk", None, 2), ("milk", 2, 0), ("milk:p2", None, 0)]
    }
    assert len(keys) == 4


def test_hits_carry_sku_brand_and_image_url(api_client, catalog, index_products):
    milk = catalog.products["Milk"]
    milk.sku, milk.image_url = "AM-MILK-1L", "https://cdn.example.com/p/milk.jpg"
    milk.save()
    index_products()
    row = api_client.get("/api/search/products/", {"q": "milk"}).json()["results"][0]
    assert (row["sku"], row["brand"], row["image_url"]) == (
        "AM-MILK-1L",
        "Amul",
        "https://cdn.example.com/p/milk.jpg",
    )
    bread = next(
        r
        for r in api_client.get("/api/search/products/", {"q": "sourdough"}).json()["results"]
        if r["title"] == "Sourdough Bread"
    )
    assert (bread["sku"], bread["brand"], bread["image_url"]) == (None, None, None)
    products = suggest(api_client, q="milk", products=1)["products"]
    assert products[0]["image_url"] == "https://cdn.example.com/p/milk.jpg"


def test_a_hide_rule_reaches_cached_dropdown_products(api_client, catalog):
    from merchandising.cache import rules_forget, rules_version_bump
    from merchandising.models import QueryRule

    milk = catalog.products["Milk"]
    assert milk.id in [row["id"] for row in suggest(api_client, q="milk", products=3)["products"]]
    QueryRule.objects.create(name="no milk", query="milk", hide=[milk.id])
    rules_version_bump()  # what the rule's commit does (the test's transaction never commits)
    rules_forget()  # as each web process does within RULES_CHECK_SECONDS
    body = suggest(api_client, q="milk", products=3)
    assert milk.id not in [row["id"] for row in body["products"]]
    assert body["results"][0] == "Milk"  # titles are not products: rules do not touch them
    # The answer with the rule applied is what is cached now.
    assert milk.id not in [
        row["id"] for row in suggest(api_client, q="milk", products=3)["products"]
    ]
