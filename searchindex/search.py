"""Product search and autocomplete on Elasticsearch, returning typed results."""

import functools
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch.dsl.connections import connections

from searchindex.cache import (
    catalog_settled,
    catalog_version,
    suggestions_get,
    suggestions_set,
)
from searchindex.documents import ALIAS, LATER_WORD_WEIGHT, TITLE_WEIGHT
from searchindex.exceptions import SearchUnavailable
from searchindex.selectors import category_ids_matching, store_quantities

logger = logging.getLogger(__name__)

SORTS = ("relevance", "price", "-price", "newest")
CATEGORY_FACET_SIZE = 20
BRAND_FACET_SIZE = 20
# Free text is scored over these as one field (combined_fields: BM25F). Weights measured on the
# ESCI judgments (bench/relevance.py); combined_fields takes no weight below 1.
TEXT_FIELDS = ["title^6", "brand^2", "attributes^1", "description^1", "category.name^3"]
# Price buckets partition the price line: each `from` is inclusive, each `to` exclusive.
PRICE_BOUNDS = (Decimal("50.00"), Decimal("100.00"), Decimal("200.00"), Decimal("500.00"))
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
]
_SORT_CLAUSES: dict[str, list[Any]] = {
    "relevance": ["_score", {"id": "asc"}],
    "price": [{"price": "asc"}, {"id": "asc"}],
    "-price": [{"price": "desc"}, {"id": "asc"}],
    "newest": [{"created_at": "desc"}, {"id": "desc"}],
}


Scored = tuple[float, str]  # a suggestion's score and title


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

    @property
    def effective_sort(self) -> str:
        return self.sort or ("relevance" if self.q else "newest")


@dataclass(frozen=True)
class ProductHit:
    id: int
    title: str
    description: str
    price: Decimal
    category_id: int
    category_name: str
    created_at: datetime
    in_stock: bool
    highlight: dict[str, str]
    inventory_quantity: int | None = None  # only with a store: read from Postgres, exact


@dataclass(frozen=True)
class CategoryCount:
    id: int
    name: str
    count: int


@dataclass(frozen=True)
class BrandCount:
    name: str
    count: int


@dataclass(frozen=True)
class PriceRangeCount:
    from_: Decimal | None
    to: Decimal | None
    count: int


@dataclass(frozen=True)
class SearchFacets:
    categories: list[CategoryCount]
    price_ranges: list[PriceRangeCount]
    brands: list[BrandCount]
    in_stock: int


@dataclass(frozen=True)
class ProductSearchResult:
    count: int
    hits: list[ProductHit]
    facets: SearchFacets
    # A corrected query that finds clearly more, else None; when the query as typed found
    # nothing, `relaxed` says another query (`query_used`) produced these results.
    did_you_mean: str | None = None
    relaxed: bool = False
    query_used: str | None = None
    took_ms: int | None = None  # Elasticsearch's own `took`, for search analytics


@dataclass(frozen=True)
class Suggestions:
    query: str
    titles: list[str] = field(default_factory=list)
    took_ms: int | None = None  # summed over the requests sent; None when served from the cache


# Only what the response is built from: the completion options otherwise carry every store id
# of their contexts, and hits their index, id, score and sort values, all parsed for nothing.
SEARCH_FILTER_PATH = (
    "took",
    "hits.total.value",
    "hits.hits._source",
    "hits.hits.highlight",
    "aggregations",
    "suggest.did_you_mean.offset",
    "suggest.did_you_mean.length",
    "suggest.did_you_mean.options.text",
)
# A correction is offered only when the query as typed finds fewer products holding all of its
# words than this, and the correction finds more.
FEW_HITS = 3
SUGGEST_FILTER_PATH = (
    "took",
    "suggest.*.options._score",
    "suggest.*.options._source.title",
    "suggest.*.options._source.in_stock_store_ids",
    "hits.hits._score",
    "hits.hits._source.title",
)
# A store's suggestions look at no more than this many title words starting with the last word
# typed (match_phrase_prefix's max_expansions); titles starting with it are never cut off.
STORE_SUGGEST_EXPANSIONS = 200


def _client() -> Elasticsearch:
    return _search_client(connections.get_connection(), settings.ELASTICSEARCH_SEARCH_TIMEOUT)


@functools.lru_cache(maxsize=4)
def _search_client(base: Elasticsearch, timeout: float) -> Elasticsearch:
    # Cached: options() builds a client with all of its ~40 API namespaces on every call. Keyed on
    # the configured connection, so a reconfigured one (tests, a new cluster) gets its own.
    # A short per-request budget and one retry: a stuck cluster becomes a quick 503, not a hang.
    return base.options(request_timeout=timeout, max_retries=1, retry_on_timeout=False)


def _search(body: dict[str, Any], filter_path: tuple[str, ...]) -> dict[str, Any]:
    try:
        return _client().search(index=ALIAS, body=body, filter_path=filter_path).body
    except TransportError as exc:  # unreachable, refused, timed out
        logger.warning("search unavailable", extra={"error": str(exc)})
        raise SearchUnavailable() from exc
    except ApiError as exc:
        # A missing index, an overloaded or failing cluster: unavailable. Anything else (a 400)
        # is a bug in the query we built and should surface as one.
        if exc.meta.status in {404, 429} or exc.meta.status >= 500:
            logger.warning("search unavailable", extra={"status": exc.meta.status})
            raise SearchUnavailable() from exc
        raise


def _text_query(q: str) -> dict[str, Any]:
    """Scoring clauses for free text. The text only ever reaches match-type queries and a term
    query, never a query parser, so quotes, `*`, `:` or `~` are just characters.

    Each clause earned its place on the ESCI judgments (docs/search.md, "Relevance").
    """
    return {
        "bool": {
            "should": [
                # Stemmed and synonym-expanded, every field scored as one (BM25F): a word is
                # rare or common across the product, not per field, and title counts most.
                {"combined_fields": {"query": q, "fields": TEXT_FIELDS}},
                # A bonus when every word of the query is found somewhere in the product.
                {
                    "combined_fields": {
                        "query": q,
                        "fields": TEXT_FIELDS,
                        "minimum_should_match": "100%",
                        "boost": 3,
                    }
                },
                # Any title word, or the last one as a prefix, lifts a product by a constant:
                # title matches, even partial ones, rank above matches elsewhere only.
                {
                    "constant_score": {
                        "boost": 10,
                        "filter": {"match_bool_prefix": {"title.words": {"query": q}}},
                    }
                },
                {"match_phrase": {"title": {"query": q, "boost": 2}}},
                # Typos, against unstemmed title words: the stemmer can take a word too far from
                # its misspelling ("Greek" is indexed as "greece", three edits from "grek").
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
                # Compounds written apart or together ("tshirt", "t shirt").
                {"match": {"title.joined": {"query": q, "boost": 1}}},
                # Whole words, then the last one as a prefix ("mil" for "Milk"): weakest, so
                # whole words rank above partial ones.
                {"match_bool_prefix": {"title.words": {"query": q, "boost": 0.5}}},
                # The whole title, normalised: an exact title match comes first.
                {"term": {"title.raw": {"value": " ".join(q.split()), "boost": 20}}},
            ],
            "minimum_should_match": 1,
        }
    }


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


def _filters(
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
    filters, must_not = _filters(query, category_ids)
    bool_query: dict[str, Any] = {"filter": filters, "must_not": must_not}
    if query.q:
        bool_query["must"] = [_text_query(query.q)]
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
            "price_ranges": {"range": {"field": "price", "ranges": _price_ranges()}},
            # Buckets by the case-folded brand; each named by its most common spelling as stored.
            "brands": {
                "terms": {"field": "brand.raw", "size": BRAND_FACET_SIZE},
                "aggs": {"name": {"terms": {"field": "brand.name", "size": 1}}},
            },
            "in_stock": {"filter": _availability(query.store_id)},
        },
    }
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


def _price_ranges() -> list[dict[str, float]]:
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


def product_search(*, query: ProductSearchQuery) -> ProductSearchResult:
    """A page of products matching `query`, with facets over the whole result.

    With `q`, the response may carry a corrected query (`did_you_mean`), and a query that finds
    nothing as typed is relaxed to that correction; filters are never relaxed.
    The page must lie within the index's MAX_RESULT_WINDOW (the view's pagination checks it).
    Raises `SearchUnavailable` when Elasticsearch cannot answer.
    """
    category_ids = None
    if query.category is not None:
        category_ids = category_ids_matching(value=query.category)
    response = _search(product_search_body(query, category_ids=category_ids), SEARCH_FILTER_PATH)
    corrected = _corrected(query.q, response)
    did_you_mean = None
    if corrected is not None:
        did_you_mean = _better_correction(query, category_ids, corrected)
    count = response["hits"]["total"]["value"]
    if count == 0 and corrected is not None:
        # The text query already needs only one word to match (even fuzzily), so finding nothing
        # means no word matched: fewer required words cannot help; the correction may.
        relaxed_query = replace(query, q=corrected)
        relaxed = _search(
            product_search_body(relaxed_query, category_ids=category_ids), SEARCH_FILTER_PATH
        )
        if relaxed["hits"]["total"]["value"]:
            result = _result(relaxed_query, relaxed)
            return replace(result, did_you_mean=did_you_mean, relaxed=True, query_used=corrected)
    return replace(_result(query, response), did_you_mean=did_you_mean)


def _result(query: ProductSearchQuery, response: dict[str, Any]) -> ProductSearchResult:
    count = response["hits"]["total"]["value"]
    # filter_path leaves out a list none of whose items kept a field: an empty page has no "hits".
    raw_hits = response["hits"].get("hits", [])
    quantities: dict[int, int] = {}
    if query.store_id is not None:
        ids = [int(hit["_source"]["id"]) for hit in raw_hits]
        quantities = store_quantities(store_id=query.store_id, product_ids=ids)
    hits = [_hit(raw, store_id=query.store_id, quantities=quantities) for raw in raw_hits]
    return ProductSearchResult(
        count=count,
        hits=hits,
        facets=_facets(response["aggregations"]),
        took_ms=response.get("took"),
    )


def _corrected(q: str, response: dict[str, Any]) -> str | None:
    """`q` with each word the titles do not know replaced by the suggester's correction; None
    when every word is known (or none has a correction)."""
    entries = response.get("suggest", {}).get("did_you_mean", [])
    corrected = q
    # From the last word back, so the offsets of the earlier ones still hold.
    for entry in sorted(entries, key=lambda entry: -entry["offset"]):
        options = entry.get("options")
        if options:
            start = entry["offset"]
            corrected = (
                corrected[:start] + options[0]["text"] + corrected[start + entry["length"] :]
            )
    return None if corrected == q else corrected


def _better_correction(
    query: ProductSearchQuery, category_ids: list[int] | None, corrected: str
) -> str | None:
    """`corrected` when, with the same filters, it finds clearly more products holding all of its
    words than the query as typed (which must find fewer than FEW_HITS); else None.

    Only reached when a word is unknown to the titles: the common path pays nothing for it."""
    filters, must_not = _filters(query, category_ids)

    def all_words(text: str) -> dict[str, Any]:
        match = {"query": text, "fields": TEXT_FIELDS, "minimum_should_match": "100%"}
        # Or every title word with the last as a prefix: "choc" is unfinished, not misspelt.
        prefix = {"title.words": {"query": text, "operator": "and"}}
        words = {"should": [{"combined_fields": match}, {"match_bool_prefix": prefix}]}
        bool_query = {"filter": filters, "must_not": must_not, "must": [{"bool": words}]}
        return {"size": 0, "track_total_hits": True, "query": {"bool": bool_query}}

    searches: list[dict[str, Any]] = []
    for text in (query.q, corrected):
        searches += [{}, all_words(text)]
    try:
        responses = (
            _client()
            .msearch(index=ALIAS, searches=searches, filter_path=("responses.hits.total.value",))
            .body["responses"]
        )
    except (TransportError, ApiError) as exc:
        # A hint, not the answer: the search itself already succeeded.
        logger.warning("did-you-mean count failed", extra={"error": str(exc)})
        return None
    # A failed one of the two carries an error instead of hits: counted as nothing found.
    typed, fixed = (r.get("hits", {}).get("total", {}).get("value", 0) for r in responses)
    return corrected if typed < FEW_HITS and fixed > typed else None


def _hit(raw: dict[str, Any], *, store_id: int | None, quantities: dict[int, int]) -> ProductHit:
    source = raw["_source"]
    product_id = int(source["id"])
    quantity = None
    if store_id is None:
        in_stock = bool(source.get("in_stock_store_ids"))
    else:
        # From Postgres, like the quantity beside it: the two always agree.
        quantity = quantities.get(product_id, 0)
        in_stock = quantity > 0
    highlight = {name: "".join(parts) for name, parts in raw.get("highlight", {}).items()}
    return ProductHit(
        id=product_id,
        title=source["title"],
        description=source.get("description") or "",
        price=Decimal(source["price_text"]),
        category_id=int(source["category"]["id"]),
        category_name=source["category"]["name"],
        created_at=datetime.fromisoformat(source["created_at"]),
        in_stock=in_stock,
        highlight=highlight,
        inventory_quantity=quantity,
    )


def _facets(aggs: dict[str, Any]) -> SearchFacets:
    categories = [
        CategoryCount(
            id=int(bucket["key"]),
            name=bucket["name"]["buckets"][0]["key"] if bucket["name"]["buckets"] else "",
            count=bucket["doc_count"],
        )
        for bucket in aggs["categories"]["buckets"]
    ]
    edges: list[Decimal | None] = [None, *PRICE_BOUNDS, None]
    price_ranges = [
        PriceRangeCount(from_=low, to=high, count=bucket["doc_count"])
        for low, high, bucket in zip(
            edges, edges[1:], aggs["price_ranges"]["buckets"], strict=False
        )
    ]
    return SearchFacets(
        categories=categories,
        price_ranges=price_ranges,
        brands=[_brand_count(bucket) for bucket in aggs["brands"]["buckets"]],
        in_stock=aggs["in_stock"]["doc_count"],
    )


def _brand_count(bucket: dict[str, Any]) -> BrandCount:
    # Every document of a bucket holds the brand, so it has a spelling as stored (the most
    # common one comes first); the case-folded key is only a fallback.
    spellings = bucket["name"]["buckets"]
    return BrandCount(
        name=spellings[0]["key"] if spellings else bucket["key"], count=bucket["doc_count"]
    )


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


def _completion_options(response: dict[str, Any], *, store_id: int | None) -> list[Scored]:
    """The suggesters' options as (score, title), only those in stock at `store_id` if given."""
    suggesters = response.get("suggest", {})  # absent when filter_path kept no option at all
    return [
        (option["_score"], option["_source"]["title"])
        for name in ("distinct", "documents")
        for entry in suggesters.get(name, [])
        for option in entry.get("options", [])
        if store_id is None or store_id in option["_source"].get("in_stock_store_ids", ())
    ]


def _query_hits(response: dict[str, Any]) -> list[Scored]:
    return [
        (hit["_score"], hit["_source"]["title"]) for hit in response.get("hits", {}).get("hits", [])
    ]


def _ranked_titles(scored: list[Scored]) -> list[str]:
    """Titles by score (whole-title inputs weigh more than later-word ones), then by title."""
    return [title for _, title in sorted(scored, key=lambda pair: (-pair[0], pair[1].casefold()))]


def _suggest_titles(q: str, store_id: int | None) -> tuple[list[str], int]:
    """The titles, and the milliseconds Elasticsearch spent on them."""
    titles: list[str] = []
    seen: set[str] = set()

    def take(candidates: list[str]) -> None:
        for title in candidates:
            if len(titles) == SUGGEST_SIZE:
                return
            if title.casefold() not in seen:
                seen.add(title.casefold())
                titles.append(title)

    if store_id is None:
        response = _search(product_suggest_body(q=q), SUGGEST_FILTER_PATH)
        take(_ranked_titles(_completion_options(response, store_id=None)))
    else:
        response = _search(store_suggest_body(q=q, store_id=store_id), SUGGEST_FILTER_PATH)
        take(_ranked_titles(_query_hits(response)))
    took = response.get("took", 0)
    edits = suggest_edits(q)
    if len(titles) < SUGGEST_SIZE and edits:
        # Typo tolerance only fills what exact prefixes left empty, always after them. For a
        # store, it keeps the options in stock there among the suggester's first fifty or so.
        fuzzy = product_suggest_body(q=q, edits=edits, for_store=store_id is not None)
        response = _search(fuzzy, SUGGEST_FILTER_PATH)
        took += response.get("took", 0)
        take(_ranked_titles(_completion_options(response, store_id=store_id)))
    return titles, took


def product_suggest(*, q: str, store_id: int | None = None) -> Suggestions:
    """Up to 10 distinct titles for the typed prefix `q`, cached per catalog version.

    Raises `SearchUnavailable` when Elasticsearch cannot answer (nothing is cached then).
    """
    q = q.strip()
    version = catalog_version()
    cached = suggestions_get(q=q, store_id=store_id, version=version)
    if cached is not None:
        return Suggestions(query=q, titles=cached)
    titles, took_ms = _suggest_titles(q, store_id)
    if catalog_settled(version):
        suggestions_set(q=q, store_id=store_id, version=version, titles=titles)
    return Suggestions(query=q, titles=titles, took_ms=took_ms)
