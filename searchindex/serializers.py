"""Search and suggest: query-parameter validation and response shapes."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from config.errors import AisleError
from config.formats import money, timestamp
from config.serializer_fields import ShallowCopiedFieldsSerializer
from searchindex.queries import SORTS
from searchindex.results import ProductHit, SearchFacets
from searchindex.selectors import MAX_ID, store_exists

SUGGEST_MIN_LENGTH = 3
MAX_SUGGEST_PRODUCTS = 8
MAX_BRANDS = 20


class QueryTooShort(AisleError):
    code = "query_too_short"
    message = f"Type at least {SUGGEST_MIN_LENGTH} characters."


class LenientCaseChoiceField(serializers.ChoiceField):
    """A choice field that ignores case: `True` and `TRUE` mean `true`."""

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(str(data).strip().lower())


def _store_must_exist(store_id: int) -> int:
    if not store_exists(store_id=store_id):
        raise serializers.ValidationError("No store with this id.")
    return store_id


class ProductSearchInputSerializer(ShallowCopiedFieldsSerializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="Free text, matched against title (strongest), brand, category name, "
        "attributes and description.",
    )
    category = serializers.CharField(
        required=False,
        max_length=100,
        help_text="A category id, slug or name (case-insensitive); unknown gives an empty page.",
    )
    min_price = serializers.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text="Inclusive lower price bound.",
    )
    max_price = serializers.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text="Inclusive upper price bound.",
    )
    store_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Adds that store's current `inventory_quantity` to every row; 400 if unknown.",
    )
    brand = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=MAX_BRANDS,
        help_text="A brand name, case-insensitive; repeat for several brands (any of them). "
        "An unknown brand gives an empty page.",
    )
    in_stock = LenientCaseChoiceField(
        choices=["true", "false", "1", "0"],
        required=False,
        help_text="`true`: quantity > 0 at `store_id` (any store without it); `false`: none.",
    )
    sort = serializers.ChoiceField(
        choices=list(SORTS),
        required=False,
        help_text="`relevance` (default with `q`; ties by id), `price`, `-price`, `newest` "
        "(default without `q`).",
    )

    explain = LenientCaseChoiceField(
        choices=["true", "false", "1", "0"],
        required=False,
        help_text="`true`: why each hit is where it is (`explain` per hit, `rules_applied`); "
        "for `search:admin` keys and signed-in staff only, anyone else gets 403.",
    )

    def validate_store_id(self, value: int) -> int:
        return _store_must_exist(value)

    def validate_in_stock(self, value: str) -> bool:
        return value in {"true", "1"}

    def validate_explain(self, value: str) -> bool:
        return value in {"true", "1"}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_price": ["Must not exceed max_price."]})
        if "brand" in attrs:
            # Spaces as the importer stores brands; `ProductSearchQuery` takes a tuple.
            attrs["brands"] = tuple(dict.fromkeys(" ".join(b.split()) for b in attrs.pop("brand")))
        return attrs


class SuggestInputSerializer(ShallowCopiedFieldsSerializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=f"The typed prefix, at least {SUGGEST_MIN_LENGTH} characters after trimming.",
    )
    store_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Only titles in stock at this store; 400 if unknown.",
    )

    products = serializers.IntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_SUGGEST_PRODUCTS,
        help_text=f"Also return up to this many best-matching products (0-{MAX_SUGGEST_PRODUCTS},"
        " default 0), for an instant-search dropdown; with `store_id`, in stock there.",
    )

    def validate_q(self, value: str) -> str:
        if len(value.strip()) < SUGGEST_MIN_LENGTH:
            raise QueryTooShort()
        return value.strip()

    def validate_store_id(self, value: int) -> int:
        return _store_must_exist(value)


def search_row(hit: ProductHit) -> dict[str, Any]:
    """One result row, in the shape `ProductSearchRowSerializer` declares."""
    row: dict[str, Any] = {
        "id": hit.id,
        "title": hit.title,
        "description": hit.description,
        "price": money(hit.price),
        "category_id": hit.category_id,
        "category_name": hit.category_name,
        "created_at": timestamp(hit.created_at),
        "in_stock": hit.in_stock,
        "sku": hit.sku,
        "brand": hit.brand,
        "image_url": hit.image_url,
    }
    if hit.inventory_quantity is not None:
        row["inventory_quantity"] = hit.inventory_quantity
    row["highlight"] = dict(hit.highlight)
    if hit.explain is not None:
        row["explain"] = hit.explain
    return row


class SearchHighlightSerializer(serializers.Serializer):
    title = serializers.CharField(
        required=False, help_text="The title with matched words in <em>, HTML-escaped."
    )


class ScorePartSerializer(serializers.Serializer):
    value = serializers.FloatField()
    what = serializers.CharField(help_text="The part of the score, in plain words.")


class TypoCorrectionSerializer(serializers.Serializer):
    typed = serializers.CharField()
    read_as = serializers.CharField()


class HitExplanationSerializer(serializers.Serializer):
    summary = serializers.ListField(
        child=serializers.CharField(), help_text="Why this hit is here, sentence by sentence."
    )
    score = serializers.FloatField(allow_null=True, help_text="null for a pinned product.")
    matched_clauses = serializers.ListField(
        child=serializers.CharField(),
        help_text="Names of the text query's clauses that matched (`exact_title`, `all_words`, "
        "`any_word`, `title_word`, `title_phrase`, `title_typo`, `title_joined`, `title_prefix`).",
    )
    matched_words = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per field, the indexed words (stems) that matched.",
    )
    typo_corrections = TypoCorrectionSerializer(many=True)
    stems_or_synonyms = serializers.ListField(child=serializers.CharField())
    score_parts = ScorePartSerializer(many=True)
    rules = serializers.ListField(
        child=serializers.CharField(),
        help_text='What query rules did to this hit: `pinned at 1 by rule "..."`, '
        '`boosted x2 by rule "..."`.',
    )


class RuleAppliedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    effects = serializers.ListField(child=serializers.CharField(), help_text="In plain words.")


class ProductSearchRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    category_id = serializers.IntegerField()
    category_name = serializers.CharField()
    created_at = serializers.DateTimeField()
    in_stock = serializers.BooleanField(
        help_text="Availability at `store_id`, or at any store without it."
    )
    sku = serializers.CharField(allow_null=True, help_text="The retailer's id; null if none.")
    brand = serializers.CharField(allow_null=True, help_text="null when the product has none.")
    image_url = serializers.CharField(
        allow_null=True, help_text="An http(s) URL of the product's picture; null if none."
    )
    inventory_quantity = serializers.IntegerField(
        required=False, help_text="Only with `store_id`: that store's current quantity (exact)."
    )
    highlight = SearchHighlightSerializer()
    explain = HitExplanationSerializer(required=False, help_text="Only with `explain=true`.")

    def to_representation(self, instance: ProductHit) -> dict[str, Any]:
        return search_row(instance)


class CategoryFacetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class BrandFacetSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The brand as stored.")
    count = serializers.IntegerField()


class PriceRangeFacetSerializer(serializers.Serializer):
    # `from` is a keyword, so the field is added by name rather than declared as an attribute.
    locals()["from"] = serializers.DecimalField(
        source="from_",
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="Inclusive lower bound; null for the first range.",
    )
    to = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="Exclusive upper bound; null for the last range.",
    )
    count = serializers.IntegerField()


class SearchFacetsSerializer(serializers.Serializer):
    categories = CategoryFacetSerializer(many=True)
    price_ranges = PriceRangeFacetSerializer(many=True)
    brands = BrandFacetSerializer(
        many=True, help_text="The top 20 brands of the whole result, most products first."
    )
    in_stock = serializers.IntegerField(
        help_text="How many results are in stock at `store_id`, or anywhere without it."
    )


class ProductSearchPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ProductSearchRowSerializer(many=True)
    facets = SearchFacetsSerializer(help_text="Counts over the whole result, not just the page.")
    did_you_mean = serializers.CharField(
        allow_null=True,
        help_text="A corrected query when the words typed are not in the catalogue's "
        "vocabulary and the correction finds clearly more; else null.",
    )
    relaxed = serializers.BooleanField(
        help_text="True when the query as typed found nothing and a relaxed query (never "
        "relaxed filters) produced the results."
    )
    rules_applied = RuleAppliedSerializer(
        many=True,
        required=False,
        help_text="Only with `explain=true`: the active rules that matched, in precedence order.",
    )
    query_used = serializers.CharField(
        required=False,
        help_text="When `relaxed` is true, or a query rule replaced the query: the query that "
        "produced the results (analytics keep the query as typed).",
    )
    query_id = serializers.CharField(
        help_text="This search's token (page and filters included), valid 24 h for the caller "
        "who searched: send it back with search events and order lines."
    )

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        # Built by hand: DRF's per-field machinery (copying nested fields, one call per value)
        # was the largest Python cost of a search response (bench/search.py). The fields
        # declared above still define the schema, and the tests hold the two together.
        facets: SearchFacets = instance["facets"]
        return {
            "count": instance["count"],
            "next": instance["next"],
            "previous": instance["previous"],
            "results": [search_row(hit) for hit in instance["results"]],
            "facets": {
                "categories": [
                    {"id": row.id, "name": row.name, "count": row.count}
                    for row in facets.categories
                ],
                "price_ranges": [
                    {"from": money(row.from_), "to": money(row.to), "count": row.count}
                    for row in facets.price_ranges
                ],
                "brands": [{"name": row.name, "count": row.count} for row in facets.brands],
                "in_stock": facets.in_stock,
            },
            "did_you_mean": instance["did_you_mean"],
            "relaxed": instance["relaxed"],
            **({"query_used": instance["query_used"]} if instance["query_used"] else {}),
            **(
                {"rules_applied": instance["rules_applied"]}
                if instance.get("rules_applied") is not None
                else {}
            ),
            "query_id": instance["query_id"],
        }


class SuggestedProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    image_url = serializers.CharField(allow_null=True)
    in_stock = serializers.BooleanField(
        help_text="In stock at `store_id` (always, as only those are listed), else anywhere."
    )


class SuggestOutputSerializer(serializers.Serializer):
    query = serializers.CharField(help_text="`q` as trimmed.")
    results = serializers.ListField(child=serializers.CharField(), max_length=10)
    products = SuggestedProductSerializer(
        many=True,
        required=False,
        help_text="Only with `products=N` (N > 0): up to N best-matching products.",
    )
    query_id = serializers.CharField(
        help_text="This suggest request's token, valid 24 h for the caller: send it back with "
        "search events and order lines (a click on one of `products` included)."
    )

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        # Built by hand, as the search page is: the fields above define the schema.
        body: dict[str, Any] = {
            "query": str(instance["query"]),
            "results": [str(title) for title in instance["results"]],
        }
        if instance.get("products") is not None:
            body["products"] = [
                {
                    "id": product.id,
                    "title": product.title,
                    "price": money(product.price),
                    "image_url": product.image_url,
                    "in_stock": product.in_stock,
                }
                for product in instance["products"]
            ]
        body["query_id"] = instance["query_id"]
        return body
