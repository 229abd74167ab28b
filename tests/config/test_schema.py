"""The OpenAPI schema and the offline Swagger UI."""

import pytest

pytestmark = pytest.mark.django_db


def test_schema_lists_the_operational_endpoints(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/healthz", "/readyz"} <= set(paths)


def test_swagger_ui_serves_its_assets_locally(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html
    assert "unpkg.com" not in html
