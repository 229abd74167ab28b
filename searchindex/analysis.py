"""Index settings: analyzers for stemmed, accent-folded text, autocomplete n-grams and synonyms."""

from functools import cache
from pathlib import Path
from typing import Any

SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")


@cache
def synonyms() -> list[str]:
    lines = SYNONYMS_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def analysis_settings() -> dict[str, Any]:
    """Filters and analyzers; the names are analysis-common's, which our ES plugin also provides."""
    folding = ["lowercase", "asciifolding"]
    return {
        "filter": {
            # light_english (KStem) stems plurals without mangling brand names the way Porter does.
            "aisle_stemmer": {"type": "stemmer", "language": "light_english"},
            "aisle_edge_ngram": {"type": "edge_ngram", "min_gram": 1, "max_gram": 20},
            "aisle_synonyms": {"type": "synonym_graph", "synonyms": synonyms()},
        },
        "analyzer": {
            "aisle_text": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": [*folding, "aisle_stemmer"],
            },
            # Synonyms apply at search time only, so editing them never needs a reindex of text.
            "aisle_text_search": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": [*folding, "aisle_synonyms", "aisle_stemmer"],
            },
            "aisle_words": {"type": "custom", "tokenizer": "standard", "filter": folding},
            "aisle_autocomplete": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": [*folding, "aisle_edge_ngram"],
            },
        },
        "normalizer": {"aisle_lowercase": {"type": "custom", "filter": folding}},
    }
