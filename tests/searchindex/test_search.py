"""GET /api/search/products/: relevance, filters, sorts, facets, store stock, paging, errors."""

import socket
import threading
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from elasticsearch.dsl.connections import connections as es_connections

from inventory.models import Inventory
from searchindex.client import ALIAS
from searchindex.documents import ProductDocument
from tests.config.test_errors import assert_envelope
from tests.factories import ProductFactory
from tests.searchindex.known_catalog import BRANDS, PRODUCTS

pytestmark = pytest.mark.django_db

URL = "/api/search/products/"
ALL_TITLES = {title for title, *_ in PRODUCTS}


def search(api_client, **params) -> dict:
    response = api_client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def titles(body: dict) -> list[str]:
    return [row["title"] for row in body["results"]]


# --- matching and relevance -----------------------------------------------------------------


def test_q_matches_title_description_and_category_name(api_client, catalog):
    assert "Chocolate Bar" in titles(search(api_client, q="milk"))  # "milk solids" in description
    assert set(titles(search(api_client, q="bakery"))) == {
        "Sourdough Bread",
        "Milk Bread",
        "Butter Cookies",
    }


def test_exact_title_match_comes_first(api_client, catalog):
    assert titles(search(api_client, q="milk"))[0] == "Milk"
    assert titles(search(api_client, q="milk bread"))[0] == "Milk Bread"
    assert titles(search(api_client, q="  GREEN tea   blend "))[0] == "Green Tea Blend"


def test_title_matches_rank_above_description_and_category_only_matches(api_client, catalog):
    ranked = titles(search(api_client, q="milk"))
    assert ranked[-1] == "Chocolate Bar"
    assert set(ranked[:-1]) == {"Milk", "Almond Milk", "Milk Bread", "Milkshake Mix"}


def test_whole_word_title_matches_rank_above_partial_word_matches(api_client, catalog):
    ranked = titles(search(api_client, q="milk"))
    assert ranked.index("Almond Milk") < ranked.index("Milkshake Mix")
    assert ranked.index("Milk Bread") < ranked.index("Milkshake Mix")


def test_partial_words_match_title_prefixes(api_client, catalog):
    assert titles(search(api_client, q="choc"))[0] == "Chocolate Bar"
    assert "Sourdough Bread" in titles(search(api_client, q="sourd"))


def test_search_is_case_insensitive(api_client, catalog):
    assert titles(search(api_client, q="MILK")) == titles(search(api_client, q="milk"))
    assert titles(search(api_client, q="Greek YOGURT"))[0] == "Greek Yogurt"


def test_typos_are_tolerated(api_client, catalog):
    assert titles(search(api_client, q="mlik"))[0] == "Milk"
    assert titles(search(api_client, q="yoghurtt"))[0] == "Greek Yogurt"
    assert titles(search(api_client, q="almoed milk"))[0] == "Almond Milk"


def test_typos_are_matched_against_unstemmed_words(api_client, catalog):
    # The stemmer indexes "Greek" as "greece", three edits from "grek": typo tolerance on
    # stems would find nothing here.
    assert titles(search(api_client, q="grek"))[:1] == ["Greek Yogurt"]


def test_stemming_matches_plural_and_singular(api_client, catalog):
    ranked = titles(search(api_client, q="tea blends"))
    assert ranked[0] == "Green Tea Blend"
    assert "Masala Chai" in ranked  # "black tea blends" in its description
    assert titles(search(api_client, q="cookie")) == ["Butter Cookies"]


def test_synonyms_from_the_index_match(api_client, catalog):
    assert titles(search(api_client, q="curd")) == ["Greek Yogurt"]
    assert titles(search(api_client, q="crisps"))[0] == "Potato Chips"


# --- sorting ---------------------------------------------------------------------------------


def test_without_q_the_catalog_is_listed_newest_first(api_client, catalog):
    body = search(api_client, page_size=100)
    assert body["count"] == len(PRODUCTS)
    assert titles(body) == [title for title, *_ in reversed(PRODUCTS)]


def test_default_sort_with_q_is_relevance(api_client, catalog):
    default, relevance = (
        search(api_client, q="milk"),
        search(api_client, q="milk", sort="relevance"),
    )
    # Every search gets its own query_id (searchevents); the rest is the same.
    assert default.pop("query_id") != relevance.pop("query_id")
    assert default == relevance


def test_relevance_ties_are_broken_by_id(api_client, catalog):
    beverages = catalog.categories["beverages"]
    twins = [
        ProductFactory(title="Twin Pack Tea", description="Same leaves", category=beverages)
        for _ in range(3)
    ]
    # Identical searchable fields score the same. Indexed newest first, each in its own segment,
    # so the index's own order is the reverse of id order: only the tie-break restores it.
    for twin in reversed(twins):
        ProductDocument().update(twin, refresh=True)
    rows = search(api_client, q="twin pack tea")["results"]
    assert [row["id"] for row in rows[:3]] == [twin.id for twin in twins]


def test_sort_by_price_ascending_ties_by_id(api_client, catalog, index_products):
    for n in range(2):
        ProductFactory(title=f"Tied {n}", price=Decimal("30.00"))
    index_products()
    body = search(api_client, sort="price", page_size=100)
    prices = [Decimal(row["price"]) for row in body["results"]]
    assert prices == sorted(prices)
    rows = search(api_client, sort="price", max_price="30.00")["results"]
    assert [row["title"] for row in rows] == ["Potato Chips", "Sourdough Bread", "Tied 0", "Tied 1"]


def test_sort_by_price_descending(api_client, catalog):
    body = search(api_client, sort="-price", page_size=100)
    prices = [Decimal(row["price"]) for row in body["results"]]
    assert prices == sorted(prices, reverse=True)
    assert body["results"][0]["title"] == "Coffee Beans"


def test_sort_newest_applies_to_a_text_search_too(api_client, catalog):
    assert titles(search(api_client, q="milk", sort="newest")) == [
        "Milk Bread",
        "Chocolate Bar",
        "Milkshake Mix",
        "Almond Milk",
        "Milk",
    ]


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["id", "slug", "name", "upper-name", "lower-name"])
def test_category_filter_by_id_slug_or_name_case_insensitively(api_client, catalog, how):
    dairy = catalog.categories["dairy"]
    value = {
        "id": dairy.id,
        "slug": "dairy",
        "name": "Dairy",
        "upper-name": "DAIRY",
        "lower-name": "dairy",
    }[how]
    body = search(api_client, category=value)
    assert set(titles(body)) == {"Milk", "Almond Milk", "Greek Yogurt"}


def test_category_name_with_spaces_matches(api_client, catalog, index_products):
    ProductFactory(title="Frozen Peas", category=catalog.categories["frozen"])
    index_products()
    assert titles(search(api_client, category="frozen foods")) == ["Frozen Peas"]


def test_unknown_category_gives_an_empty_page_not_an_error(api_client, catalog):
    body = search(api_client, category="no-such-category")
    assert body["count"] == 0
    assert body["results"] == []
    assert body["next"] is None
    assert body["facets"]["in_stock"] == 0


def brand_titles(*brands: str) -> set[str]:
    return {title for title, brand in BRANDS.items() if brand in brands}


@pytest.mark.parametrize("value", ["Amul", "amul", "AMUL", "  amul "])
def test_brand_filter_is_the_exact_name_case_insensitively(api_client, catalog, value):
    body = search(api_client, brand=value, page_size=100)
    assert set(titles(body)) == brand_titles("Amul")


def test_brand_filter_repeated_keeps_any_of_the_brands(api_client, catalog):
    body = search(api_client, brand=["Amul", "BRITANNIA"], page_size=100)
    assert set(titles(body)) == brand_titles("Amul", "Britannia")
    assert body["count"] == 5


def test_brand_filter_names_whole_brands_only(api_client, catalog):
    assert titles(search(api_client, brand="Tata Tea")) == ["Masala Chai"]
    assert search(api_client, brand="Tata")["count"] == 0  # a word of a brand is not the brand
    assert titles(search(api_client, brand="lay's")) == ["Potato Chips"]


def test_unknown_brand_gives_an_empty_page_not_an_error(api_client, catalog):
    body = search(api_client, brand="No Such Brand")
    assert (body["count"], body["results"], body["next"]) == (0, [], None)
    assert body["facets"]["brands"] == []


def test_brand_filter_combines_with_the_text_and_other_filters(api_client, catalog):
    assert titles(search(api_client, q="milk", brand="britannia")) == ["Milk Bread"]
    assert titles(search(api_client, q="milk", brand="amul", category="dairy")) == ["Milk"]
    assert search(api_client, brand="amul", min_price="100")["count"] == 0


def test_brand_filter_is_kept_in_the_page_links(api_client, catalog):
    body = search(api_client, brand=["amul", "britannia"], page_size=2)
    assert parse_qs(urlsplit(body["next"]).query)["brand"] == ["amul", "britannia"]


def test_price_bounds_are_inclusive(api_client, catalog):
    body = search(api_client, min_price="50", max_price="120.00", page_size=100)
    assert set(titles(body)) == {
        "Milk",
        "Milkshake Mix",
        "Greek Yogurt",
        "Butter Cookies",
        "Almond Milk",
    }
    assert set(titles(search(api_client, min_price="500"))) == {"Coffee Beans"}
    assert set(titles(search(api_client, max_price="20"))) == {"Potato Chips"}


IN_STOCK_ANYWHERE = {"Milk", "Almond Milk", "Green Tea Blend", "Potato Chips", "Masala Chai"}


@pytest.mark.parametrize("value", ["true", "1", "True"])
def test_in_stock_true_without_store_keeps_products_stocked_anywhere(api_client, catalog, value):
    body = search(api_client, in_stock=value, page_size=100)
    assert set(titles(body)) == IN_STOCK_ANYWHERE  # a 0 row (Sourdough Bread) is not stock
    assert all(row["in_stock"] for row in body["results"])


@pytest.mark.parametrize("value", ["false", "0"])
def test_in_stock_false_without_store_keeps_products_stocked_nowhere(api_client, catalog, value):
    body = search(api_client, in_stock=value, page_size=100)
    assert set(titles(body)) == ALL_TITLES - IN_STOCK_ANYWHERE
    assert not any(row["in_stock"] for row in body["results"])


def test_in_stock_true_at_a_store(api_client, catalog):
    body = search(api_client, store_id=catalog.stores["north"].id, in_stock="true")
    assert set(titles(body)) == {"Milk", "Almond Milk", "Green Tea Blend"}
    assert all(row["in_stock"] and row["inventory_quantity"] > 0 for row in body["results"])


def test_in_stock_false_at_a_store_includes_sold_out_and_elsewhere_stocked(api_client, catalog):
    body = search(api_client, store_id=catalog.stores["north"].id, in_stock="false", page_size=50)
    found = set(titles(body))
    assert found == ALL_TITLES - {"Milk", "Almond Milk", "Green Tea Blend"}
    assert {"Sourdough Bread", "Potato Chips"} <= found
    assert all(row["inventory_quantity"] == 0 for row in body["results"])


def test_filters_combine(api_client, catalog):
    body = search(
        api_client,
        q="milk",
        category="dairy",
        max_price="100",
        store_id=catalog.stores["south"].id,
        in_stock="true",
    )
    assert titles(body) == ["Milk"]
    assert body["results"][0]["inventory_quantity"] == 2
    narrower = search(api_client, q="milk", category="dairy", min_price="60")
    assert titles(narrower) == ["Almond Milk"]


# --- store quantities ------------------------------------------------------------------------


def test_store_id_adds_exact_quantities_without_removing_products(api_client, catalog):
    body = search(api_client, store_id=catalog.stores["north"].id, page_size=100)
    assert body["count"] == len(PRODUCTS)
    quantities = {row["title"]: row["inventory_quantity"] for row in body["results"]}
    expected = dict.fromkeys(ALL_TITLES, 0) | {
        "Milk": 7,
        "Almond Milk": 3,
        "Green Tea Blend": 5,
    }
    assert quantities == expected


def test_inventory_quantity_appears_only_with_store_id(api_client, catalog):
    assert all("inventory_quantity" not in row for row in search(api_client)["results"])


def test_store_quantities_are_exact_after_an_order_without_reindexing(api_client, catalog):
    north = catalog.stores["north"]
    milk = catalog.products["Milk"]
    assert search(api_client, q="milk", store_id=north.id)["results"][0]["inventory_quantity"] == 7
    # What a confirmed order for 3 does to stock; the index is not touched (no flip to zero).
    Inventory.objects.filter(store=north, product=milk).update(quantity=4)
    row = search(api_client, q="milk", store_id=north.id)["results"][0]
    assert (row["title"], row["inventory_quantity"], row["in_stock"]) == ("Milk", 4, True)
    Inventory.objects.filter(store=north, product=milk).update(quantity=0)
    row = search(api_client, q="milk", store_id=north.id)["results"][0]
    assert (row["inventory_quantity"], row["in_stock"]) == (0, False)


def test_store_quantities_for_a_page_are_read_in_one_query(api_client, catalog):
    store_id = catalog.stores["north"].id

    def queries_for(page_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            search(api_client, store_id=store_id, page_size=page_size)
        return sum("inventory_inventory" in query["sql"] for query in captured.captured_queries)

    assert queries_for(2) == queries_for(12) == 1


# --- facets and highlight --------------------------------------------------------------------


def test_facets_count_the_whole_result_not_just_the_page(api_client, catalog):
    body = search(api_client, page_size=1)
    assert len(body["results"]) == 1
    facets = body["facets"]
    categories = {row["name"]: row["count"] for row in facets["categories"]}
    assert categories == {"Beverages": 4, "Dairy": 3, "Bakery": 3, "Snacks": 2}
    assert [row["id"] for row in facets["categories"]][0] == catalog.categories["beverages"].id
    assert sum(row["count"] for row in facets["price_ranges"]) == len(PRODUCTS)
    assert facets["in_stock"] == len(IN_STOCK_ANYWHERE)


def test_brands_facet_counts_the_whole_result_by_brand(api_client, catalog):
    body = search(api_client, page_size=1)
    # Most products first, ties by name; products without a brand are in no bucket.
    assert body["facets"]["brands"] == [
        {"name": "Amul", "count": 3},
        {"name": "Britannia", "count": 2},
        {"name": "Lay's", "count": 1},
        {"name": "Tata Tea", "count": 1},
    ]
    milk = search(api_client, q="milk")["facets"]["brands"]
    assert milk == [{"name": "Amul", "count": 2}, {"name": "Britannia", "count": 1}]


def test_brands_facet_counts_spellings_together_under_the_one_most_stored(
    api_client, catalog, index_products
):
    ProductFactory(title="Butter", brand="AMUL")
    index_products()
    brands = search(api_client, brand="amul")["facets"]["brands"]
    assert brands == [{"name": "Amul", "count": 4}]


def test_brands_facet_lists_the_top_20(api_client, catalog, index_products):
    for n in range(25):
        ProductFactory.create_batch(2 if n < 5 else 1, title=f"Widget {n}", brand=f"Maker {n:02d}")
    index_products()
    brands = search(api_client, q="widget")["facets"]["brands"]
    assert len(brands) == 20
    assert [row["name"] for row in brands[:5]] == [f"Maker {n:02d}" for n in range(5)]
    assert {row["count"] for row in brands[:5]} == {2}
    assert {row["count"] for row in brands[5:]} == {1}


def test_price_ranges_partition_the_price_line(api_client, catalog):
    ranges = search(api_client)["facets"]["price_ranges"]
    assert ranges[0]["from"] is None
    assert ranges[-1]["to"] is None
    assert all(low["to"] == high["from"] for low, high in zip(ranges, ranges[1:], strict=False))
    counts = {(row["from"], row["to"]): row["count"] for row in ranges}
    assert counts == {
        (None, "50.00"): 4,  # 20, 30, 40, 45
        ("50.00", "100.00"): 3,  # 50 is in here, not below: `from` is inclusive
        ("100.00", "200.00"): 3,  # 100, 120, 199.99
        ("200.00", "500.00"): 1,
        ("500.00", None): 1,
    }


def test_facets_follow_the_filters(api_client, catalog):
    body = search(api_client, category="dairy", store_id=catalog.stores["north"].id)
    assert body["facets"]["categories"] == [
        {"id": catalog.categories["dairy"].id, "name": "Dairy", "count": 3}
    ]
    assert body["facets"]["in_stock"] == 2  # Milk and Almond Milk at north; not Greek Yogurt
    assert body["facets"]["brands"] == [{"name": "Amul", "count": 2}]


def test_every_search_answers_did_you_mean_and_relaxed(api_client, catalog):
    for params in ({"q": "milk"}, {}, {"q": "zzzzqqqq"}, {"brand": "amul"}):
        body = search(api_client, **params)
        assert (body["did_you_mean"], body["relaxed"]) == (None, False)
        assert "query_used" not in body


def test_title_matches_are_highlighted(api_client, catalog):
    rows = {row["title"]: row for row in search(api_client, q="milk")["results"]}
    assert rows["Almond Milk"]["highlight"] == {"title": "Almond <em>Milk</em>"}
    assert rows["Chocolate Bar"]["highlight"] == {}  # matched in its description only
    assert all(row["highlight"] == {} for row in search(api_client)["results"])


def test_partial_and_stemmed_words_are_highlighted_whole(api_client, catalog):
    rows = {row["title"]: row for row in search(api_client, q="choc")["results"]}
    assert rows["Chocolate Bar"]["highlight"] == {"title": "<em>Chocolate</em> Bar"}
    rows = {row["title"]: row for row in search(api_client, q="cookie")["results"]}
    assert rows["Butter Cookies"]["highlight"] == {"title": "Butter <em>Cookies</em>"}


def test_highlight_escapes_the_title(api_client, catalog, index_products):
    ProductFactory(title="Salt & Pepper <Crisps>")
    index_products()
    row = search(api_client, q="pepper")["results"][0]
    assert row["title"] == "Salt & Pepper <Crisps>"
    assert row["highlight"]["title"] == "Salt &amp; <em>Pepper</em> &lt;Crisps&gt;"


def test_rows_have_the_contract_fields(api_client, catalog):
    row = search(api_client, q="milk", store_id=catalog.stores["north"].id)["results"][0]
    milk = catalog.products["Milk"]
    assert row == {
        "id": milk.id,
        "title": "Milk",
        "description": "Fresh cow milk, pasteurised",
        "price": "50.00",
        "category_id": catalog.categories["dairy"].id,
        "category_name": "Dairy",
        "created_at": "2026-01-01T00:00:00Z",
        "in_stock": True,
        "sku": None,
        "brand": "Amul",
        "image_url": None,
        "inventory_quantity": 7,
        "highlight": {"title": "<em>Milk</em>"},
    }


# --- pagination ------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["relevance", "price", "-price", "newest"])
def test_following_next_visits_every_product_exactly_once(api_client, catalog, sort):
    seen: list[int] = []
    url: str | None = f"{URL}?sort={sort}&page_size=5"
    pages = 0
    while url is not None and pages < 10:
        response = api_client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == len(PRODUCTS)
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(product.id for product in catalog.products.values())


def test_page_links_keep_the_other_parameters(api_client, catalog):
    body = search(api_client, q="milk", page_size=2, page=2)
    previous, following = urlsplit(body["previous"]), urlsplit(body["next"])
    assert previous.path == following.path == URL
    assert parse_qs(previous.query) == {"q": ["milk"], "page_size": ["2"]}
    assert parse_qs(following.query) == {"q": ["milk"], "page": ["3"], "page_size": ["2"]}
    assert search(api_client, q="milk", page_size=2, page=3)["next"] is None


def test_a_page_past_the_end_is_404(api_client, catalog):
    assert len(search(api_client, page=3, page_size=5)["results"]) == 2
    assert_envelope(api_client.get(URL, {"page": 4, "page_size": 5}), 404, "not_found")


def test_an_empty_first_page_is_200(api_client, catalog):
    body = search(api_client, q="zzzzqqqq")
    assert (body["count"], body["results"], body["next"], body["previous"]) == (0, [], None, None)


def test_page_size_is_capped_at_100(api_client, catalog, index_products):
    ProductFactory.create_batch(100)
    index_products()
    body = search(api_client, page_size=1000)
    assert len(body["results"]) == 100
    assert body["next"] is not None


def test_results_beyond_the_10000th_are_not_pageable(api_client, catalog):
    error = assert_envelope(
        api_client.get(URL, {"page": 101, "page_size": 100}), 400, "validation_error"
    )
    assert "page" in error["details"]
    # The last pageable page is answered normally (here: past the end of 12 results).
    assert_envelope(api_client.get(URL, {"page": 100, "page_size": 100}), 404, "not_found")


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "NaN"}, "min_price"),
        ({"max_price": "1e400"}, "max_price"),
        ({"max_price": "-0.01"}, "max_price"),
        ({"min_price": "20", "max_price": "10"}, "min_price"),
        ({"sort": "title"}, "sort"),
        ({"sort": "PRICE"}, "sort"),
        ({"in_stock": "yes"}, "in_stock"),
        ({"in_stock": "2"}, "in_stock"),
        ({"store_id": "abc"}, "store_id"),
        ({"store_id": "0"}, "store_id"),
        ({"store_id": "1.5"}, "store_id"),
        ({"store_id": "99999999999999999999999"}, "store_id"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1.5"}, "page_size"),
        ({"q": "x" * 201}, "q"),
        ({"brand": "b" * 101}, "brand"),
        ({"brand": "   "}, "brand"),
        ({"brand": [f"Brand {n}" for n in range(21)]}, "brand"),
    ],
)
def test_bad_parameters_are_400(api_client, params, field):
    # Parameters are checked before Elasticsearch is asked, so no index is needed here.
    error = assert_envelope(api_client.get(URL, params), 400, "validation_error")
    assert field in error["details"]


def test_unknown_store_is_400(api_client, catalog):
    missing = max(store.id for store in catalog.stores.values()) + 1000
    error = assert_envelope(api_client.get(URL, {"store_id": missing}), 400, "validation_error")
    assert "store_id" in error["details"]


def test_empty_parameters_mean_absent(api_client, catalog):
    body = search(api_client, q="", min_price="", sort="", in_stock="", category="", brand="")
    assert body["count"] == len(PRODUCTS)


SYNTAX = [
    '"',
    "*",
    "(",
    "\\",
    "~",
    "/",
    ":",
    "milk AND (",
    "title:milk",
    '"milk',
    "mi*",
    "milk~2",
    "[1 TO 5]",
    "{",
    "!",
    "^",
    "&&",
    "||",
    "/ab+c/",
    "<script>",
    "+-=><",
    "a" * 200,
]


def test_query_syntax_characters_are_plain_text(api_client, catalog):
    answers = {q: api_client.get(URL, {"q": q}).status_code for q in SYNTAX}
    assert answers == dict.fromkeys(SYNTAX, 200)


def test_query_syntax_does_not_change_what_matches(api_client, catalog):
    assert titles(search(api_client, q="(milk)"))[0] == "Milk"
    assert titles(search(api_client, q='milk" OR "'))[0] == "Milk"
    assert titles(search(api_client, q="milk~"))[0] == "Milk"
    assert search(api_client, q="*")["count"] == 0  # not a wildcard for "everything"


# --- Elasticsearch down ----------------------------------------------------------------------


@pytest.fixture
def unreachable_elasticsearch(catalog) -> Iterator[None]:
    """The catalog is indexed first; then the connection points at a closed port."""
    original = es_connections.get_connection()
    es_connections.create_connection(hosts="http://127.0.0.1:1", request_timeout=1)
    yield
    es_connections.add_connection("default", original)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a hung Elasticsearch."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


@pytest.mark.usefixtures("unreachable_elasticsearch")
def test_unreachable_elasticsearch_is_503_while_the_rest_answers(api_client):
    assert_envelope(api_client.get(URL, {"q": "milk"}), 503, "search_unavailable")
    assert_envelope(api_client.get("/api/search/suggest/", {"q": "mil"}), 503, "search_unavailable")
    assert api_client.get("/healthz").status_code == 200
    # Input is still checked first: a bad parameter is the client's problem, not a 503.
    assert_envelope(api_client.get(URL, {"sort": "bogus"}), 400, "validation_error")


def test_elasticsearch_that_does_not_answer_is_a_quick_503(
    api_client, catalog, silent_port, settings
):
    settings.ELASTICSEARCH_SEARCH_TIMEOUT = 0.5
    original = es_connections.get_connection()
    es_connections.create_connection(hosts=f"http://127.0.0.1:{silent_port}")
    try:
        assert_envelope(api_client.get(URL, {"q": "milk"}), 503, "search_unavailable")
    finally:
        es_connections.add_connection("default", original)


def test_missing_index_is_503(api_client, es, product_index):
    es.indices.delete(index=f"{ALIAS}*")
    assert_envelope(api_client.get(URL, {"q": "milk"}), 503, "search_unavailable")


# --- schema ----------------------------------------------------------------------------------


def test_schema_documents_parameters_and_responses(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = response.json()["paths"]
    search_op = paths["/api/search/products/"]["get"]
    names = {param["name"] for param in search_op["parameters"] if param["in"] == "query"}
    assert names == {
        "q",
        "category",
        "min_price",
        "max_price",
        "store_id",
        "in_stock",
        "brand",
        "sort",
        "page",
        "page_size",
        "explain",
    }
    brand = next(param for param in search_op["parameters"] if param["name"] == "brand")
    assert brand["schema"]["type"] == "array"
    assert brand.get("explode", True)  # ?brand=A&brand=B
    assert {"200", "400", "403", "404", "429", "503"} <= set(search_op["responses"])
    page = search_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    components = response.json()["components"]["schemas"]
    page_schema = components[page.rsplit("/", 1)[1]]
    assert {"facets", "did_you_mean", "relaxed"} <= set(page_schema["required"])
    facets = components[page_schema["properties"]["facets"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert "brands" in facets["required"]
    suggest_op = paths["/api/search/suggest/"]["get"]
    assert {param["name"] for param in suggest_op["parameters"] if param["in"] == "query"} == {
        "q",
        "store_id",
        "products",
    }
    assert {"200", "400", "429", "503"} <= set(suggest_op["responses"])
