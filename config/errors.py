"""The one error model: `AisleError` and the handler that turns every failure into the envelope."""

import logging
import sys
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)


class AisleError(Exception):
    """A domain error with a stable code; apps subclass it and views let it propagate."""

    code = "error"
    message = "Request failed."
    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)


class NotFound(AisleError):
    code = "not_found"
    message = "Not found."
    status_code = status.HTTP_404_NOT_FOUND


class InvalidParameters(AisleError):
    code = "validation_error"
    message = "Invalid input."
    status_code = status.HTTP_400_BAD_REQUEST


class RequestTooLarge(AisleError):
    code = "request_too_large"
    message = "The request body is too large."
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


class ServiceUnavailable(AisleError):
    code = "service_unavailable"
    message = "The database cannot be reached for a moment; retry shortly."
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


def database_unreachable(exc: BaseException | None) -> bool:
    """Whether `exc` says the database could not be reached or answer: a restart, a failover, a
    dropped connection. Everything in the failed request's transaction was rolled back with it,
    so a retry (orders with their Idempotency-Key) is safe."""
    return isinstance(exc, OperationalError | InterfaceError)


def service_unavailable() -> ServiceUnavailable:
    seconds = settings.DATABASE_RETRY_AFTER_SECONDS
    return ServiceUnavailable(
        details={"retry_after": seconds}, headers={"Retry-After": str(seconds)}
    )


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


# What a bare status means when nothing more specific was said (config.middleware's fallback).
_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad request."),
    403: ("permission_denied", "Permission denied."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: (RequestTooLarge.code, RequestTooLarge.message),
    429: ("throttled", "Too many requests; retry later."),
    500: ("internal_error", "Something went wrong on our side."),
}


def error_body_for_status(status_code: int) -> dict[str, Any]:
    """The envelope for a status alone: our code where we have one, else the HTTP phrase."""
    if status_code in _STATUS_ERRORS:
        return error_body(*_STATUS_ERRORS[status_code])
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        phrase = "Server error" if status_code >= 500 else "Request failed"
    return error_body(phrase.lower().replace(" ", "_").replace("-", "_"), f"{phrase}.")


# DRF's exception classes mapped to our codes; the first match in MRO order wins.
_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "malformed_request",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.NotAuthenticated: "authentication_required",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.Throttled: "throttled",
}


def _drf_code(exc: exceptions.APIException) -> str:
    for klass in type(exc).__mro__:
        if klass in _DRF_CODES:
            return _DRF_CODES[klass]
    return exc.default_code if isinstance(exc.default_code, str) else "error"


def _validation_message(details: Any) -> str:
    if isinstance(details, dict) and set(details) == {"non_field_errors"}:
        return str(details["non_field_errors"][0])
    return "Invalid input."


def _response_for_api_exception(exc: exceptions.APIException) -> Response:
    code = _drf_code(exc)
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(code, _validation_message(details), details)
    else:
        body = error_body(code, str(exc.detail))
    headers: dict[str, str] = {}
    # Throttled sets `wait` in __init__; the DRF stubs leave it out.
    wait: float | None = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        body["error"]["message"] = "Too many requests; retry later."
        body["error"]["details"] = {"retry_after": int(headers["Retry-After"])}
    if isinstance(exc, exceptions.NotAuthenticated):
        # DRF's default speaks of "credentials"; ours are API keys, and the caller needs the how.
        body["error"]["message"] = (
            "An API key is required: send `Authorization: Api-Key <key>` or `X-Api-Key: <key>`."
        )
    auth_header: str | None = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    return Response(body, status=exc.status_code, headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception leaves as the contract's error envelope."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        # Django answers these with a 400 outside DRF; inside a view they must not become 500s.
        logger.warning("Suspicious request: %s", exc)
        exc = AisleError("Bad request.", code="bad_request")
    elif database_unreachable(exc):
        logger.warning("Database unreachable: %s", exc)
        exc = service_unavailable()

    if isinstance(exc, AisleError):
        response = Response(
            error_body(exc.code, exc.message, exc.details),
            status=exc.status_code,
            headers=exc.headers,
        )
    elif isinstance(exc, exceptions.APIException):
        response = _response_for_api_exception(exc)
    else:
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "request")
        response = Response(
            error_body("internal_error", "Something went wrong on our side."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    request = context.get("request")
    if request is not None:
        # Errors are JSON whatever the view renders (the schema view answers in OpenAPI media
        # types): DRF renders this response with the request's negotiated renderer.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    set_rollback()
    return response


# Django's handler400/403/404/500 (config/urls.py): they answer when DEBUG is off. With DEBUG on
# Django renders its debug pages instead, and config.middleware.JsonErrorMiddleware turns those
# into the same envelopes.


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler404 for paths outside DRF views."""
    return JsonResponse(error_body_for_status(404), status=404)


def database_unavailable_response() -> JsonResponse:
    error = service_unavailable()
    response = JsonResponse(error_body(error.code, error.message, error.details), status=503)
    for header, value in error.headers.items():
        response[header] = value
    return response


def json_server_error(request: HttpRequest) -> JsonResponse:
    """handler500: no internals leak, even outside DRF views; an unreachable database (in a
    middleware or a plain Django view) is a 503 to retry, like inside DRF."""
    if database_unreachable(sys.exc_info()[1]):
        return database_unavailable_response()
    return JsonResponse(error_body_for_status(500), status=500)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler400: a disallowed Host, an unparsable body and other SuspiciousOperations."""
    return JsonResponse(error_body_for_status(400), status=400)


def json_permission_denied(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    return JsonResponse(error_body_for_status(403), status=403)


def json_login_locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> JsonResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: too many failed admin logins from this address."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = JsonResponse(
        error_body(
            "login_locked_out",
            "Too many failed logins from this address; try again later.",
            {"retry_after": seconds},
        ),
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
