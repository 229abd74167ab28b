"""OpenAPI security schemes for API keys: Swagger UI's Authorize button, and who needs a key."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from apikeys.authentication import AUTHORIZATION_KEYWORD, HEADER
from apikeys.permissions import keys_required


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Two schemes, one per header; either one authenticates (OpenAPI's list of requirements is
    an OR). Operations list `{}` as well while keys are optional (development)."""

    target_class = "apikeys.authentication.ApiKeyAuthentication"
    name = ["ApiKeyAuthorization", "ApiKeyHeader"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": f"`{AUTHORIZATION_KEYWORD} <key>` (type both words).",
            },
            {"type": "apiKey", "in": "header", "name": HEADER, "description": "The key alone."},
        ]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list]]:
        requirements: list[dict[str, list]] = [{name: []} for name in self.name]
        if not keys_required():
            requirements.append({})
        return requirements
