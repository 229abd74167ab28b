"""Request plumbing: request ids, JSON errors in every run mode, slash handling, a body cap."""

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception, request_finished
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.http.request import split_domain_port
from django.middleware import common

from config.clientip import client_ip
from config.errors import (
    RequestTooLarge,
    database_unavailable_response,
    database_unreachable,
    error_body,
    error_body_for_status,
)
from config.logging import request_id_var

logger = logging.getLogger("aisle.request")

REQUEST_ID_HEADER = "X-Request-ID"
# Ids from clients or proxies are echoed into logs and headers, so only a safe alphabet passes.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,200}")


def request_id_from(request: HttpRequest) -> str:
    """The caller's `X-Request-ID` when it is well formed, else a fresh uuid4 hex."""
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    if _VALID_REQUEST_ID.fullmatch(supplied):
        return supplied
    return uuid.uuid4().hex


def _forget_request_id(**kwargs: object) -> None:
    request_id_var.set(None)


# The id stays set until the response is finished, not just until this middleware returns:
# Django logs 4xx/5xx responses ("django.request") after the middleware chain has returned.
request_finished.connect(_forget_request_id, dispatch_uid="config.middleware.forget_request_id")


# Set in request.META by the receiver below: WSGI environ keys with a dot are the server's own.
DATABASE_UNREACHABLE = "aisle.database_unreachable"


def _database_unreachable_note(
    sender: object, request: HttpRequest | None = None, **kwargs: object
) -> None:
    # Sent while Django handles an uncaught exception (DEBUG on or off): JsonErrorMiddleware
    # then answers the 500 that follows with the 503 a client retries.
    if request is not None and database_unreachable(sys.exc_info()[1]):
        request.META[DATABASE_UNREACHABLE] = True


got_request_exception.connect(
    _database_unreachable_note, dispatch_uid="config.middleware.database_unreachable_note"
)


class RequestIdMiddleware:
    """Gives each request an id, exposes it to logging, echoes it back and logs one access line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request)
        # Django's HttpRequest declares no such field; views and handlers may read it.
        request.request_id = request_id  # type: ignore[attr-defined]
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "client": client_ip(request),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


class RequestSizeLimitMiddleware:
    """Refuses a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE with a 413 before anything reads it.

    Django checks that limit only when `request.body` is read; DRF's parsers stream the body
    instead, so without this an oversized JSON body would be parsed whole.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return JsonResponse(
                error_body(
                    RequestTooLarge.code,
                    f"The request body is larger than the {limit} bytes allowed.",
                    {"max_bytes": limit},
                ),
                status=413,
            )
        return self.get_response(request)


def _is_envelope(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and set(body) == {"error"}
        and isinstance(body["error"], dict)
        and set(body["error"]) == {"code", "message", "details"}
    )


def _json_body(response: HttpResponseBase) -> Any:
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    if content_type != "application/json" or not isinstance(response, HttpResponse):
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


class JsonErrorMiddleware:
    """Makes every 4xx/5xx the contract's JSON envelope, in every run mode, whoever answered.

    Views answer through config/errors.py, but some answers come from elsewhere: Django's debug
    pages when DEBUG is on (a 404, a disallowed Host, a 500: tracebacks, settings and URL
    patterns), a plain 405 from a Django view, the admin's CSRF failure page, drf-spectacular's
    schema view rendering its own error envelopes as YAML. Such a response is replaced by its
    own envelope (DRF's `response.data`) as JSON, else by the envelope for its status; its
    headers (Allow, Retry-After, ...) are kept.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # A streamed error body is left alone: replacing it would skip its resource closers.
        if response.status_code < 400 or response.streaming:
            return response
        if response.status_code == 500 and request.META.get(DATABASE_UNREACHABLE):
            return database_unavailable_response()
        if _is_envelope(_json_body(response)):
            return response
        data = getattr(response, "data", None)
        body = data if _is_envelope(data) else error_body_for_status(response.status_code)
        replacement = JsonResponse(body, status=response.status_code)
        for header, value in response.items():
            if header.lower() not in {"content-type", "content-length"}:
                replacement[header] = value
        replacement.cookies = response.cookies
        return replacement


class CommonMiddleware(common.CommonMiddleware):
    """Django's CommonMiddleware, except that APPEND_SLASH redirects only GET and HEAD.

    A redirect cannot carry a write along: a 301 turns a POST into a GET without its body (and
    with DEBUG on Django raises instead, a 500). So a write to a known path without its trailing
    slash is a 404 envelope that names the right path: the client learns of its mistake at once
    rather than losing the request to a redirect.
    """

    redirectable_methods = frozenset({"GET", "HEAD"})

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        return request.method in self.redirectable_methods and super().should_redirect_with_slash(
            request
        )

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            response.status_code == 404
            and request.method not in self.redirectable_methods
            and super().should_redirect_with_slash(request)
        ):
            response = JsonResponse(
                error_body(
                    "not_found",
                    f"Not found. Did you mean {request.path}/ (with the trailing slash)?",
                ),
                status=404,
            )
        return super().process_response(request, response)


ADMIN_PATH = "/admin/"


def admin_served_to(request: HttpRequest) -> bool:
    """Whether ADMIN_ENABLED and ADMIN_HOST let this request reach the admin."""
    if not settings.ADMIN_ENABLED:
        return False
    host, _ = split_domain_port(request.get_host())
    return not settings.ADMIN_HOST or host == settings.ADMIN_HOST


class AdminGateMiddleware:
    """Answers /admin/ with a 404 envelope where the admin is not served (off, or another host).

    The same 404 as any unknown path, before sessions or CSRF run: nothing tells a prober
    that an admin exists.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info
        is_admin = path == ADMIN_PATH.rstrip("/") or path.startswith(ADMIN_PATH)
        if is_admin and not admin_served_to(request):
            return JsonResponse(error_body_for_status(404), status=404)
        return self.get_response(request)
