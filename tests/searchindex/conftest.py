"""Fixtures for the product index: a fresh, test-prefixed index behind the alias for each test."""

from collections.abc import Callable, Iterator

import pytest
from elasticsearch.dsl.connections import connections

from searchindex.documents import ALIAS, ProductDocument, products_for_indexing


def _drop_alias_and_indices(es) -> None:
    es.indices.delete(index=f"{ALIAS}*", ignore_unavailable=True, allow_no_indices=True)


@pytest.fixture
def es():
    return connections.get_connection()


@pytest.fixture
def product_index(es) -> Iterator[str]:
    """An empty index behind the products alias; yields the alias name."""
    _drop_alias_and_indices(es)
    concrete = f"{ALIAS}-test"
    ProductDocument._index.clone(name=concrete).create()
    es.indices.put_alias(index=concrete, name=ALIAS)
    yield ALIAS
    _drop_alias_and_indices(es)


@pytest.fixture
def index_products(product_index, es) -> Callable[[], None]:
    """Call to (re)index every product in Postgres into the test index, then refresh."""

    def index_all() -> None:
        ProductDocument().update(products_for_indexing().order_by("id"), refresh=True)
        es.indices.refresh(index=ALIAS)

    return index_all
