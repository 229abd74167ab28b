"""Did-you-mean and zero-result recovery on real Elasticsearch, over the known catalog."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/search/products/"


def search(api_client, **params) -> dict:
    response = api_client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def titles(body: dict) -> list[str]:
    return [row["title"] for row in body["results"]]


def test_a_misspelt_word_gets_a_correction(api_client, catalog):
    body = search(api_client, q="choclate bar")
    assert body["did_you_mean"] == "chocolate bar"
    assert body["relaxed"] is False
    assert "query_used" not in body


def test_a_query_spelt_as_the_catalogue_gets_no_correction(api_client, catalog):
    body = search(api_client, q="chocolate bar")
    assert body["did_you_mean"] is None
    assert body["relaxed"] is False
    assert "query_used" not in body


def test_no_correction_when_it_finds_no_more_under_the_same_filters(api_client, catalog):
    # "chocolate bar" is a snack: among beverages the correction finds nothing more.
    body = search(api_client, q="choclate bar", category="beverages")
    assert body["did_you_mean"] is None


def test_a_query_that_finds_nothing_is_relaxed_to_its_correction(api_client, catalog):
    # Two typos in five letters: beyond fuzzy matching (one edit there), so nothing as typed.
    body = search(api_client, q="bradd")
    assert body["relaxed"] is True
    assert body["query_used"] == "bread"
    assert body["did_you_mean"] == "bread"
    assert set(titles(body)) == {"Sourdough Bread", "Milk Bread"}
    assert body["count"] == 2


def test_relaxing_keeps_the_filters(api_client, catalog):
    body = search(api_client, q="bradd", min_price="40")
    assert body["relaxed"] is True
    assert titles(body) == ["Milk Bread"]


def test_relaxing_never_returns_out_of_stock_products_when_in_stock_was_asked(api_client, catalog):
    # Sourdough Bread is sold out at north, Milk Bread never stocked there.
    north = catalog.stores["north"].id
    body = search(api_client, q="bradd", store_id=north, in_stock="true")
    assert body["results"] == []
    assert body["count"] == 0
    assert body["relaxed"] is False
    assert "query_used" not in body
    assert body["did_you_mean"] is None


def test_a_query_that_finds_results_is_never_relaxed(api_client, catalog):
    for q in ("milk", "grek yogurt", "choclate bar", "tea"):
        body = search(api_client, q=q)
        assert body["count"] > 0, q
        assert body["relaxed"] is False, q
        assert "query_used" not in body, q


def test_nonsense_finds_nothing_and_is_not_relaxed(api_client, catalog):
    body = search(api_client, q="zzzzqqq")
    assert body["count"] == 0
    assert body["relaxed"] is False
    assert body["did_you_mean"] is None


def test_the_schema_documents_did_you_mean_relaxed_and_query_used(api_client, catalog):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    page = schema["components"]["schemas"]["ProductSearchPage"]
    assert {"did_you_mean", "relaxed", "query_used"} <= set(page["properties"])
    assert "query_used" not in page["required"]
    assert page["properties"]["did_you_mean"]["nullable"] is True


def test_an_unfinished_last_word_is_not_corrected(api_client, catalog):
    # "choc" is the start of "Chocolate", not a misspelling of "chai".
    body = search(api_client, q="choc")
    assert titles(body) == ["Chocolate Bar"]
    assert body["did_you_mean"] is None


def test_no_correction_when_rules_hide_what_the_correction_would_add(api_client, catalog):
    from merchandising.cache import rules_forget
    from merchandising.models import QueryRule

    QueryRule.objects.create(
        name="no bars", query="chocolate bar", hide=catalog.ids("Chocolate Bar")
    )
    rules_forget()  # the test's transaction never commits: read the rules anew
    body = search(api_client, q="choclate bar")
    assert body["did_you_mean"] is None
