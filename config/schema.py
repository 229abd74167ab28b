"""OpenAPI pieces shared by every app: the error envelope and `error_responses(...)`.

Every 4xx/5xx leaves as `{"error": {"code", "message", "details"}}` (config/errors.py); the
schema must say so, or clients (and the schema fuzzer) cannot tell a documented error from a
surprise. Document each status an operation can answer with the helper::

    from drf_spectacular.utils import extend_schema

    from config.schema import error_responses

    class OrderPlaceView(APIView):
        @extend_schema(
            request=OrderPlaceInputSerializer,
            responses={201: OrderOutputSerializer, **error_responses(400, 404, 409)},
        )
        def post(self, request): ...

Known statuses get a standard description (`describe=` overrides or adds one), and every error
response points at the one `ErrorEnvelope` component. A throttled view also lists the
`Retry-After` header of its 429s: `extend_schema(parameters=[RETRY_AFTER], ...)`.

What the shared plumbing itself answers is added by `AutoSchema` without asking: paginated
lists get 400/404 (config/pagination.py), operations with a JSON body 400/413/415, and views
behind an API key scope 401 (with `WWW-Authenticate`) and 403, as their permission classes say
(`schema_error_statuses`, `schema_description`: apikeys/permissions.py).
"""

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid input (`validation_error`, `malformed_request`, ...); nothing was changed.",
    401: "No API key where one is required (`authentication_required`), or an invalid, revoked"
    " or expired key (`authentication_failed`).",
    403: "Permission denied (`permission_denied`): the API key lacks this operation's scope, or"
    " may not act on this store.",
    404: "Not found (`not_found`, or a more specific code such as `store_not_found`).",
    405: "Method not allowed (`method_not_allowed`).",
    409: "Conflict with the current state (e.g. `idempotency_conflict`).",
    413: "The request body is larger than the server accepts (`request_too_large`).",
    415: "Unsupported media type; send `application/json` (`unsupported_media_type`).",
    422: "Well-formed but unprocessable input.",
    429: "Rate limited (`throttled`); the `Retry-After` header says how many seconds to wait.",
    500: "Unexpected server error (`internal_error`); no internals are exposed.",
    503: "A dependency is unavailable (`search_unavailable`, `not_ready`); retry later.",
}


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable snake_case code clients can branch on.")
    message = serializers.CharField(help_text="Human-readable summary.")
    details = serializers.DictField(
        help_text="Field-keyed messages (DRF's structure) where they apply, else `{}`."
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    """The shape of every 4xx and 5xx response."""

    error = ErrorBodySerializer()


def error_responses(*statuses: int, describe: dict[int, str] | None = None) -> dict:
    """`{status: OpenApiResponse(ErrorEnvelope)}` for `extend_schema(responses=...)`."""
    descriptions = {**ERROR_DESCRIPTIONS, **(describe or {})}
    return {
        status: OpenApiResponse(
            response=ErrorEnvelopeSerializer,
            description=descriptions.get(status, "Error."),
        )
        for status in statuses
    }


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    location=OpenApiParameter.HEADER,
    response=[429],
    required=True,
    description="Seconds to wait before retrying.",
)

WWW_AUTHENTICATE = OpenApiParameter(
    "WWW-Authenticate",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[401],
    required=True,
    description="`Api-Key`: send `Authorization: Api-Key <key>` or `X-Api-Key: <key>`.",
)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, plus the error responses our shared plumbing produces."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        implied: list[int] = []
        if self.method == "GET" and self._get_paginator() is not None and self._is_list_view():
            implied += [400, 404]  # a non-integer page/page_size; a page past the end
        if self.method in {"POST", "PUT", "PATCH"} and self.get_request_serializer() is not None:
            implied += [400, 413, 415]  # malformed JSON; RequestSizeLimitMiddleware; not JSON
        implied += self._key_error_statuses()  # no, bad or revoked key; wrong scope or store
        if self._throttled():
            implied.append(429)
        for status, response in error_responses(*implied).items():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    response, str(status), direction=direction
                )
        return responses

    # drf-spectacular narrows DRF's signature (path, method) to none and ignores it likewise.
    def get_description(self) -> str:  # type: ignore[override]
        description = super().get_description() or ""
        policies = [
            text
            for describe in self._permission_hooks("schema_description")
            if (text := describe(self.view))
        ]
        policy = " ".join(policies)
        return f"{description}\n\n{policy}".strip() if policy else description

    def get_override_parameters(self) -> list:
        parameters = super().get_override_parameters()
        if 401 in self._key_error_statuses():
            parameters = [*parameters, WWW_AUTHENTICATE]
        if self._throttled() and RETRY_AFTER not in parameters:
            parameters = [*parameters, RETRY_AFTER]
        return parameters

    def _permission_hooks(self, name: str) -> list[Any]:
        # The permission classes describe themselves (apikeys.permissions.ApiKeyPolicy does), so
        # the schema learns the key policy without config importing apikeys.
        return [
            getattr(permission, name)
            for permission in self.view.get_permissions()
            if hasattr(permission, name)
        ]

    def _key_error_statuses(self) -> list[int]:
        """The statuses the view's permissions can answer (no, bad or revoked key; scope)."""
        return [
            code
            for statuses in self._permission_hooks("schema_error_statuses")
            for code in statuses(self.view)
        ]

    def _throttled(self) -> bool:
        return bool(getattr(self.view, "throttle_classes", None))
