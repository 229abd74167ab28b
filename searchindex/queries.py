"""Request bodies for searches and suggestions: pure functions of their input, no I/O."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from searchindex.documents import LATER_WORD_WEIGHT, TITLE_WEIGHT
from searchindex.query_forms import excluded_words, joined_forms

SORTS = ("relevance", "price", "-price", "newest")
CATEGORY_FACET_SIZE = 20
BRAND_FACET_SIZE = 20
# Free text is scored over these as one field (combined_fields: BM25F). Weights measured on the
# ESCI judgments (bench/relevance.py); combined_fields takes no weight below 1.
TEXT_FIELDS = ["title^6", "brand^2", "attributes^1", "description^1", "category.name^3"]
# Price buckets partition the price line: each `from` is inclusive, each `to` exclusive.
PRICE_BOUNDS = (Decimal("50.00"), Decimal("100.00"), Decimal("200.00"), Decimal("500.00"))
# Score multipliers of the demotions (`_demoted`), measured on the ESCI judgments.
AFTER_CONNECTOR_FACTOR = 0.6
OTHER_HEAD_NOUN_FACTOR = 0.7
EXCLUDED_FACTOR = 0.5
SUGGEST_SIZE = 10
# The de-duplicated suggester can drop a title whose later-word input equals another title
# ("Almond Milk" files "Milk" too); a plain one beside it brings such titles back.
SUGGEST_DOCUMENTS_SIZE = 50

_SOURCE_FIELDS = [
    "id",
    "title",
    "description",
    "price_text",
    "category",
    "created_at",
    "in_stock_store_ids",
    "sku",
    "brand",
    "image_url",
]
_SORT_CLAUSES: dict[str, list[Any]] = {
    "relevance": ["_score", {"id": "asc"}],
    "price": [{"price": "asc"}, {"id": "asc"}],
    "-price": [{"price": "desc"}, {"id": "asc"}],
    "newest": [{"created_at": "desc"}, {"id": "desc"}],
}
# A store's suggestions look at no more than this many title words starting with the last word
# typed (match_phrase_prefix's max_expansions); titles starting with it are never cut off.
STORE_SUGGEST_EXPANSIONS = 200


@dataclass(frozen=True)
class ProductSearchQuery:
    q: str = ""
    category: str | None = None  # an id, slug or name; resolved through Postgres
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    store_id: int | None = None
    in_stock: bool | None = None
    brands: tuple[str, ...] = ()  # any of these brand names, case-insensitive; () for any brand
    sort: str | None = None  # None: relevance with `q`, newest without
    page: int = 1
    page_size: int = 20
    explain: bool = False  # for search:admin callers: why each hit is where it is

    @property
    def effective_sort(self) -> str:
        return self.sort or ("relevance" if self.q else "newest")


def _text_query(q: str, *, named: bool = False) -> dict[str, Any]:
    """Scoring clauses for free text, then the demotions (`_demoted`). The text only ever reaches
    match-type queries and a term query, never a query parser, so quotes, `*`, `:` or `~` are
    just characters.

    Each clause earned its place on the ESCI judgments (docs/relevance.md). `named`: each
    clause carries its name (searchindex/explain.py), for `explain=true` only, so a plain
    search sends exactly the request it always did.
    """

    def name(clause: dict[str, Any], label: str) -> dict[str, Any]:
        if named:
            ((kind, params),) = clause.items()
            if kind in {"match", "match_phrase", "match_bool_prefix", "term"}:
                ((field_name, field_params),) = params.items()
                return {kind: {field_name: {**field_params, "_name": label}}}
            return {kind: {**params, "_name": label}}
        return clause

    # The text as typed, and with each of its first word pairs joined: "dish washer" meets
    # "Dishwasher" as fully as "dish" and "washer" would, in every field and in the bonus.
    forms = [q, *joined_forms(q)]
    every_word = {"fields": TEXT_FIELDS, "minimum_should_match": "100%"}
    # The query's adjacent words joined, against title words ("dish washer": "Dishwasher").
    pairs_in_title = {"title.words": {"query": q, "analyzer": "aisle_joined"}}
    in_title = [{"match_bool_prefix": {"title.words": {"query": q}}}, {"match": pairs_in_title}]
    clauses = [
        # Stemmed and synonym-expanded, every field scored as one (BM25F): a word is rare or
        # common across the product, not per field, and title counts most.
        name(
            _best([{"combined_fields": {"query": f, "fields": TEXT_FIELDS}} for f in forms]),
            "any_word",
        ),
        # A bonus when every word of the query is found somewhere in the product.
        name(
            _best([{"combined_fields": {"query": f, **every_word}} for f in forms], boost=3),
            "all_words",
        ),
        # Any title word, or the last one as a prefix, or a compound of two, lifts a product by
        # a constant: title matches, even partial ones, rank above matches elsewhere only.
        name(
            {"constant_score": {"boost": 10, "filter": {"bool": {"should": in_title}}}},
            "title_word",
        ),
        name({"match_phrase": {"title": {"query": q, "boost": 2}}}, "title_phrase"),
        # Typos, against unstemmed title words: the stemmer can take a word too far from its
        # misspelling ("Greek" is indexed as "greece", three edits from "grek").
        name(
            {
                "match": {
                    "title.words": {
                        "query": q,
                        "fuzziness": "AUTO",
                        "prefix_length": 0,
                        "boost": 1,
                    }
                }
            },
            "title_typo",
        ),
        # Compounds: the query's words and pairs meet the title's pairs ("tshirt" finds
        # "T Shirt"), and its pairs the title's words ("dish washer" finds "Dishwasher").
        name({"match": {"title.joined": {"query": q, "boost": 1}}}, "title_joined"),
        name({"match": pairs_in_title}, "title_joined"),
        # Whole words, then the last one as a prefix ("mil" for "Milk"): weakest, so whole
        # words rank above partial ones.
        name({"match_bool_prefix": {"title.words": {"query": q, "boost": 0.5}}}, "title_prefix"),
        # The whole title, normalised: an exact title comes first.
        name(
            {"term": {"title.raw": {"value": " ".join(q.split()), "boost": 20}}},
            "exact_title",
        ),
    ]
    return _demoted(q, {"bool": {"should": clauses, "minimum_should_match": 1}})


def _best(clauses: list[dict[str, Any]], *, boost: float = 1) -> dict[str, Any]:
    """The best-scoring of `clauses` (one needs no dis_max)."""
    if len(clauses) == 1:
        ((kind, body),) = clauses[0].items()
        return {kind: {**body, "boost": boost}} if boost != 1 else clauses[0]
    return {"dis_max": {"queries": clauses, "boost": boost}}


def _demoted(q: str, scored: dict[str, Any]) -> dict[str, Any]:
    """`scored`, with products that match the text in their title but seem to be something else
    multiplied down: accessories, whose title names the product only after "for", "compatible"
    or "fits", or whose head noun the query does not say; products that hold what the query
    asks to be without. Demoted, never removed: the signals are guesses from a title."""

    def unless(negative: dict[str, Any], factor: float, query: dict[str, Any]) -> dict[str, Any]:
        return {"boosting": {"positive": query, "negative": negative, "negative_boost": factor}}

    in_title = {"match": {"title": {"query": q}}}
    query = unless(
        {"bool": {"must": [in_title], "must_not": [{"match": {"title_head": {"query": q}}}]}},
        AFTER_CONNECTOR_FACTOR,
        scored,
    )
    query = unless(
        {"bool": {"must": [in_title], "must_not": [{"match": {"head_noun": {"query": q}}}]}},
        OTHER_HEAD_NOUN_FACTOR,
        query,
    )
    excluded = excluded_words(q)
    if excluded:
        # A title that says it is without them ("BPA-free bottle, no straw") is what was asked.
        said = [{"match_phrase": {"title": f"{word} {excluded}"}} for word in ("without", "no")]
        holds = {"bool": {"must": [{"match": {"title": {"query": excluded}}}], "must_not": said}}
        query = unless(holds, EXCLUDED_FACTOR, query)
    return query


def _availability(store_id: int | None) -> dict[str, Any]:
    if store_id is None:
        return {"exists": {"field": "in_stock_store_ids"}}
    return {"term": {"in_stock_store_ids": store_id}}


def _did_you_mean_suggester(q: str) -> dict[str, Any]:
    """A term suggester over unstemmed title words. `missing`: only words absent from the
    titles' vocabulary get a correction, so a query spelt as the catalogue spells it gets none
    (and costs no extra request)."""
    return {
        "text": q,
        "term": {
            "field": "title.words",
            "suggest_mode": "missing",
            "size": 1,
            "max_edits": 2,
            "min_word_length": 3,  # short words are mistyped too ("tae")
        },
    }


def search_filters(
    query: ProductSearchQuery, category_ids: list[int] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The filter and must_not clauses: the same for a query as typed, corrected or relaxed."""
    filters: list[dict[str, Any]] = []
    must_not: list[dict[str, Any]] = []
    if category_ids is not None:
        filters.append({"terms": {"category.id": category_ids}})
    price: dict[str, float] = {}
    if query.min_price is not None:
        price["gte"] = float(query.min_price)
    if query.max_price is not None:
        price["lte"] = float(query.max_price)
    if price:
        filters.append({"range": {"price": price}})
    if query.brands:
        # brand.raw's normaliser folds the case of these values too.
        filters.append({"terms": {"brand.raw": [" ".join(b.split()) for b in query.brands]}})
    if query.in_stock is True:
        filters.append(_availability(query.store_id))
    elif query.in_stock is False:
        must_not.append(_availability(query.store_id))
    return filters, must_not


def product_search_body(query: ProductSearchQuery, *, category_ids: list[int] | None) -> dict:
    """The Elasticsearch request for a search; `category_ids=[]` means an unknown category."""
    filters, must_not = search_filters(query, category_ids)
    bool_query: dict[str, Any] = {"filter": filters, "must_not": must_not}
    if query.q:
        bool_query["must"] = [_text_query(query.q, named=query.explain)]
    body: dict[str, Any] = {
        "query": {"bool": bool_query},
        "sort": _SORT_CLAUSES[query.effective_sort],
        "from": (query.page - 1) * query.page_size,
        "size": query.page_size,
        "track_total_hits": True,
        "_source": _SOURCE_FIELDS,
        "aggs": {
            "categories": {
                "terms": {"field": "category.id", "size": CATEGORY_FACET_SIZE},
                "aggs": {"name": {"terms": {"field": "category.name.raw", "size": 1}}},
            },
            "price_ranges": {"range": {"field": "price", "ranges": price_ranges()}},
            # Buckets by the case-folded brand; each named by its most common spelling as stored.
            "brands": {
                "terms": {"field": "brand.raw", "size": BRAND_FACET_SIZE},
                "aggs": {"name": {"terms": {"field": "brand.name", "size": 1}}},
            },
            "in_stock": {"filter": _availability(query.store_id)},
        },
    }
    if query.explain:
        body["explain"] = True
    if query.q:
        body["suggest"] = {"did_you_mean": _did_you_mean_suggester(query.q)}
        body["highlight"] = {
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
            "encoder": "html",  # titles are data: escape them, so only our <em> is markup
            # Highlighting re-runs its query on every hit; fuzzy clauses there cost 10-50x the
            # search itself on 100k products (measured: bench/search.py), so typos are found
            # but not marked. Stems, synonyms, whole words and prefixes are.
            "highlight_query": {
                "bool": {
                    "should": [
                        {"match": {"title": query.q}},
                        {"match": {"title.words": query.q}},
                        {"match_bool_prefix": {"title.words": query.q}},
                    ]
                }
            },
            "fields": {
                "title": {
                    "number_of_fragments": 0,
                    "matched_fields": ["title", "title.words"],
                }
            },
        }
    return body


def price_ranges() -> list[dict[str, float]]:
    edges: list[Decimal | None] = [None, *PRICE_BOUNDS, None]
    ranges = []
    for low, high in zip(edges, edges[1:], strict=False):
        bucket: dict[str, float] = {}
        if low is not None:
            bucket["from"] = float(low)
        if high is not None:
            bucket["to"] = float(high)
        ranges.append(bucket)
    return ranges


def all_words_count_body(
    query: ProductSearchQuery,
    category_ids: list[int] | None,
    text: str,
    hidden: frozenset[int] = frozenset(),
) -> dict[str, Any]:
    """A count of the products, with the query's filters and without those `hidden` (by query
    rules), that hold every word of `text`."""
    filters, must_not = search_filters(query, category_ids)
    if hidden:
        must_not = [*must_not, {"terms": {"id": sorted(hidden)}}]
    match = {"query": text, "fields": TEXT_FIELDS, "minimum_should_match": "100%"}
    # Or every title word with the last as a prefix: "choc" is unfinished, not misspelt.
    prefix = {"title.words": {"query": text, "operator": "and"}}
    words = {"should": [{"combined_fields": match}, {"match_bool_prefix": prefix}]}
    bool_query = {"filter": filters, "must_not": must_not, "must": [{"bool": words}]}
    return {"size": 0, "track_total_hits": True, "query": {"bool": bool_query}}


def suggest_edits(q: str) -> int:
    """Typos allowed in a prefix: none below 4 characters ("chi" would find "Chocolate" and
    "Chai"), then one, then two past 7. The completion suggester's own AUTO does not look at
    the prefix's length, so the count is chosen here."""
    length = len(q)
    return 0 if length < 4 else 1 if length <= 7 else 2


def product_suggest_body(*, q: str, edits: int = 0, for_store: bool = False) -> dict[str, Any]:
    """The completion request: a de-duplicated suggester and a plain one, in one round trip.

    `for_store`: each option also carries the stores that have it, to keep one store's."""
    completion: dict[str, Any] = {"field": "suggest"}
    if edits:
        completion["fuzzy"] = {"fuzziness": edits, "prefix_length": 1}
    return {
        "size": 0,
        "track_total_hits": False,
        "_source": ["title", "in_stock_store_ids"] if for_store else ["title"],
        "suggest": {
            "distinct": {
                "prefix": q,
                "completion": {**completion, "size": SUGGEST_SIZE, "skip_duplicates": True},
            },
            "documents": {
                "prefix": q,
                "completion": {**completion, "size": SUGGEST_DOCUMENTS_SIZE},
            },
        },
    }


def store_suggest_body(*, q: str, store_id: int) -> dict[str, Any]:
    """A store's suggestions as a query over the products in stock there: the completion field
    has no per-store contexts (they were most of the index). Titles starting with `q` score as
    its whole-title inputs do, titles with a later word starting with it as those inputs do, and
    collapsing on the case-folded title leaves one product per title."""
    starts = {"prefix": {"title.raw": " ".join(q.split())}}  # the normaliser folds case
    later = {
        "match_phrase_prefix": {
            "title.words": {"query": q, "max_expansions": STORE_SUGGEST_EXPANSIONS}
        }
    }
    tiers = [
        {"constant_score": {"filter": starts, "boost": TITLE_WEIGHT}},
        {"constant_score": {"filter": later, "boost": LATER_WORD_WEIGHT}},
    ]
    return {
        "size": SUGGEST_SIZE,
        "track_total_hits": False,
        "_source": ["title"],
        "query": {
            "bool": {
                "filter": [{"term": {"in_stock_store_ids": store_id}}],
                "must": [{"dis_max": {"queries": tiers}}],
            }
        },
        "collapse": {"field": "title.raw"},
        "sort": ["_score", {"title.raw": "asc"}],
    }


def product_suggest_products_body(
    *, q: str, store_id: int | None, size: int, hidden: frozenset[int] = frozenset()
) -> dict[str, Any]:
    """The instant-search dropdown's products: the search's own text scoring, `size` of them,
    in stock at `store_id` when given, without the products query rules hide."""
    filters = [_availability(store_id)] if store_id is not None else []
    must_not = [{"terms": {"id": sorted(hidden)}}] if hidden else []
    return {
        "size": size,
        "track_total_hits": False,
        "_source": ["id", "title", "price_text", "image_url", "in_stock_store_ids"],
        "query": {"bool": {"filter": filters, "must_not": must_not, "must": [_text_query(q)]}},
        "sort": _SORT_CLAUSES["relevance"],
    }
