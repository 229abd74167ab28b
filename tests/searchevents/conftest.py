"""Fixtures for search events: keys, the production policy, a searchable catalogue, the stream."""

from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from searchevents import shipping
from searchindex.analytics import stream_emptied
from tests.apikeys.conftest import keys_required, make_key  # noqa: F401 - fixtures
from tests.searchindex.conftest import (  # noqa: F401 - fixtures
    catalog,
    es,
    index_products,
    product_index,
)

EVENTS_URL = "/api/search/events/"
SEARCH_URL = "/api/search/products/"
SUGGEST_URL = "/api/search/suggest/"


@pytest.fixture
def stream(settings, es) -> str:  # noqa: F811
    """The analytics data stream for this test database, emptied; events ship into it."""
    name = f"test-events-{connection.settings_dict['NAME'].replace('_', '-')}-search-events"
    settings.SEARCH_ANALYTICS_DATA_STREAM = name
    settings.SEARCH_EVENTS_URL = ""
    stream_emptied(es.options(request_timeout=60), name)
    shipping._mapped.clear()
    return name


@pytest.fixture
def stream_events(es, stream) -> Callable[..., list[dict]]:  # noqa: F811
    """Call to read back the shipped events (not searches), oldest first."""

    def read(**term: str) -> list[dict]:
        es.indices.refresh(index=stream)
        query = {"bool": {"filter": [{"exists": {"field": "event_type"}}]}}
        hits = es.search(index=stream, size=1000, query=query, sort=[{"@timestamp": "asc"}])
        return [{**hit["_source"], "_id": hit["_id"]} for hit in hits["hits"]["hits"]]

    return read


@pytest.fixture(autouse=True)
def _ship_after_every_commit(settings) -> None:
    """Every commit asks for its shipment, so a test sees it at once (eager Celery)."""
    settings.SEARCH_EVENTS_SHIP_EVERY_SECONDS = 0


class KeyClient(APIClient):
    """An API client that sends one API key with every request."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")


def caller_of(client: KeyClient) -> str:
    """The caller (`config.caller.caller`) a key client's requests are made as."""
    return f"key:{ApiKey.objects.get_from_key(client.key).prefix}"


def key_client(key: str) -> KeyClient:
    return KeyClient(key)


@pytest.fixture
def storefront(make_key, keys_required):  # noqa: F811 - the fixture of that name
    """A storefront backend's key (search and orders), in production's key policy."""
    _, key = make_key("search", "orders:write", name="storefront")
    return key_client(key)


@pytest.fixture
def other_storefront(make_key, keys_required):  # noqa: F811
    _, key = make_key("search", "orders:write", name="another storefront")
    return key_client(key)


def searched(client: APIClient, **params) -> dict:
    response = client.get(SEARCH_URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def post_events(client: APIClient, events: list) -> tuple[int, dict]:
    response = client.post(EVENTS_URL, {"events": events}, format="json")
    return response.status_code, response.json()


def click(body: dict, index: int = 0, **extra) -> dict:
    """A click on the `index`-th hit of a search response, at its absolute position."""
    page_start = extra.pop("page_start", 1)
    return {
        "type": "click",
        "query_id": body["query_id"],
        "product_id": body["results"][index]["id"],
        "position": page_start + index,
        **extra,
    }
