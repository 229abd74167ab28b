"""`explain=true`: why each hit is where it is, in plain words, from Elasticsearch's own account.

The text query's clauses carry names (`_name`, search.py) so `matched_queries` says which
matched; the `_explanation` tree gives the words each field matched and the score's parts;
the rules' effects and the pins' placement say what merchandising did.
"""

import difflib
import re
from typing import Any

from merchandising.matching import Effects, Placement, normalise

# What each named clause of the text query means to a merchandiser.
CLAUSES = {
    "exact_title": "the whole title is the query",
    "title_phrase": "the query's words appear in the title as a phrase",
    "all_words": "every word of the query is found in the product",
    "any_word": "some of the query's words are found (title, brand, attributes, description, "
    "category)",
    "title_word": "a title word matches (the last word typed may be a prefix)",
    "title_typo": "a title word matches within a typo or two",
    "title_joined": "the title matches with words joined or split (e.g. t-shirt)",
    "title_prefix": "title words match whole, the last one as a prefix",
}
_FIELD_TERM = re.compile(r"weight\(([\w.]+):(\S+?) in \d+\)")
_COMBINED = re.compile(r"CombinedFieldQuery\(\(([^)]*)\)\(([^)]*)\)\)")
_SYNONYM = re.compile(r"Synonym\(([^)]*)\)")
_PREFIX = re.compile(r"([\w.]+):(\S+?)\*")


def _descriptions(node: dict[str, Any]) -> list[str]:
    found = [node.get("description", "")]
    for child in node.get("details", ()):
        found += _descriptions(child)
    return found


def _part(node: dict[str, Any]) -> str:
    """One top-level part of a score, said plainly."""
    text = node.get("description", "")
    combined = _COMBINED.search(text)
    if combined:
        return f'"{combined.group(2)}" across title, brand, attributes, description and category'
    term = _FIELD_TERM.search(text)
    if term:
        field, word = term.groups()
        if field == "title.raw":
            return "the whole title equals the query"
        if field == "title.words":
            return f'title word "{word}" (typo-tolerant)'
        return f'"{word}" in {field.split(".")[0]}'
    if text.startswith("ConstantScore("):
        return "title word bonus"
    prefix = _PREFIX.search(text)
    if prefix:
        return f'title words, "{prefix.group(2)}" as a prefix'
    if text.startswith("sum of"):
        return "every word of the query found (bonus)"
    if text.startswith("function score"):
        return "relevance times the rules' boost"
    return text[:120]


def hit_explanation(raw: dict[str, Any], q: str) -> dict[str, Any]:
    """What Elasticsearch says about one hit: clauses, words, typos, synonyms, score parts."""
    tree = raw.get("_explanation") or {}
    matched = [name for name in raw.get("matched_queries", ()) if name in CLAUSES]
    descriptions = _descriptions(tree)
    typed = set(normalise(q))
    fields: dict[str, set[str]] = {}
    title_words: set[str] = set()
    also: set[str] = set()
    for text in descriptions:
        for field, word in _FIELD_TERM.findall(text):
            name = field.split(".")[0]
            fields.setdefault(name, set()).add(word)
            if field == "title.words":
                title_words.add(word)
        for _, words in _COMBINED.findall(text):
            for word in words.split():
                fields.setdefault("title, brand, attributes, description or category", set()).add(
                    word
                )
                if word not in typed:
                    also.add(word)
        for group in _SYNONYM.findall(text):
            also.update(term.split(":", 1)[-1] for term in group.split())
    typos = []
    if "title_typo" in matched:
        unknown = [word for word in typed if word not in title_words]
        for word in sorted(title_words - typed):
            close = difflib.get_close_matches(word, unknown, n=1, cutoff=0.5)
            if close:
                typos.append({"typed": close[0], "read_as": word})
    score = raw.get("_score")
    parts = [
        {"value": round(detail.get("value", 0.0), 4), "what": _part(detail)}
        for detail in (tree.get("details", ()) if tree.get("description") == "sum of:" else [tree])
    ]
    summary = [CLAUSES[name] for name in sorted(matched, key=list(CLAUSES).index)]
    summary += [f'typed "{t["typed"]}", read as "{t["read_as"]}"' for t in typos]
    stems_or_synonyms = sorted(also - typed - {t["read_as"] for t in typos})
    if stems_or_synonyms:
        summary.append("also matched as: " + ", ".join(stems_or_synonyms) + " (stems or synonyms)")
    return {
        "summary": summary,
        "score": score,
        "matched_clauses": matched,
        "matched_words": {field: sorted(words) for field, words in sorted(fields.items())},
        "typo_corrections": typos,
        "stems_or_synonyms": stems_or_synonyms,
        "score_parts": parts,
        "rules": [],
    }


def rule_names(effects: Effects) -> dict[int, str]:
    return {rule.id: rule.name for rule in effects.rules}


def hit_rule_notes(
    *,
    product_id: int,
    brand: str | None,
    category_id: int,
    effects: Effects,
    placement: Placement,
    pins_active: bool,
) -> list[str]:
    """What the rules did to one hit: pinned at N, or boosted by a factor."""
    names = rule_names(effects)
    notes = []
    for position, pinned_id in placement.positions.items():
        if pinned_id == product_id:
            rule_id = placement.rule_of[product_id]
            notes.append(f'pinned at {position} by rule "{names[rule_id]}"')
    if product_id in placement.rule_of:
        return notes  # boosts never move a pinned product
    folded = " ".join((brand or "").split()).casefold()
    for boost in effects.boosts:
        field, value = boost.term
        hit = (field == "brand.raw" and value == folded) or (
            field == "category.id" and isinstance(value, tuple) and category_id in value
        )
        if hit:
            notes.append(
                f'boosted x{boost.factor:g} by rule "{names[boost.rule_id]}" ({boost.label})'
            )
    if effects.pins and not pins_active and product_id in effects.pinned_ids:
        notes.append("a pin applies under relevance sort only; here it is in its sorted place")
    return notes


def rules_applied(effects: Effects, placement: Placement, *, pins_active: bool) -> list[dict]:
    """`[{"id", "name", "effects": [plain words]}]`: every rule that matched the query."""
    applied = []
    for rule in effects.rules:
        said: list[str] = []
        if pins_active:
            for position, product_id in sorted(placement.positions.items()):
                if placement.rule_of.get(product_id) == rule.id:
                    said.append(f"pinned product {product_id} at {position}")
        elif any(pin.rule_id == rule.id for pin in effects.pins):
            said.append("pins ignored: they apply under relevance sort only")
        if rule.hide:
            said.append("hid products " + ", ".join(map(str, rule.hide)))
        said += [f"boosted {b.label} x{b.factor:g}" for b in rule.boosts]
        if effects.replace_rule_id == rule.id:
            said.append(f'searched "{effects.replace_query}" instead of the query typed')
        applied.append({"id": rule.id, "name": rule.name, "effects": said})
    return applied
