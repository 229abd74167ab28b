"""Catalog tests borrow the product-index fixtures: an import's changes must reach the index."""

from tests.searchindex.conftest import es, product_index  # noqa: F401 - re-exported fixtures
