"""Query rules applied to one search: hide (a filter), boost (scoring), pin (after ranking).

The search stays one Elasticsearch request. Its query matches the text or a pinned id, under
the same filters, minus hidden products, so `count` and every facet count each product of the
result once. A `post_filter` takes the pinned products out of the ranked hits (aggregations run
before it), a `top_hits` aggregation brings back those pinned products that passed the filters,
and the page is then merged: pins at their absolute positions, the ranked hits around them.
Rule text only ever reaches Elasticsearch as ids, terms and factors, never as query syntax.
"""

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from merchandising.cache import rule_index
from merchandising.matching import (
    MAX_FACTOR,
    NO_EFFECTS,
    Effects,
    Placement,
    boost_weights,
    effects_for,
    page_slots,
    place_pins,
)

PINNED_AGG = "pinned"


def search_effects(*, q: str, store_id: int | None) -> Effects:
    """What the active rules matching `q` at `store_id` do; NO_EFFECTS for most searches."""
    if not q:
        return NO_EFFECTS
    return effects_for(rule_index(), q=q, store_id=store_id, now=timezone.now())


def _boosted(text_query: dict[str, Any], effects: Effects) -> dict[str, Any]:
    functions, exact = boost_weights(effects.boosts)
    if not functions:
        return text_query
    scored = [
        {"filter": {"bool": {"filter": [_term(term) for term in terms]}}, "weight": weight}
        for terms, weight in functions
    ]
    return {
        "function_score": {
            "query": text_query,
            "functions": scored,
            "score_mode": "first" if exact else "multiply",
            "boost_mode": "multiply",
            "max_boost": MAX_FACTOR,
        }
    }


def _term(term: tuple[str, object]) -> dict[str, Any]:
    field, value = term
    if isinstance(value, tuple):
        return {"terms": {field: list(value)}}
    return {"term": {field: value}}


def pins_apply(effects: Effects, *, sort: str) -> bool:
    """Pins act under relevance sort only; with another sort a pinned product is just a hit."""
    return bool(effects.pins) and sort == "relevance"


def ruled_body(
    body: dict[str, Any], effects: Effects, *, sort: str, offset: int, size: int
) -> dict[str, Any]:
    """`body` (product_search_body's request) with the rules' hides, boosts and pins."""
    if effects.empty:
        return body
    bool_query = body["query"]["bool"]
    if effects.hidden:
        hidden = {"terms": {"id": sorted(effects.hidden)}}
        bool_query["must_not"] = [*bool_query["must_not"], hidden]
    if "must" in bool_query and effects.boosts:
        bool_query["must"] = [_boosted(bool_query["must"][0], effects)]
    if not pins_apply(effects, sort=sort):
        return body
    pinned = effects.pinned_ids
    pinned_filter = {"terms": {"id": pinned}}
    text = bool_query.get("must", [{"match_all": {}}])[0]
    bool_query["must"] = [
        {
            "bool": {
                "should": [text, {"constant_score": {"filter": pinned_filter}}],
                "minimum_should_match": 1,
            }
        }
    ]
    body["post_filter"] = {"bool": {"must_not": [pinned_filter]}}
    top_hits: dict[str, Any] = {"size": len(pinned), "_source": body["_source"]}
    if "highlight" in body:
        top_hits["highlight"] = body["highlight"]
    if body.get("explain"):
        top_hits["explain"] = True
    body["aggs"][PINNED_AGG] = {"filter": pinned_filter, "aggs": {"hits": {"top_hits": top_hits}}}
    # Up to one ranked hit per pin comes before the page's first row: fetch that much earlier.
    start = max(0, offset - len(pinned))
    body["from"] = start
    body["size"] = offset + size - start
    return body


@dataclass(frozen=True)
class RuledPage:
    """A response rebuilt around the pins: the page's raw hits and the whole result's count."""

    response: dict[str, Any]
    placement: Placement


def ruled_response(
    response: dict[str, Any], effects: Effects, *, sort: str, offset: int, size: int, start: int
) -> RuledPage:
    """The Elasticsearch response as if pins were ranked where they are placed: `hits.hits` is
    the page, `hits.total` counts ranked and pinned products once each."""
    if not pins_apply(effects, sort=sort):
        return RuledPage(response=response, placement=Placement())
    aggregations = dict(response["aggregations"])
    pinned_hits = aggregations.pop(PINNED_AGG, {}).get("hits", {}).get("hits", {}).get("hits", [])
    pinned_raw = {int(hit["_source"]["id"]): hit for hit in pinned_hits}
    ranked = response["hits"].get("hits", [])
    organic_total = response["hits"]["total"]["value"]
    placement = place_pins(effects.pins, valid=set(pinned_raw), organic_total=organic_total)
    total = organic_total + len(placement.positions)
    slots = page_slots(placement, offset=offset, size=size, total=total)
    page: list[dict[str, Any]] = []
    for kind, value in slots.slots:
        if kind == "pin":
            page.append(pinned_raw[value])
        elif 0 <= value - start < len(ranked):
            page.append(ranked[value - start])
    rebuilt = {
        **response,
        "hits": {"total": {"value": total}, "hits": page},
        "aggregations": aggregations,
    }
    return RuledPage(response=rebuilt, placement=placement)
