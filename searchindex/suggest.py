"""Autocomplete: up to ten titles for a typed prefix, cached per catalog version."""

from typing import Any

from searchindex.cache import catalog_settled, suggestions_lookup, suggestions_set
from searchindex.queries import (
    SUGGEST_SIZE,
    product_suggest_body,
    store_suggest_body,
    suggest_edits,
)
from searchindex.results import Suggestions
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


def product_suggest(*, q: str, store_id: int | None = None) -> Suggestions:
    """Up to 10 distinct titles for the typed prefix `q`, cached per catalog version.

    Raises `SearchUnavailable` when Elasticsearch cannot answer (nothing is cached then).
    """
    q = q.strip()
    version, cached = suggestions_lookup(q=q, store_id=store_id)
    if cached is not None:
        return Suggestions(query=q, titles=cached)
    titles, took_ms = _suggest_titles(q, store_id)
    if catalog_settled(version):
        suggestions_set(q=q, store_id=store_id, version=version, titles=titles)
    return Suggestions(query=q, titles=titles, took_ms=took_ms)
