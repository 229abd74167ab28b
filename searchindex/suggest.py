"""Autocomplete: up to ten titles for a typed prefix, cached per catalog version."""

from decimal import Decimal
from typing import Any

from merchandising.cache import rules_version
from searchindex.cache import catalog_settled, suggestions_lookup, suggestions_set
from searchindex.queries import (
    SUGGEST_SIZE,
    product_suggest_body,
    product_suggest_products_body,
    store_suggest_body,
    suggest_edits,
)
from searchindex.results import SuggestedProduct, Suggestions
from searchindex.rules import search_effects
from searchindex.search import search_request

Scored = tuple[float, str]  # a suggestion's score and title

SUGGEST_FILTER_PATH = (
    "took",
    "suggest.*.options._score",
    "suggest.*.options._source.title",
    "suggest.*.options._source.in_stock_store_ids",
    "hits.hits._score",
    "hits.hits._source.title",
)


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
        response = search_request(product_suggest_body(q=q), SUGGEST_FILTER_PATH)
        take(_ranked_titles(_completion_options(response, store_id=None)))
    else:
        response = search_request(store_suggest_body(q=q, store_id=store_id), SUGGEST_FILTER_PATH)
        take(_ranked_titles(_query_hits(response)))
    took = response.get("took", 0)
    edits = suggest_edits(q)
    if len(titles) < SUGGEST_SIZE and edits:
        # Typo tolerance only fills what exact prefixes left empty, always after them. For a
        # store, it keeps the options in stock there among the suggester's first fifty or so.
        fuzzy = product_suggest_body(q=q, edits=edits, for_store=store_id is not None)
        response = search_request(fuzzy, SUGGEST_FILTER_PATH)
        took += response.get("took", 0)
        take(_ranked_titles(_completion_options(response, store_id=store_id)))
    return titles, took


def product_suggest(*, q: str, store_id: int | None = None, products: int = 0) -> Suggestions:
    """Up to 10 distinct titles for the typed prefix `q`, cached per catalog version; with
    `products`, that many best-matching products too (in stock at `store_id` if given).

    Raises `SearchUnavailable` when Elasticsearch cannot answer (nothing is cached then).
    """
    q = q.strip()
    version, cached = suggestions_lookup(q=q, store_id=store_id, products=products)
    # Products are chosen with the rules' hides applied: their entry also names the rules' version.
    rules = rules_version() if products else None
    if cached is not None and (not products or cached.get("rules") == rules):
        if not products:
            return Suggestions(query=q, titles=cached)
        return Suggestions(
            query=q,
            titles=cached["titles"],
            products=[_suggested_from_cache(row) for row in cached["products"]],
        )
    titles, took_ms = _suggest_titles(q, store_id)
    found = None
    if products:
        found, products_took = _suggest_products(q, store_id, products)
        took_ms += products_took
    if catalog_settled(version):
        value: Any = titles
        if found is not None:
            value = {
                "titles": titles,
                "products": [_suggested_to_cache(p) for p in found],
                "rules": rules,
            }
        suggestions_set(q=q, store_id=store_id, version=version, titles=value, products=products)
    return Suggestions(query=q, titles=titles, took_ms=took_ms, products=found)


_SUGGEST_PRODUCTS_FILTER_PATH = ("took", "hits.hits._source")


def _suggest_products(
    q: str, store_id: int | None, size: int
) -> tuple[list[SuggestedProduct], int]:
    hidden = search_effects(q=q, store_id=store_id).hidden
    body = product_suggest_products_body(q=q, store_id=store_id, size=size, hidden=hidden)
    response = search_request(body, _SUGGEST_PRODUCTS_FILTER_PATH)
    found = []
    for hit in response.get("hits", {}).get("hits", []):
        source = hit["_source"]
        stocked = source.get("in_stock_store_ids") or []
        found.append(
            SuggestedProduct(
                id=int(source["id"]),
                title=source["title"],
                price=Decimal(source["price_text"]),
                image_url=source.get("image_url") or None,
                in_stock=(store_id in stocked) if store_id is not None else bool(stocked),
            )
        )
    return found, response.get("took", 0)


def _suggested_to_cache(product: SuggestedProduct) -> dict[str, Any]:
    return {
        "id": product.id,
        "title": product.title,
        "price": f"{product.price:.2f}",
        "image_url": product.image_url,
        "in_stock": product.in_stock,
    }


def _suggested_from_cache(row: dict[str, Any]) -> SuggestedProduct:
    return SuggestedProduct(
        id=row["id"],
        title=row["title"],
        price=Decimal(row["price"]),
        image_url=row["image_url"],
        in_stock=row["in_stock"],
    )
