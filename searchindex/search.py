"""Product search on Elasticsearch: the request, did-you-mean, and typed hits and facets."""

import logging
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from elasticsearch import ApiError, TransportError

from merchandising.matching import Effects, Placement
from searchindex.client import ALIAS, search_client
from searchindex.exceptions import SearchUnavailable
from searchindex.explain import hit_explanation, hit_rule_notes, rules_applied
from searchindex.queries import (
    PRICE_BOUNDS,
    ProductSearchQuery,
    all_words_count_body,
    product_search_body,
)
from searchindex.results import (
    BrandCount,
    CategoryCount,
    PriceRangeCount,
    ProductHit,
    ProductSearchResult,
    SearchFacets,
)
from searchindex.rules import pins_apply, ruled_body, ruled_response, search_effects
from searchindex.selectors import category_ids_matching, store_quantities

logger = logging.getLogger(__name__)

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
# With `explain=true`, each hit's account of its score and the clauses it matched too.
EXPLAIN_FILTER_PATH = (
    *SEARCH_FILTER_PATH,
    "hits.hits._score",
    "hits.hits._explanation",
    "hits.hits.matched_queries",
)
# A correction is offered only when the query as typed finds fewer products holding all of its
# words than this, and the correction finds more.
FEW_HITS = 3


def search_request(body: dict[str, Any], filter_path: tuple[str, ...]) -> dict[str, Any]:
    """Send one search to the products alias; raises `SearchUnavailable` when it cannot answer."""
    try:
        # No partial answers: a shard with no live copy (a red index) is a 503, not results and
        # facet counts that silently miss a part of the catalogue.
        return (
            search_client()
            .search(
                index=ALIAS, body=body, filter_path=filter_path, allow_partial_search_results=False
            )
            .body
        )
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
    # Query rules: matched on the shopper's query; a replacement is searched instead, as typed.
    effects = search_effects(q=query.q, store_id=query.store_id)
    replaced = effects.replace_query
    if replaced is not None:
        query = replace(query, q=replaced)
    response, placement = _ruled_search(query, category_ids, effects)
    corrected = _corrected(query.q, response)
    did_you_mean = None
    if corrected is not None:
        did_you_mean = _better_correction(query, category_ids, corrected)
    count = response["hits"]["total"]["value"]
    if count == 0 and corrected is not None:
        # The text query already needs only one word to match (even fuzzily), so finding nothing
        # means no word matched: fewer required words cannot help; the correction may.
        relaxed_query = replace(query, q=corrected)
        relaxed, relaxed_placement = _ruled_search(relaxed_query, category_ids, effects)
        if relaxed["hits"]["total"]["value"]:
            result = _result(relaxed_query, relaxed)
            result = _explained(relaxed_query, result, effects, relaxed_placement)
            return replace(result, did_you_mean=did_you_mean, relaxed=True, query_used=corrected)
    result = _explained(query, _result(query, response), effects, placement)
    return replace(result, did_you_mean=did_you_mean, query_used=replaced)


def _explained(
    query: ProductSearchQuery, result: ProductSearchResult, effects: Effects, placement: Placement
) -> ProductSearchResult:
    """With `explain=true`, the rules' part in each hit and `rules_applied`; else unchanged."""
    if not query.explain:
        return result
    pins_active = pins_apply(effects, sort=query.effective_sort)
    hits = []
    for hit in result.hits:
        notes = hit_rule_notes(
            product_id=hit.id,
            brand=hit.brand,
            category_id=hit.category_id,
            effects=effects,
            placement=placement,
            pins_active=pins_active,
        )
        explain = dict(hit.explain or {})
        explain["rules"] = notes
        explain["summary"] = [*explain.get("summary", []), *notes]
        hits.append(replace(hit, explain=explain))
    applied = rules_applied(effects, placement, pins_active=pins_active)
    return replace(result, hits=hits, rules_applied=applied)


def _ruled_search(
    query: ProductSearchQuery, category_ids: list[int] | None, effects: Effects
) -> tuple[dict[str, Any], Placement]:
    """One search request with the rules' effects; the response as if pins were ranked, and
    where the pins went."""
    body = product_search_body(query, category_ids=category_ids)
    filter_path = EXPLAIN_FILTER_PATH if query.explain else SEARCH_FILTER_PATH
    if effects.empty:
        return search_request(body, filter_path), Placement()
    offset, sort = (query.page - 1) * query.page_size, query.effective_sort
    body = ruled_body(body, effects, sort=sort, offset=offset, size=query.page_size)
    response = search_request(body, filter_path)
    ruled = ruled_response(
        response, effects, sort=sort, offset=offset, size=query.page_size, start=body["from"]
    )
    return ruled.response, ruled.placement


def _result(query: ProductSearchQuery, response: dict[str, Any]) -> ProductSearchResult:
    count = response["hits"]["total"]["value"]
    # filter_path leaves out a list none of whose items kept a field: an empty page has no "hits".
    raw_hits = response["hits"].get("hits", [])
    quantities: dict[int, int] = {}
    if query.store_id is not None:
        ids = [int(hit["_source"]["id"]) for hit in raw_hits]
        quantities = store_quantities(store_id=query.store_id, product_ids=ids)
    hits = [
        _hit(
            raw,
            store_id=query.store_id,
            quantities=quantities,
            q=query.q if query.explain else None,
        )
        for raw in raw_hits
    ]
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
    words than the query as typed (which must find fewer than FEW_HITS); else None. Each count
    leaves out the products that query rules hide for its own text, as its search would.

    Only reached when a word is unknown to the titles: the common path pays nothing for it."""
    searches: list[dict[str, Any]] = []
    for text in (query.q, corrected):
        hidden = search_effects(q=text, store_id=query.store_id).hidden
        searches += [{}, all_words_count_body(query, category_ids, text, hidden)]
    try:
        responses = (
            search_client()
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


def _hit(
    raw: dict[str, Any],
    *,
    store_id: int | None,
    quantities: dict[int, int],
    q: str | None = None,
) -> ProductHit:
    """One hit; with `q` (explain=true), its explanation too."""
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
        explain=hit_explanation(raw, q) if q is not None else None,
        sku=source.get("sku") or None,
        brand=source.get("brand") or None,
        image_url=source.get("image_url") or None,
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
