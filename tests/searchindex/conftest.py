"""Fixtures for the product index: a fresh, test-prefixed index behind the alias for each test."""

import importlib
from collections.abc import Callable, Iterator

import pytest
from django.apps import apps as django_apps
from elasticsearch.dsl.connections import connections

from searchindex.client import ALIAS
from searchindex.documents import ProductDocument, products_for_indexing
from searchindex.models import Synonym
from searchindex.rebuild import index_create
from tests.searchindex.known_catalog import KnownCatalog, build_known_catalog

SYNONYMS_SEED = importlib.import_module("searchindex.migrations.0003_synonyms_seed")


def _drop_alias_and_indices(es) -> None:
    es.indices.delete(index=f"{ALIAS}*", ignore_unavailable=True, allow_no_indices=True)


@pytest.fixture
def es():
    return connections.get_connection()


def synonyms_seed_again() -> None:
    """The Synonym rows the data migration seeds, back if a transactional test flushed them."""
    if not Synonym.objects.exists():
        SYNONYMS_SEED.seed(django_apps, None)


@pytest.fixture
def seeded_synonyms(db) -> None:
    synonyms_seed_again()


@pytest.fixture
def product_index(es) -> Iterator[str]:
    """An empty index behind the products alias, with the seeded synonyms; yields the alias."""
    synonyms_seed_again()
    _drop_alias_and_indices(es)
    concrete = f"{ALIAS}-test"
    index_create(name=concrete)  # with the Synonym rows of the test database
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


@pytest.fixture
def catalog(index_products) -> KnownCatalog:
    """The small known catalogue (known_catalog.py), in Postgres and indexed."""
    known = build_known_catalog()
    index_products()
    return known


class ElasticsearchOutage:
    """Swaps the default connection for one to a closed port, and back."""

    def __init__(self) -> None:
        self.original = connections.get_connection()

    def start(self) -> None:
        connections.create_connection(
            alias="default", hosts="http://127.0.0.1:1", request_timeout=1, max_retries=0
        )

    def end(self) -> None:
        connections.add_connection("default", self.original)


@pytest.fixture
def es_outage() -> Iterator[ElasticsearchOutage]:
    """Elasticsearch unreachable from `start()` to `end()` (always ended after the test)."""
    outage = ElasticsearchOutage()
    yield outage
    outage.end()


@pytest.fixture
def broker_unreachable():
    """A real (not eager) Celery app whose broker is a closed port; restored afterwards."""
    from config.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app._after_fork()  # drop the cached connection and producer pools built for the old URL
    yield
    app.conf.task_always_eager, app.conf.broker_url = saved
    app._after_fork()
