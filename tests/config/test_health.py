"""/readyz checks each real dependency and names the one that is down."""

import pytest
from django.core.cache import caches
from elasticsearch.dsl.connections import connections as es_connections

from tests.config.test_errors import assert_envelope

pytestmark = pytest.mark.django_db

CLOSED_PORT_URL = "127.0.0.1:1"


def test_readyz_reports_every_dependency_ok(api_client):
    response = api_client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"postgres": "ok", "redis": "ok", "elasticsearch": "ok"}


def test_readyz_names_redis_when_it_is_unreachable(api_client, settings):
    cache_settings = {**settings.CACHES["default"], "LOCATION": f"redis://{CLOSED_PORT_URL}/0"}
    settings.CACHES = {"default": cache_settings}
    try:
        error = assert_envelope(api_client.get("/readyz"), 503, "not_ready")
    finally:
        caches["default"].close()
    assert error["details"] == {"postgres": "ok", "redis": "down", "elasticsearch": "ok"}
    assert "redis" in error["message"]


@pytest.fixture
def unreachable_elasticsearch(settings):
    original = es_connections.get_connection()
    es_connections.create_connection(hosts=f"http://{CLOSED_PORT_URL}", request_timeout=1)
    yield
    es_connections.add_connection("default", original)


@pytest.mark.usefixtures("unreachable_elasticsearch")
def test_readyz_names_elasticsearch_when_it_is_unreachable(api_client):
    error = assert_envelope(api_client.get("/readyz"), 503, "not_ready")
    assert error["details"] == {"postgres": "ok", "redis": "ok", "elasticsearch": "down"}


def test_readyz_names_postgres_when_it_is_unreachable(api_client, settings):
    from django.db import connections

    connection = connections["default"]
    original_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = 1
    try:
        error = assert_envelope(api_client.get("/readyz"), 503, "not_ready")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original_port
    assert error["details"]["postgres"] == "down"
    assert error["details"]["redis"] == "ok"
