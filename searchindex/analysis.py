"""Index settings: analyzers for stemmed, accent-folded text, joined word pairs and synonyms."""

from collections.abc import Sequence
from typing import Any

SYNONYM_FILTER = "aisle_synonyms"


def synonym_filter(rules: Sequence[str]) -> dict[str, Any]:
    """The search-time synonym filter with its rules inline, as Solr lines."""
    return {"type": "synonym_graph", "synonyms": list(rules)}


def _joined_pairs(*, with_words: bool) -> dict[str, Any]:
    return {
        "type": "shingle",
        "min_shingle_size": 2,
        "max_shingle_size": 2,
        "output_unigrams": with_words,
        "token_separator": "",
    }


def analysis_settings(*, synonym_rules: Sequence[str]) -> dict[str, Any]:
    """Filters and analyzers; the names are analysis-common's, which our ES plugin also provides.

    A pure function of its input: the caller reads the synonym rules (searchindex/synonyms.py).
    """
    folding = ["lowercase", "asciifolding"]
    return {
        "filter": {
            # "Lacoste's" and "Lacoste" are one word; before the stemmer, which would not know.
            "aisle_possessive": {"type": "stemmer", "language": "possessive_english"},
            # light_english (KStem) stems plurals without mangling brand names the way Porter does.
            "aisle_stemmer": {"type": "stemmer", "language": "light_english"},
            SYNONYM_FILTER: synonym_filter(synonym_rules),
            # Adjacent words joined ("t shirt" -> "tshirt"): compounds are written apart or
            # together, and a shopper rarely writes them the way the catalogue does.
            "aisle_join_pairs": _joined_pairs(with_words=False),
            "aisle_join_pairs_and_words": _joined_pairs(with_words=True),
        },
        "analyzer": {
            "aisle_text": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": [*folding, "aisle_possessive", "aisle_stemmer"],
            },
            # Synonyms apply at search time only, so editing them never needs a reindex of text.
            "aisle_text_search": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": [*folding, "aisle_possessive", "aisle_synonyms", "aisle_stemmer"],
            },
            # Unstemmed words: whole-word matches, prefixes and typos are judged on these, since
            # a stem can be far from the word's misspellings ("Greek" stems to "greece").
            "aisle_words": {"type": "custom", "tokenizer": "standard", "filter": folding},
            # A title indexes only its joined pairs; a query is matched as its words and its
            # pairs, so "tshirt" finds "T Shirt" (whose words alone it would miss).
            "aisle_joined": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": [*folding, "aisle_join_pairs"],
            },
            "aisle_joined_search": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": [*folding, "aisle_join_pairs_and_words"],
            },
        },
        "normalizer": {"aisle_lowercase": {"type": "custom", "filter": folding}},
    }
