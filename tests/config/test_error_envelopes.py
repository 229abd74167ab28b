"""Errors Django answers before or around our views are JSON envelopes with DEBUG off and on."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from ordering.models import Order
from tests.config.test_errors import assert_envelope
from tests.config.urls_failing import SECRET_DETAIL
from tests.factories import InventoryFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def run_mode(request):
    """Each test runs twice: as `make run` and compose serve (DEBUG off) and with DEBUG on."""
    with override_settings(DEBUG=request.param):
        yield request.param


@pytest.fixture
def web() -> Client:
    """A client that gets the response a real server would send, not the view's exception."""
    return Client(raise_request_exception=False)


def assert_json_envelope(response, status: int, code: str) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return assert_envelope(response, status, code)


def test_debug_is_off_unless_asked_for():
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "AISLE_ENV"}}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.DEBUG)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_a_disallowed_host_is_a_400_envelope(run_mode, web):
    response = web.get("/healthz", HTTP_HOST="attacker.example")
    assert_json_envelope(response, 400, "bad_request")
    assert b"ALLOWED_HOSTS" not in response.content


def test_an_unknown_path_is_a_404_envelope(run_mode, web):
    response = web.get("/no/such/path/")
    assert_json_envelope(response, 404, "not_found")
    assert b"urlpatterns" not in response.content


def test_a_post_without_the_trailing_slash_is_a_404_naming_the_path_and_stores_nothing(
    run_mode, web
):
    row = InventoryFactory(quantity=5)
    line = {"product_id": row.product_id, "quantity_requested": 1}
    body = {"store_id": row.store_id, "items": [line]}
    response = web.post("/orders", data=body, content_type="application/json")
    error = assert_json_envelope(response, 404, "not_found")
    assert "/orders/" in error["message"]
    assert Order.objects.count() == 0


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_writes_without_the_trailing_slash_are_404_envelopes(run_mode, web, method):
    response = getattr(web, method)("/orders", data="{}", content_type="application/json")
    assert_json_envelope(response, 404, "not_found")


def test_a_get_without_the_trailing_slash_is_still_redirected(run_mode, web):
    response = web.get("/stores/1/inventory?page=2")
    assert response.status_code == 301
    assert response["Location"] == "/stores/1/inventory/?page=2"


def test_a_method_not_allowed_on_an_api_view_is_a_405_envelope_with_allow(run_mode, web):
    response = web.put("/orders/", data="{}", content_type="application/json")
    assert_json_envelope(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_a_method_not_allowed_on_a_django_view_is_a_405_envelope_with_allow(run_mode, web):
    response = web.delete("/admin/login/")
    assert_json_envelope(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_a_csrf_failure_is_a_403_envelope(run_mode):
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x"})
    assert_json_envelope(response, 403, "permission_denied")


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "code"),
    [
        ("post", "/api/schema/", {}, 405, "method_not_allowed"),
        ("get", "/api/schema/?format=nope", {}, 404, "not_found"),
        ("get", "/api/schema/", {"HTTP_ACCEPT": "text/nope"}, 406, "not_acceptable"),
    ],
)
def test_schema_errors_are_json_envelopes(run_mode, web, method, path, headers, status, code):
    assert_json_envelope(getattr(web, method)(path, **headers), status, code)


def test_the_schema_itself_is_still_served_as_openapi(run_mode, web):
    response = web.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")


@pytest.mark.urls("tests.config.urls_failing")
def test_an_unreachable_database_outside_drf_is_a_503_to_retry_not_a_500(run_mode, web, settings):
    response = web.get("/test-only/database-gone")
    error = assert_json_envelope(response, 503, "service_unavailable")
    assert response["Retry-After"] == str(settings.DATABASE_RETRY_AFTER_SECONDS)
    assert error["details"] == {"retry_after": settings.DATABASE_RETRY_AFTER_SECONDS}
    assert SECRET_DETAIL.encode() not in response.content


@pytest.mark.urls("tests.config.urls_failing")
def test_a_raw_500_outside_drf_is_an_envelope_without_internals(run_mode, web):
    response = web.get("/test-only/broken")
    assert_json_envelope(response, 500, "internal_error")
    assert SECRET_DETAIL.encode() not in response.content
    assert b"Traceback" not in response.content
    assert response["X-Request-ID"]
