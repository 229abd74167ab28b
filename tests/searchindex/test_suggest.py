"""GET /api/search/suggest/: ordering, limit, distinct titles, store filter, typos and the cache."""

from typing import Any

import pytest
from django.core.cache import cache

from catalog.models import Product
from searchindex.cache import (
    catalog_settled,
    catalog_version,
    catalog_version_bump,
    suggest_cache_key,
    suggestions_get,
    suggestions_lookup,
    suggestions_set,
)
from searchindex.client import ALIAS
from searchindex.documents import ProductDocument
from searchindex.models import PendingIndexUpdate
from tests.config.test_errors import assert_envelope
from tests.factories import InventoryFactory, ProductFactory
from tests.searchindex.known_catalog import STOCK

pytestmark = pytest.mark.django_db

URL = "/api/search/suggest/"


def suggest(api_client, q: str, **params) -> list[str]:
    response = api_client.get(URL, {"q": q, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"query", "results", "query_id"}
    return body["results"]


def test_titles_starting_with_q_come_first_then_later_words(api_client, catalog):
    # "Almond Milk" also files "Milk" as an input, the same text as the title "Milk": it must
    # not be de-duplicated away.
    assert suggest(api_client, "mil") == ["Milk", "Milk Bread", "Milkshake Mix", "Almond Milk"]


def test_title_prefix_matches_rank_above_earlier_sorting_later_word_matches(
    api_client, catalog, index_products
):
    ProductFactory(title="Bread Crumbs")
    index_products()
    assert suggest(api_client, "bre") == ["Bread Crumbs", "Milk Bread", "Sourdough Bread"]


def test_suggest_is_case_insensitive_and_echoes_the_trimmed_query(api_client, catalog):
    response = api_client.get(URL, {"q": "  MIL "})
    body = response.json()
    assert body.pop("query_id").startswith("q1.u")  # searchevents: the suggest's token
    assert body == {
        "query": "MIL",
        "results": ["Milk", "Milk Bread", "Milkshake Mix", "Almond Milk"],
    }


def test_at_most_ten_titles(api_client, catalog, index_products):
    for n in range(15):
        ProductFactory(title=f"Cheese Slice {n:02d}")
    index_products()
    assert suggest(api_client, "chee") == [f"Cheese Slice {n:02d}" for n in range(10)]


def test_titles_are_distinct_even_when_many_products_share_one(api_client, catalog, index_products):
    # More same-titled products than the ten suggestions: the other titles still show.
    ProductFactory.create_batch(20, title="Milk")
    index_products()
    assert suggest(api_client, "mil") == ["Milk", "Milk Bread", "Milkshake Mix", "Almond Milk"]


def test_titles_differing_only_in_case_are_one_suggestion(api_client, catalog, index_products):
    ProductFactory(title="MILK")
    index_products()
    results = suggest(api_client, "mil")
    assert [title.casefold() for title in results] == [
        "milk",
        "milk bread",
        "milkshake mix",
        "almond milk",
    ]


def test_store_id_keeps_only_titles_in_stock_there(api_client, catalog):
    assert suggest(api_client, "mil", store_id=catalog.stores["south"].id) == ["Milk"]
    assert suggest(api_client, "mil", store_id=catalog.stores["north"].id) == [
        "Milk",
        "Almond Milk",
    ]
    assert suggest(api_client, "sourd", store_id=catalog.stores["north"].id) == []  # quantity 0
    assert suggest(api_client, "mil", store_id=catalog.stores["empty"].id) == []


def in_stock_at(store, *titles: str, quantity: int = 5) -> None:
    for title in titles:
        InventoryFactory(product=ProductFactory(title=title), store=store, quantity=quantity)


def test_a_stores_suggestions_rank_and_collapse_as_the_unfiltered_ones_do(
    api_client, catalog, index_products
):
    store = catalog.stores["empty"]
    in_stock_at(store, "Bread Crumbs", "Milk Bread", "MILK BREAD", "Artisan Bread", "bread rolls")
    in_stock_at(store, "Sourdough Bread", quantity=0)
    ProductFactory(title="Breadsticks")  # stocked nowhere
    index_products()

    # Title prefixes first, then later words; alphabetical within each; one per title.
    results = suggest(api_client, "  BRE ", store_id=store.id)
    assert results[:2] == ["Bread Crumbs", "bread rolls"]
    assert [title.casefold() for title in results[2:]] == ["artisan bread", "milk bread"]


def test_a_stores_suggestions_are_the_unfiltered_ones_in_stock_there(api_client, catalog):
    for key, stock in STOCK.items():
        store = catalog.stores[key]
        in_stock = {title.casefold() for title, quantity in stock.items() if quantity > 0}
        for q in ("mil", "milk", "bread", "gre", "tea", "chips", "masala ch"):
            expected = [t for t in suggest(api_client, q) if t.casefold() in in_stock]
            assert suggest(api_client, q, store_id=store.id) == expected, (key, q)


def test_a_stores_suggestions_stop_at_ten_distinct_titles(api_client, catalog, index_products):
    store = catalog.stores["empty"]
    in_stock_at(store, *[f"Cheese Slice {n:02d}" for n in range(12)], "Cheese Slice 00")
    index_products()
    assert suggest(api_client, "chee", store_id=store.id) == [
        f"Cheese Slice {n:02d}" for n in range(10)
    ]


def test_a_stores_typo_suggestions_keep_only_titles_in_stock_there(api_client, catalog):
    assert suggest(api_client, "mlik", store_id=catalog.stores["south"].id) == ["Milk"]
    assert suggest(api_client, "gerek", store_id=catalog.stores["north"].id) == []
    assert suggest(api_client, "sourdoguh", store_id=catalog.stores["north"].id) == []  # sold out


def test_typos_are_tolerated_when_exact_prefixes_find_too_few(api_client, catalog):
    assert suggest(api_client, "mlik")[0] == "Milk"
    assert suggest(api_client, "gerek") == ["Greek Yogurt"]
    assert suggest(api_client, "yxgxr") == []  # two edits from "yogur": one is allowed at 5
    assert suggest(api_client, "sourdoguh") == ["Sourdough Bread"]  # two allowed past 7


def test_typo_matches_rank_after_exact_ones(api_client, catalog, index_products):
    ProductFactory(title="Millet Flour")  # "mill" is one edit from "milk"
    index_products()
    assert suggest(api_client, "milk") == [
        "Milk",
        "Milk Bread",
        "Milkshake Mix",
        "Almond Milk",
        "Millet Flour",
    ]


def test_no_typo_pass_when_exact_prefixes_fill_the_list(api_client, catalog, index_products):
    for n in range(10):
        ProductFactory(title=f"Milk Pack {n}")
    ProductFactory(title="Millet Flour")
    index_products()
    results = suggest(api_client, "milk")
    assert len(results) == 10
    assert "Millet Flour" not in results


def test_short_queries_are_not_fuzzed(api_client, catalog):
    assert suggest(api_client, "chi") == ["Potato Chips"]  # not "Chocolate Bar" nor "Chai"


@pytest.mark.parametrize("q", [None, "", "mi", "  mi  ", "   ", "\t\n"])
def test_queries_shorter_than_three_characters_are_400(api_client, q):
    params = {} if q is None else {"q": q}
    assert_envelope(api_client.get(URL, params), 400, "query_too_short")


@pytest.mark.parametrize("store_id", ["abc", "0", "-3", "99999999"])
def test_bad_or_unknown_store_is_400(api_client, store_id):
    error = assert_envelope(
        api_client.get(URL, {"q": "milk", "store_id": store_id}), 400, "validation_error"
    )
    assert "store_id" in error["details"]


def test_suggest_characters_of_query_syntax_are_plain_text(api_client, catalog):
    for q in ['mil"', "mil*", "(mil", "mil\\", "mil~", "m/l", "mi:l", "<em>"]:
        assert api_client.get(URL, {"q": q}).status_code == 200, q


# --- the cache -------------------------------------------------------------------------------


def test_suggestions_are_cached_under_the_normalised_query(api_client, catalog, es):
    assert suggest(api_client, "  Mil ") == ["Milk", "Milk Bread", "Milkshake Mix", "Almond Milk"]
    key = suggest_cache_key(q="Mil", store_id=None)
    assert key == "autocomplete:mil"
    entry: Any = cache.get(key)
    assert entry == {"version": catalog_version(), "value": suggest(api_client, "mil")}
    store_id = catalog.stores["south"].id
    suggest(api_client, "MIL", store_id=store_id)
    assert cache.get(f"autocomplete:mil:{store_id}")["value"] == ["Milk"]
    assert suggestions_get(q="MIL", store_id=store_id, version=catalog_version()) == ["Milk"]
    # django-redis's cache has ttl(); `cache` is typed as Django's BaseCache.
    assert cache.ttl(key) <= 300  # type: ignore[attr-defined]
    # Served from the cache: the index no longer has the product, the answer still does.
    es.delete(index=ALIAS, id=catalog.products["Milk Bread"].id, refresh=True)
    assert "Milk Bread" in suggest(api_client, "mil")


def test_a_catalog_version_bump_drops_every_cached_suggestion(api_client, catalog, es):
    assert "Milk Bread" in suggest(api_client, "mil")
    es.delete(index=ALIAS, id=catalog.products["Milk Bread"].id, refresh=True)
    catalog_version_bump()  # what the index sync does once Elasticsearch applied a change
    assert suggest(api_client, "mil") == ["Milk", "Milkshake Mix", "Almond Milk"]


def test_a_renamed_product_stops_being_suggested(
    api_client, catalog, django_capture_on_commit_callbacks
):
    assert "Almond Milk" in suggest(api_client, "mil")
    product = catalog.products["Almond Milk"]
    version = catalog_version()
    with django_capture_on_commit_callbacks(execute=True):
        product.title = "Oat Drink"
        product.save()
    assert catalog_version() != version  # the save's commit bumped the catalog version
    ProductDocument().update(product, refresh=True)
    catalog_version_bump()
    assert suggest(api_client, "mil") == ["Milk", "Milk Bread", "Milkshake Mix"]
    assert suggest(api_client, "oat") == ["Oat Drink"]


def test_a_deleted_product_stops_being_suggested(
    api_client, catalog, es, django_capture_on_commit_callbacks
):
    assert "Milkshake Mix" in suggest(api_client, "mil")
    product = catalog.products["Milkshake Mix"]
    product_id = product.id
    version = catalog_version()
    with django_capture_on_commit_callbacks(execute=True):
        product.delete()
    assert catalog_version() != version
    assert not Product.objects.filter(pk=product_id).exists()
    es.options(ignore_status=404).delete(index=ALIAS, id=product_id, refresh=True)
    catalog_version_bump()
    assert suggest(api_client, "mil") == ["Milk", "Milk Bread", "Almond Milk"]


@pytest.mark.django_db(transaction=True)  # real commits: the save's on-commit drain runs
def test_a_suggestion_asked_before_the_index_refreshes_is_not_cached(
    api_client, catalog, es, settings
):
    settings.SUGGEST_CACHE_SETTLE_SECONDS = 60
    # No refresh until the test asks for one: the window between the sync applying a change
    # and Elasticsearch making it searchable, held open.
    es.indices.put_settings(index=ALIAS, settings={"index": {"refresh_interval": "-1"}})
    try:
        product = catalog.products["Almond Milk"]
        product.title = "Oat Drink"
        product.save()  # at commit: the outbox drain applies it, then bumps the version
        assert not PendingIndexUpdate.objects.exists()
        assert "Almond Milk" in suggest(api_client, "mil")  # applied, not yet searchable
        es.indices.refresh(index=ALIAS)
        assert suggest(api_client, "mil") == ["Milk", "Milk Bread", "Milkshake Mix"]
    finally:
        es.indices.put_settings(
            index=ALIAS,
            settings={"index": {"refresh_interval": settings.ELASTICSEARCH_REFRESH_INTERVAL}},
        )


def test_a_version_is_settled_only_after_the_settle_window(settings):
    settings.SUGGEST_CACHE_SETTLE_SECONDS = 60
    catalog_version_bump()
    assert not catalog_settled(catalog_version())
    settings.SUGGEST_CACHE_SETTLE_SECONDS = 0
    assert catalog_settled(catalog_version())
    assert catalog_settled("3f2a9c0d4b5e6f708192a3b4c5d6e7f8")  # a token of the older form


def test_a_category_change_bumps_the_catalog_version(catalog, django_capture_on_commit_callbacks):
    version = catalog_version()
    with django_capture_on_commit_callbacks(execute=True):
        category = catalog.categories["frozen"]
        category.name = "Frozen"
        category.save()
    assert catalog_version() != version


def test_nothing_is_bumped_when_the_transaction_rolls_back(catalog):
    from django.db import transaction

    version = catalog_version()
    product = catalog.products["Milk"]
    product.title = "Never"
    with transaction.atomic():
        product.save()
        transaction.set_rollback(True)
    assert catalog_version() == version


def test_a_lookup_reads_the_version_and_the_entry_and_misses_an_older_version():
    version = catalog_version()
    suggestions_set(q="Tea", store_id=None, version=version, titles=["Tea Bags"])
    assert suggestions_lookup(q=" tea ", store_id=None) == (version, ["Tea Bags"])
    catalog_version_bump()
    bumped, cached = suggestions_lookup(q="tea", store_id=None)
    assert (bumped != version, cached) == (True, None)
    assert suggestions_get(q="tea", store_id=None, version=version) == ["Tea Bags"]
