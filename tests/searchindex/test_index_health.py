"""A red index (a shard with no live copy) is a 503 for search and readiness; yellow is plain.

The red state is real: the index's only shard may only be allocated to a node that does not
exist, so it stays unassigned, as it would after losing the only node that held it.
"""

from collections.abc import Iterator

import pytest

from searchindex.documents import ALIAS
from searchindex.rebuild import index_create
from tests.config.test_errors import assert_envelope
from tests.searchindex.conftest import _drop_alias_and_indices, es  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def alias_index(es, **index_settings: object) -> str:  # noqa: F811 - es is a client here
    _drop_alias_and_indices(es)
    concrete = index_create(name=f"{ALIAS}-health")
    if index_settings:
        es.indices.put_settings(index=concrete, settings=index_settings)
    es.indices.put_alias(index=concrete, name=ALIAS)
    return concrete


@pytest.fixture
def red_index(es) -> Iterator[str]:  # noqa: F811 - a fixture, imported from conftest
    _drop_alias_and_indices(es)
    concrete = f"{ALIAS}-red"
    # Its only shard bound to a node that is not there: never assigned, the index red.
    es.indices.create(
        index=concrete,
        settings={
            "number_of_shards": 1,
            "number_of_replicas": 0,
            "index.routing.allocation.require._name": "no-such-node",
        },
        wait_for_active_shards="0",
    )
    es.indices.put_alias(index=concrete, name=ALIAS)
    assert es.cluster.health(index=ALIAS, timeout="2s")["status"] == "red"
    yield concrete
    _drop_alias_and_indices(es)


@pytest.fixture
def yellow_index(es) -> Iterator[str]:  # noqa: F811 - a fixture, imported from conftest
    nodes = es.cluster.health()["number_of_data_nodes"]
    concrete = alias_index(es, **{"index.number_of_replicas": nodes})  # one copy too many
    health = es.cluster.health(index=ALIAS, wait_for_status="yellow", timeout="10s")
    assert health["status"] == "yellow"
    yield concrete
    _drop_alias_and_indices(es)


def test_search_and_suggest_on_a_red_index_are_503_search_unavailable(api_client, red_index):
    assert_envelope(
        api_client.get("/api/search/products/", {"q": "milk"}), 503, "search_unavailable"
    )
    assert_envelope(api_client.get("/api/search/products/"), 503, "search_unavailable")
    assert_envelope(api_client.get("/api/search/suggest/", {"q": "mil"}), 503, "search_unavailable")


def test_readyz_says_red_plainly_and_is_not_ready(api_client, red_index):
    error = assert_envelope(api_client.get("/readyz"), 503, "not_ready")
    assert error["details"] == {"postgres": "ok", "redis": "ok", "elasticsearch": "red"}
    assert "elasticsearch red" in error["message"]


def test_readyz_says_yellow_plainly_and_stays_ready(api_client, yellow_index):
    response = api_client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"postgres": "ok", "redis": "ok", "elasticsearch": "yellow"}
    # Yellow serves every search.
    assert api_client.get("/api/search/products/", {"q": "milk"}).status_code == 200


def test_readyz_is_ok_on_a_green_index(api_client, es):  # noqa: F811 - a fixture
    alias_index(es)
    try:
        es.cluster.health(index=ALIAS, wait_for_status="green", timeout="10s")
        assert api_client.get("/readyz").json()["elasticsearch"] == "ok"
    finally:
        _drop_alias_and_indices(es)
