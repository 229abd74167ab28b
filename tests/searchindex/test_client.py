"""The Elasticsearch clients: every node of ELASTICSEARCH_URL in the pool, a dead one skipped."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from elasticsearch import Elasticsearch
from elasticsearch.dsl.connections import connections

from searchindex.client import search_client, sink_client
from searchindex.nodes import connection_settings, node_urls
from searchindex.queries import ProductSearchQuery
from searchindex.search import product_search
from searchindex.suggest import product_suggest

DEAD_NODE = "http://127.0.0.1:1"


def retries(client: Elasticsearch) -> tuple[object, object]:
    """(retry on timeout, retries) the client sends each request with (no public accessor)."""
    return client._retry_on_timeout, client._max_retries


def test_a_comma_separated_url_is_a_list_of_nodes():
    assert node_urls(" http://a:9200 , http://b:9200,") == ["http://a:9200", "http://b:9200"]
    with pytest.raises(ValueError, match="no node"):
        node_urls(" , ")


def test_two_urls_build_a_client_with_two_nodes():
    client = Elasticsearch(**connection_settings("http://a:9200,http://b:9201", timeout=1))
    urls = sorted(node.base_url for node in client.transport.node_pool.all())
    assert urls == ["http://a:9200", "http://b:9201"]


def test_the_search_client_retries_on_another_node_only_on_a_cluster():
    original = connections.get_connection()
    try:
        connections.create_connection(**connection_settings(DEAD_NODE, timeout=1))
        one = search_client()
        connections.create_connection(
            **connection_settings(f"{DEAD_NODE},{settings.ELASTICSEARCH_URL}", timeout=1)
        )
        two = search_client()
    finally:
        connections.add_connection("default", original)
    assert retries(one) == (False, 1)
    assert retries(two) == (True, 1)


def test_the_analytics_sink_knows_every_node_and_never_retries_a_timeout():
    sink = sink_client(f"{DEAD_NODE},http://127.0.0.1:2", timeout=1)
    assert len(sink.transport.node_pool.all()) == 2
    assert retries(sink) == (False, 1)


@pytest.fixture
def first_node_dead(db, catalog) -> Iterator[None]:
    """The catalogue indexed, then a connection whose first node is a closed port."""
    original = connections.get_connection()
    nodes = connection_settings(f"{DEAD_NODE},{settings.ELASTICSEARCH_URL}", timeout=5)
    # In the order given, so the first request goes to the dead node.
    connections.create_connection(**nodes, randomize_nodes_in_pool=False)
    yield
    connections.add_connection("default", original)


@pytest.mark.usefixtures("first_node_dead")
def test_a_dead_first_node_is_skipped_and_searches_succeed():
    for _ in range(3):
        result = product_search(query=ProductSearchQuery(q="milk"))
        assert result.count > 0
        assert "Milk" in [hit.title for hit in result.hits]
    assert product_suggest(q="mil").titles
