"""The OpenAPI schema tells clients about keys: security schemes, 401/403, per-mode security."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apikeys.permissions import SchemaAccess
from apikeys.scopes import ANY_KEY, PUBLIC, Scope

pytestmark = pytest.mark.django_db

ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}
KEY_SCHEMES: list[dict[str, list[str]]] = [{"ApiKeyAuthorization": []}, {"ApiKeyHeader": []}]
SCOPED_OPERATIONS = {
    ("get", "/api/search/products/"): Scope.SEARCH,
    ("get", "/api/search/suggest/"): Scope.SEARCH,
    ("post", "/orders/"): Scope.ORDERS_WRITE,
    ("get", "/stores/{store_id}/orders/"): Scope.STORES_READ,
    ("get", "/stores/{store_id}/inventory/"): Scope.STORES_READ,
    ("get", "/api/search/rules/"): Scope.SEARCH_ADMIN,
    ("post", "/api/search/rules/"): Scope.SEARCH_ADMIN,
    ("patch", "/api/search/rules/{rule_id}/"): Scope.SEARCH_ADMIN,
}
# Operations a signed-in staff member may call without a key (the search console).
SESSION_OPERATIONS = {
    ("get", "/api/search/products/"),
    ("get", "/api/search/rules/"),
    ("post", "/api/search/rules/"),
    ("patch", "/api/search/rules/{rule_id}/"),
}
COOKIE: dict[str, list[str]] = {"cookieAuth": []}


def security(operation: dict, method: str, path: str) -> list:
    """The key schemes of an operation; the session's cookie only where staff may use one."""
    found = operation["security"]
    assert (COOKIE in found) == ((method, path) in SESSION_OPERATIONS), (method, path)
    return [scheme for scheme in found if scheme != COOKIE]


def schema(api_client) -> dict:
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.mark.usefixtures("keys_optional")
def test_the_schema_declares_both_key_headers_as_security_schemes(api_client):
    schemes = schema(api_client)["components"]["securitySchemes"]
    assert schemes == {
        "ApiKeyAuthorization": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>` (type both words).",
        },
        "ApiKeyHeader": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": "The key alone.",
        },
        # Signed-in staff (the search console) on the search and query-rule endpoints.
        "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
    }


@pytest.mark.usefixtures("keys_optional")
def test_every_scoped_operation_documents_401_and_403_as_the_envelope(api_client):
    paths = schema(api_client)["paths"]
    for (method, path), scope in SCOPED_OPERATIONS.items():
        operation = paths[path][method]
        responses = operation["responses"]
        assert {"401", "403"} <= set(responses), (method, path)
        for status in ("401", "403"):
            assert responses[status]["content"]["application/json"]["schema"] == ENVELOPE
        assert "authentication_required" in responses["401"]["description"]
        assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
        assert f"`{scope}`" in operation["description"], (method, path)


@pytest.mark.usefixtures("keys_optional")
def test_in_development_a_key_is_optional_in_the_schema(api_client):
    paths = schema(api_client)["paths"]
    for method, path in SCOPED_OPERATIONS:
        operation = paths[path][method]
        assert security(operation, method, path) == [*KEY_SCHEMES, {}], (method, path)


@pytest.mark.usefixtures("keys_required")
def test_in_production_every_scoped_operation_requires_a_key(api_client, make_key):
    _, key = make_key(Scope.SEARCH)
    api_client.credentials(HTTP_X_API_KEY=key)
    paths = schema(api_client)["paths"]
    for method, path in SCOPED_OPERATIONS:
        operation = paths[path][method]
        assert security(operation, method, path) == KEY_SCHEMES, (method, path)


@pytest.mark.usefixtures("keys_optional")
def test_health_probes_document_no_key_and_no_401(api_client):
    paths = schema(api_client)["paths"]
    for path in ("/healthz", "/readyz"):
        operation = paths[path]["get"]
        assert "security" not in operation
        assert not {"401", "403"} & set(operation["responses"])


def _views(patterns) -> list[type]:
    views = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            views += _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            views.append(pattern.callback.cls)
    return views


def test_every_api_view_declares_its_key_policy():
    # ApiKeyPolicy refuses (500, loudly) a view without one; this finds it before a client does.
    views = [view for view in _views(get_resolver().url_patterns) if issubclass(view, APIView)]
    assert len(views) >= 7
    for view in views:
        if view in (SpectacularAPIView, SpectacularSwaggerView):
            assert view.permission_classes == [SchemaAccess], view
        else:
            assert getattr(view, "required_scope", None) in {*Scope.values, PUBLIC, ANY_KEY}, view


class Undeclared(APIView):
    def get(self, request):
        return Response({})


def test_a_view_without_a_declared_policy_is_refused_not_served():
    request = APIRequestFactory().get("/")
    response = Undeclared.as_view()(request)
    assert response.status_code == 500
    assert response.data["error"]["code"] == "internal_error"
