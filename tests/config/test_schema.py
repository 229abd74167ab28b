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


def load_schema(api_client) -> dict:
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"


def test_schema_describes_the_error_envelope(api_client):
    components = load_schema(api_client)["components"]["schemas"]
    envelope = components["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    assert envelope["properties"]["error"] == {"$ref": "#/components/schemas/ErrorBody"}
    body = components["ErrorBody"]
    assert sorted(body["required"]) == ["code", "details", "message"]
    assert body["properties"]["details"]["type"] == "object"


def test_readyz_documents_its_503_as_the_envelope(api_client):
    responses = load_schema(api_client)["paths"]["/readyz"]["get"]["responses"]
    assert set(responses) == {"200", "503"}
    assert responses["503"]["content"]["application/json"]["schema"] == {"$ref": ENVELOPE_REF}


def test_every_documented_error_response_is_the_envelope(api_client):
    for method, path, operation in operations(load_schema(api_client)):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ENVELOPE_REF}, (method, path, status)


def test_paginated_lists_document_the_pagination_errors(api_client):
    paginated = [
        (method, path, operation)
        for method, path, operation in operations(load_schema(api_client))
        if any(p["name"] == "page_size" for p in operation.get("parameters", []))
    ]
    for method, path, operation in paginated:
        assert {"400", "404"} <= set(operation["responses"]), (method, path)


def test_operations_with_a_json_body_document_400_413_and_415(api_client):
    for method, path, operation in operations(load_schema(api_client)):
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(operation["responses"]), (method, path)


def test_error_responses_helper_points_each_status_at_the_envelope():
    from config.schema import ErrorEnvelopeSerializer, error_responses

    responses = error_responses(404, 429, describe={404: "No such store (`store_not_found`)."})
    assert set(responses) == {404, 429}
    assert responses[404].response is ErrorEnvelopeSerializer
    assert responses[404].description == "No such store (`store_not_found`)."
    assert "Retry-After" in responses[429].description
