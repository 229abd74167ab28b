"""Rules applied to GET /api/search/products/ on the small known catalogue, end to end."""

from datetime import timedelta

import pytest
from django.utils import timezone

from merchandising.cache import rules_forget
from merchandising.models import QueryRule
from searchindex.documents import ALIAS
from tests.searchindex.known_catalog import KnownCatalog

pytestmark = pytest.mark.django_db

URL = "/api/search/products/"
# "milk" finds these five (Milk first: an exact title); Chocolate Bar only by its description.
MILK = {"Milk", "Almond Milk", "Milk Bread", "Milkshake Mix", "Chocolate Bar"}


def search(api_client, **params) -> dict:
    response = api_client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def titles(body: dict) -> list[str]:
    return [row["title"] for row in body["results"]]


def add_rule(query: str = "milk", **fields) -> QueryRule:
    rule = QueryRule.objects.create(name=f"rule for {query}", query=query, **fields)
    # Inside the test's transaction nothing commits, so no version bump: read the rules anew.
    # (test_live.py proves the committed path.)
    rules_forget()
    return rule


def pin(catalog: KnownCatalog, title: str, position: int) -> dict:
    return {"product_id": catalog.products[title].id, "position": position}


def category_counts(body: dict) -> dict[str, int]:
    return {row["name"]: row["count"] for row in body["facets"]["categories"]}


def test_pin_brings_a_product_the_text_misses_and_counts_it_once(api_client, catalog):
    plain = search(api_client, q="milk")
    add_rule(pins=[pin(catalog, "Coffee Beans", 2)])
    body = search(api_client, q="milk")
    assert titles(body)[1] == "Coffee Beans"
    assert set(titles(body)) == MILK | {"Coffee Beans"}
    assert body["count"] == plain["count"] + 1 == len(body["results"])
    assert category_counts(body)["Beverages"] == category_counts(plain)["Beverages"] + 1
    assert sum(r["count"] for r in body["facets"]["price_ranges"]) == body["count"]


def test_pin_of_a_matching_product_moves_it_without_a_duplicate(api_client, catalog):
    plain = search(api_client, q="milk")
    add_rule(pins=[pin(catalog, "Chocolate Bar", 1)])
    body = search(api_client, q="milk")
    assert titles(body)[0] == "Chocolate Bar"
    assert titles(body)[1:] == [t for t in titles(plain) if t != "Chocolate Bar"]
    assert body["count"] == plain["count"]
    assert category_counts(body) == category_counts(plain)


def test_hide_removes_from_results_count_and_facets(api_client, catalog):
    plain = search(api_client, q="milk")
    add_rule(hide=catalog.ids("Almond Milk"))
    body = search(api_client, q="milk")
    assert set(titles(body)) == MILK - {"Almond Milk"}
    assert body["count"] == plain["count"] - 1
    assert category_counts(body)["Dairy"] == category_counts(plain)["Dairy"] - 1


def test_hide_beats_pin(api_client, catalog):
    add_rule(pins=[pin(catalog, "Coffee Beans", 1)])
    add_rule(hide=catalog.ids("Coffee Beans"))
    assert "Coffee Beans" not in titles(search(api_client, q="milk"))


def test_pin_failing_the_filters_is_skipped_and_the_gap_closes(api_client, catalog):
    plain = search(api_client, q="milk", category="dairy")
    assert titles(plain) == ["Milk", "Almond Milk"]
    # Coffee Beans is no dairy: skipped, so Almond Milk (wanting the same place) gets it.
    add_rule(pins=[pin(catalog, "Coffee Beans", 1), pin(catalog, "Almond Milk", 1)])
    body = search(api_client, q="milk", category="dairy")
    assert titles(body) == ["Almond Milk", "Milk"]
    assert body["count"] == plain["count"]
    assert category_counts(body) == {"Dairy": 2}


def test_other_sorts_ignore_pins(api_client, catalog):
    add_rule(pins=[pin(catalog, "Coffee Beans", 1), pin(catalog, "Almond Milk", 1)])
    body = search(api_client, q="milk", sort="price")
    assert "Coffee Beans" not in titles(body)
    prices = [float(row["price"]) for row in body["results"]]
    assert prices == sorted(prices)
    assert body["count"] == len(MILK)


def test_pins_are_absolute_across_pages_and_past_the_end_appended(api_client, catalog):
    add_rule(
        pins=[
            pin(catalog, "Coffee Beans", 1),
            pin(catalog, "Potato Chips", 3),
            pin(catalog, "Green Tea Blend", 50),
        ]
    )
    whole = search(api_client, q="milk", page_size=100)
    assert whole["count"] == len(MILK) + 3 == len(whole["results"])
    assert titles(whole)[0] == "Coffee Beans"
    assert titles(whole)[2] == "Potato Chips"
    assert titles(whole)[-1] == "Green Tea Blend"
    paged = []
    for page in (1, 2, 3):
        body = search(api_client, q="milk", page_size=3, page=page)
        assert body["count"] == whole["count"]
        paged += titles(body)
    assert paged == titles(whole)
    assert len(set(paged)) == len(paged)


def test_boost_lifts_and_buries_by_brand_and_category(api_client, catalog):
    add_rule(boosts=[{"filter": {"brand": "britannia"}, "factor": 10}])
    assert titles(search(api_client, q="milk"))[0] == "Milk Bread"
    QueryRule.objects.all().delete()
    rules_forget()
    plain = titles(search(api_client, q="milk"))
    add_rule(boosts=[{"filter": {"category": "Dairy"}, "factor": 0.1}])
    ranked = titles(search(api_client, q="milk"))
    assert ranked[-1] == "Almond Milk"
    assert ranked.index("Milk") > plain.index("Milk")


def test_boost_never_moves_a_pinned_product(api_client, catalog):
    add_rule(
        pins=[pin(catalog, "Chocolate Bar", 3)],
        boosts=[{"filter": {"brand": "Amul"}, "factor": 10}],
    )
    assert titles(search(api_client, q="milk"))[2] == "Chocolate Bar"


def test_replace_query_searches_the_replacement_and_names_it(api_client, catalog):
    add_rule(query="moo juice", replace_query="milk")
    body = search(api_client, q="Moo  Juice!")
    assert set(titles(body)) == MILK
    assert body["query_used"] == "milk"
    assert body["relaxed"] is False
    assert "query_used" not in search(api_client, q="milk")


def test_replacement_is_not_matched_again(api_client, catalog):
    add_rule(query="moo", replace_query="milk", priority=1)
    add_rule(query="milk", hide=catalog.ids("Milk"))
    assert "Milk" in titles(search(api_client, q="moo"))


def test_contains_rule_and_store_limited_rule(api_client, catalog):
    north = catalog.stores["north"].id
    add_rule(query="milk", match="contains", hide=catalog.ids("Milk Bread"))
    add_rule(query="milk", stores=[north], pins=[pin(catalog, "Coffee Beans", 1)])
    assert "Milk Bread" not in titles(search(api_client, q="fresh milk"))
    assert "Coffee Beans" not in titles(search(api_client, q="milk"))
    assert titles(search(api_client, q="milk", store_id=north))[0] == "Coffee Beans"
    assert "Coffee Beans" not in titles(
        search(api_client, q="milk", store_id=catalog.stores["south"].id)
    )


def test_disabled_and_out_of_window_rules_do_nothing(api_client, catalog):
    now = timezone.now()
    add_rule(enabled=False, hide=catalog.ids("Milk"))
    add_rule(starts_at=now + timedelta(hours=1), hide=catalog.ids("Milk"))
    add_rule(ends_at=now - timedelta(hours=1), hide=catalog.ids("Milk"))
    assert "Milk" in titles(search(api_client, q="milk"))


def test_deleted_pinned_product_is_skipped(api_client, catalog, es):
    add_rule(pins=[pin(catalog, "Coffee Beans", 1), pin(catalog, "Almond Milk", 2)])
    coffee = catalog.products["Coffee Beans"]
    coffee_id = coffee.id
    coffee.delete()
    # What the index outbox's drain does for a deleted product.
    es.delete(index=ALIAS, id=coffee_id, refresh=True)
    body = search(api_client, q="milk")
    assert titles(body)[:2] == ["Milk", "Almond Milk"]
    assert body["count"] == len(MILK)


@pytest.mark.parametrize("text", ["milk*", 'milk "OR" bread', "{milk}", "milk OR *:*", "m\\ilk~2"])
def test_rule_text_is_only_text(api_client, catalog, text):
    add_rule(query=text, replace_query=text + ' {"query": {"match_all": {}}}', hide=[])
    body = search(api_client, q=text)
    assert body["count"] < len(catalog.products)
