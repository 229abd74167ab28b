"""The product document: every field, analyzers (stemming, accent folding), completion inputs."""

from decimal import Decimal

import pytest

from searchindex.client import ALIAS
from searchindex.documents import ProductDocument, attribute_text, products_for_indexing
from tests.factories import CategoryFactory, InventoryFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db


def titles_matching(es, query: dict) -> list[str]:
    hits = es.search(index=ALIAS, query=query, size=20)["hits"]["hits"]
    return [hit["_source"]["title"] for hit in hits]


def suggestions(es, prefix: str) -> list[str]:
    body = es.search(
        index=ALIAS,
        suggest={"s": {"prefix": prefix, "completion": {"field": "suggest", "size": 10}}},
        source=["title"],
    )
    return [option["_source"]["title"] for option in body["suggest"]["s"][0]["options"]]


def test_indexed_document_has_every_field_with_values_from_postgres(es, index_products):
    category = CategoryFactory(name="Dairy", slug="dairy")
    product = ProductFactory(
        title="Greek Yogurt",
        description="Thick",
        price=Decimal("90.50"),
        category=category,
        brand="Epigamia",
        sku="EP-GY-90",
        image_url="https://cdn.example.com/p/gy.jpg",
        attributes={
            "category_path": "Food > Dairy",
            "bullet_points": "High protein",
            "vegan": False,
        },
        popularity=12.5,
    )
    in_stock, sold_out = StoreFactory(), StoreFactory()
    InventoryFactory(product=product, store=in_stock, quantity=3)
    InventoryFactory(product=product, store=sold_out, quantity=0)
    index_products()

    source = es.get(index=ALIAS, id=product.pk)["_source"]

    assert set(source) == {
        "id",
        "title",
        "title_head",
        "head_noun",
        "description",
        "brand",
        "attributes",
        "category",
        "price",
        "price_text",
        "created_at",
        "popularity",
        "in_stock_store_ids",
        "suggest",
        "sku",
        "image_url",
    }
    assert source["id"] == product.pk
    assert source["sku"] == "EP-GY-90"
    assert source["image_url"] == "https://cdn.example.com/p/gy.jpg"
    assert source["title"] == "Greek Yogurt"
    assert (source["title_head"], source["head_noun"]) == ("Greek Yogurt", "Yogurt")
    assert source["description"] == "Thick"
    assert source["brand"] == "Epigamia"
    assert sorted(source["attributes"].split("\n")) == ["Food > Dairy", "High protein"]
    assert source["popularity"] == 12.5
    assert source["category"] == {"id": category.pk, "name": "Dairy", "slug": "dairy"}
    assert source["price"] == 90.5
    assert source["price_text"] == "90.50"
    assert source["created_at"].startswith(product.created_at.date().isoformat())
    assert source["in_stock_store_ids"] == [in_stock.pk]
    # No per-store contexts: a store's suggestions filter on in_stock_store_ids instead.
    assert source["suggest"] == [
        {"input": ["Greek Yogurt"], "weight": 10},
        {"input": ["Yogurt"], "weight": 5},
    ]


def test_index_mapping_has_exact_word_joined_brand_and_completion_fields(es, product_index):
    mapping = next(iter(es.indices.get_mapping(index=ALIAS).values()))["mappings"]["properties"]

    # Doc values: a store's suggestions collapse and sort on it.
    assert mapping["title"]["fields"]["raw"] == {"type": "keyword", "normalizer": "aisle_lowercase"}
    assert mapping["title"]["fields"]["words"]["analyzer"] == "aisle_words"
    assert mapping["title"]["fields"]["joined"]["search_analyzer"] == "aisle_joined_search"
    assert "prefix" not in mapping["title"]["fields"]
    assert mapping["brand"]["fields"]["raw"]["normalizer"] == "aisle_lowercase"
    assert mapping["brand"]["fields"]["name"] == {"type": "keyword", "index": False}
    assert mapping["popularity"]["type"] == "float"
    # combined_fields scores these as one field, which needs one search analyzer for all.
    searched = [mapping[name] for name in ("title", "brand", "attributes", "description")]
    searched.append(mapping["category"]["properties"]["name"])
    assert {field["search_analyzer"] for field in searched} == {"aisle_text_search"}
    assert mapping["category"]["properties"]["slug"]["type"] == "keyword"
    assert mapping["category"]["properties"]["name"]["fields"]["raw"]["type"] == "keyword"
    # Filtered on, never sorted or aggregated: no doc values to store.
    assert mapping["in_stock_store_ids"] == {"type": "integer", "doc_values": False}
    assert mapping["price_text"] == {"type": "keyword", "index": False, "doc_values": False}
    assert mapping["created_at"]["type"] == "date"
    assert mapping["suggest"]["type"] == "completion"
    assert "contexts" not in mapping["suggest"]  # one per store repeated every input


def test_index_settings_come_from_django_settings(es, product_index, settings):
    index_settings = next(iter(es.indices.get_settings(index=ALIAS).values()))["settings"]["index"]

    assert index_settings["number_of_shards"] == str(settings.ELASTICSEARCH_SHARDS)
    assert index_settings["number_of_replicas"] == str(settings.ELASTICSEARCH_REPLICAS)
    assert index_settings["refresh_interval"] == settings.ELASTICSEARCH_REFRESH_INTERVAL


def test_title_analyzer_stems_plurals_so_blends_finds_blend(es, index_products):
    ProductFactory(title="Masala Chai Blend")
    ProductFactory(title="Coffee Beans")
    index_products()

    assert titles_matching(es, {"match": {"title": "blends"}}) == ["Masala Chai Blend"]
    assert titles_matching(es, {"match": {"title": "bean"}}) == ["Coffee Beans"]


def test_title_analyzer_folds_accents_both_ways(es, index_products):
    ProductFactory(title="Crème Fraîche")
    ProductFactory(title="Jalapeno Chips")
    index_products()

    assert titles_matching(es, {"match": {"title": "creme fraiche"}}) == ["Crème Fraîche"]
    assert titles_matching(es, {"match": {"title": "jalapeño"}}) == ["Jalapeno Chips"]


def test_possessives_are_dropped_before_stemming(es, index_products):
    ProductFactory(title="Lay's Classic Chips")
    index_products()

    assert titles_matching(es, {"match": {"title": "lays"}}) == ["Lay's Classic Chips"]
    assert titles_matching(es, {"match": {"title": "lay"}}) == ["Lay's Classic Chips"]


def test_joined_title_pairs_match_a_compound_written_together(es, index_products):
    ProductFactory(title="Cotton T Shirt")
    ProductFactory(title="Cotton Shirt")
    index_products()

    assert titles_matching(es, {"match": {"title.joined": "tshirt"}}) == ["Cotton T Shirt"]


def test_attribute_text_is_the_values_one_per_line_without_names_or_booleans():
    attributes = {"colour": "Black", "sizes": ["S", "M"], "weight_g": 500, "vegan": True}

    assert attribute_text(attributes) == "Black\nS\nM\n500"
    assert attribute_text({}) == ""


def test_synonyms_apply_at_search_time(es, index_products):
    ProductFactory(title="Mango Yogurt")
    index_products()

    assert titles_matching(es, {"match": {"title": "curd"}}) == ["Mango Yogurt"]


def test_completion_prefers_title_prefix_then_later_words(es, index_products):
    ProductFactory(title="Green Apple")
    ProductFactory(title="Apple Juice")
    ProductFactory(title="Pineapple Slices")
    index_products()

    assert suggestions(es, "app") == ["Apple Juice", "Green Apple"]


def test_document_prepare_without_the_annotation_reads_stock_from_postgres():
    product = ProductFactory()
    store = StoreFactory()
    InventoryFactory(product=product, store=store, quantity=1)

    prepared = ProductDocument().prepare(product)

    assert prepared["in_stock_store_ids"] == [store.pk]


def test_preparing_documents_from_the_indexing_queryset_needs_no_query_per_product(
    django_assert_num_queries,
):
    for _ in range(3):
        product = ProductFactory(brand="Amul", attributes={"colour": "white"})
        InventoryFactory(product=product, quantity=2)
    document = ProductDocument()

    # One query for all of them: a document field whose column the queryset leaves out would
    # load it product by product (searchindex.documents.INDEXED_COLUMNS).
    with django_assert_num_queries(1):
        prepared = [document.prepare(product) for product in products_for_indexing()]

    assert len(prepared) == 3
    assert all(doc["brand"] == "Amul" and doc["in_stock_store_ids"] for doc in prepared)
