"""The free-text query as it was before compounds and demotions, for bench-search's comparison.

Frozen here as the baseline the relevance mechanisms' cost is measured against
(docs/relevance.md): the same clauses as today's `searchindex.queries._text_query`, without the
joined forms of the query, the query pairs against title words, and the demotions.
`bench/wsgi_query_before.py` serves the API with it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# The project's modules are imported when called: bench/wsgi_query_before.py imports this one
# before Django is set up.


def text_query_before(q: str, *, named: bool = False) -> dict[str, Any]:
    """`searchindex.queries._text_query`'s signature; `named` is ignored (no explain here)."""
    from searchindex.queries import TEXT_FIELDS

    return {
        "bool": {
            "should": [
                {"combined_fields": {"query": q, "fields": TEXT_FIELDS}},
                {
                    "combined_fields": {
                        "query": q,
                        "fields": TEXT_FIELDS,
                        "minimum_should_match": "100%",
                        "boost": 3,
                    }
                },
                {
                    "constant_score": {
                        "boost": 10,
                        "filter": {"match_bool_prefix": {"title.words": {"query": q}}},
                    }
                },
                {"match_phrase": {"title": {"query": q, "boost": 2}}},
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
                {"match": {"title.joined": {"query": q, "boost": 1}}},
                {"match_bool_prefix": {"title.words": {"query": q, "boost": 0.5}}},
                {"term": {"title.raw": {"value": " ".join(q.split()), "boost": 20}}},
            ],
            "minimum_should_match": 1,
        }
    }


def query_before_install() -> None:
    """Every search body built in this process from now on uses the baseline query."""
    from searchindex import queries

    queries._text_query = text_query_before


@contextmanager
def query_before() -> Iterator[None]:
    """Search bodies built inside use the baseline query."""
    from searchindex import queries

    current = queries._text_query
    queries._text_query = text_query_before
    try:
        yield
    finally:
        queries._text_query = current
