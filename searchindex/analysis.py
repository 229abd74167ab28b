"""Index settings: analyzers for stemmed, accent-folded text, autocomplete n-grams and synonyms."""

from typing import Any

from django.apps import apps


def synonyms() -> list[str]:
    """The enabled Synonym rows as Solr lines, read each time an index is created.

    documents.py builds its class-level settings while apps load, before a database can be read:
    there the list is empty, and `rebuild.index_create` puts the rows in.
    """
    if not apps.ready:
        return []
    from searchindex.synonyms import synonym_rules  # it needs the models, loaded by now

    return synonym_rules()


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
