"""`ProductDocument`: one document per product, registered with django-elasticsearch-dsl."""

from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q, QuerySet
from django_elasticsearch_dsl import Document, fields
from django_elasticsearch_dsl.registries import registry

from catalog.models import Category, Product
from inventory.models import Inventory
from searchindex.analysis import analysis_settings
from searchindex.client import ALIAS
from searchindex.title_parts import head_noun, title_head

# The deepest hit a search can page to (from + size): deeper pages would need search_after.
MAX_RESULT_WINDOW = 10_000

INDEXED_COLUMNS = (
    "id",
    "title",
    "description",
    "price",
    "created_at",
    "brand",
    "sku",
    "image_url",
    "attributes",
    "popularity",
    "category__id",
    "category__name",
    "category__slug",
)
TITLE_WEIGHT = 10
LATER_WORD_WEIGHT = 5


def products_for_indexing() -> QuerySet[Product]:
    """Products with their category and the stores that have them in stock, in one query.

    Only the columns the document reads: parsing the unread timestamps of product and category
    cost a rebuild of 100,000 products ~2 s of client CPU. A field added to the document needs
    its column here, or each document loads it with a query of its own."""
    return (
        Product.objects.select_related("category")
        .only(*INDEXED_COLUMNS)
        .annotate(
            stocked_store_ids=ArrayAgg(
                "inventory__store_id",
                filter=Q(inventory__quantity__gt=0),
                default=[],
                order_by="inventory__store_id",
            )
        )
    )


def suggest_inputs(title: str) -> list[dict[str, Any]]:
    """The whole title, then the title from each later word on, so "app" finds "Green Apple" too.

    No per-store contexts: each one repeated every input once per stocking store, ~70% of the
    index (bench/index.py). A store's suggestions are a filtered query instead (search.py)."""
    words = title.split()
    inputs = [{"input": [title], "weight": TITLE_WEIGHT}]
    later = [" ".join(words[i:]) for i in range(1, len(words))]
    if later:
        inputs.append({"input": later, "weight": LATER_WORD_WEIGHT})
    return inputs


@registry.register_document
class ProductDocument(Document):
    # Every field the free-text query scores shares one search analyzer: combined_fields, which
    # scores them as one field (BM25F), requires it.
    title = fields.TextField(
        analyzer="aisle_text",
        search_analyzer="aisle_text_search",
        fields={
            # The exact-title boost; a store's suggestions match its prefix, and collapse and
            # sort on its doc values (one suggestion per title, whatever its case).
            "raw": fields.KeywordField(normalizer="aisle_lowercase"),
            # Unstemmed words: whole words, prefixes (match_bool_prefix) and typos.
            "words": fields.TextField(analyzer="aisle_words"),
            # Joined word pairs; never phrase-queried, so no positions.
            "joined": fields.TextField(
                analyzer="aisle_joined",
                search_analyzer="aisle_joined_search",
                index_options="freqs",
            ),
        },
    )
    # What the product itself is (title_parts.py): the title before "for", "compatible" or
    # "fits", and its head noun. Only matched or not (search.py demotes the rest): no positions.
    title_head = fields.TextField(
        analyzer="aisle_text",
        search_analyzer="aisle_text_search",
        index_options="docs",
        norms=False,
    )
    head_noun = fields.TextField(
        analyzer="aisle_text",
        search_analyzer="aisle_text_search",
        index_options="docs",
        norms=False,
    )
    brand = fields.TextField(
        analyzer="aisle_text",
        search_analyzer="aisle_text_search",
        fields={
            # The filter and the facet's buckets: one brand whatever its case.
            "raw": fields.KeywordField(normalizer="aisle_lowercase"),
            # The brand as stored, for the facet's names only: aggregated, never searched.
            "name": fields.KeywordField(index=False),
        },
    )
    # Attribute values (bullet points, colour, a category path), low weight in scoring.
    attributes = fields.TextField(analyzer="aisle_text", search_analyzer="aisle_text_search")
    description = fields.TextField(analyzer="aisle_text", search_analyzer="aisle_text_search")
    category = fields.ObjectField(
        properties={
            "id": fields.IntegerField(),
            "name": fields.TextField(
                analyzer="aisle_text",
                search_analyzer="aisle_text_search",
                fields={"raw": fields.KeywordField()},
            ),
            "slug": fields.KeywordField(),
        }
    )
    # scaled_float lives in mapper-extras, which the integ-test-zip node lacks; the exact
    # decimal string is kept in `price_text` for display.
    price = fields.DoubleField()
    price_text = fields.KeywordField(index=False, doc_values=False)  # read from _source only
    # Shown on storefront hits, never searched or aggregated: _source only.
    sku = fields.KeywordField(index=False, doc_values=False)
    image_url = fields.KeywordField(index=False, doc_values=False)
    created_at = fields.DateField()
    # Indexed for filters and sorts to come; not in ranking (bench/relevance.py: it did not help).
    popularity = fields.FloatField()
    # Filtered on and tested for existence, never sorted or aggregated: no doc values.
    in_stock_store_ids = fields.IntegerField(multi=True, doc_values=False)
    suggest = fields.CompletionField(analyzer="aisle_words")

    class Index:
        name = ALIAS
        settings = {  # noqa: RUF012 - the library reads this class attribute as-is
            "number_of_shards": settings.ELASTICSEARCH_SHARDS,
            "number_of_replicas": settings.ELASTICSEARCH_REPLICAS,
            "refresh_interval": settings.ELASTICSEARCH_REFRESH_INTERVAL,
            "max_result_window": MAX_RESULT_WINDOW,
            # No rules yet: this is read while apps load, before the database can be; the index
            # a rebuild creates carries the enabled rows (rebuild.index_create).
            "analysis": analysis_settings(synonym_rules=()),
        }

    class Django:
        model = Product
        fields = ["id"]
        related_models = [Category, Inventory]
        queryset_pagination = 2_000

    def get_queryset(self) -> QuerySet[Product]:
        return products_for_indexing().order_by("id")

    def prepare_price(self, instance: Product) -> float:
        return float(instance.price)

    def prepare_price_text(self, instance: Product) -> str:
        return f"{instance.price:.2f}"

    def prepare_title_head(self, instance: Product) -> str:
        return title_head(instance.title)

    def prepare_head_noun(self, instance: Product) -> str:
        return head_noun(instance.title)

    def prepare_brand(self, instance: Product) -> str | None:
        # None rather than "": an empty keyword would be a brand of its own in the facet.
        return instance.brand or None

    def prepare_sku(self, instance: Product) -> str | None:
        return instance.sku or None

    def prepare_image_url(self, instance: Product) -> str | None:
        return instance.image_url or None

    def prepare_attributes(self, instance: Product) -> str:
        return attribute_text(instance.attributes)

    def prepare_category(self, instance: Product) -> dict[str, Any]:
        category = instance.category
        return {"id": category.id, "name": category.name, "slug": category.slug}

    def prepare_in_stock_store_ids(self, instance: Product) -> list[int]:
        return _stocked_store_ids(instance)

    def prepare_suggest(self, instance: Product) -> list[dict[str, Any]]:
        return suggest_inputs(instance.title)


def attribute_text(attributes: dict[str, Any]) -> str:
    """The attribute values, one per line; names are left out (they describe, they do not match:
    a shopper searches "black", not "color"), and so are booleans, which mean nothing without
    theirs."""
    lines: list[str] = []
    for value in attributes.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                continue
            text = str(item).strip()
            if text:
                lines.append(text)
    return "\n".join(lines)


def _stocked_store_ids(instance: Product) -> list[int]:
    annotated = getattr(instance, "stocked_store_ids", None)
    if annotated is not None:
        return list(annotated)
    return list(
        Inventory.objects.filter(product=instance, quantity__gt=0)
        .order_by("store_id")
        .values_list("store_id", flat=True)
    )
