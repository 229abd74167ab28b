"""Every 4xx/5xx leaves in the contract's envelope, including Django's own 404 and DRF's 405/400."""

import pytest

pytestmark = pytest.mark.django_db


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]


def test_unknown_path_is_a_json_404_envelope(client):
    assert_envelope(client.get("/no/such/path/"), 404, "not_found")


def test_wrong_method_is_a_405_envelope(api_client):
    assert_envelope(api_client.post("/healthz"), 405, "method_not_allowed")


def test_malformed_json_is_a_400_envelope(api_client):
    response = api_client.post("/orders/", data="{not json", content_type="application/json")
    assert_envelope(response, 400, "malformed_request")


def test_healthz_is_ok(api_client):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
