"""Request plumbing: a request id on every request and log line, and a cap on request bodies."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse, JsonResponse

from config.errors import RequestTooLarge, error_body
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


class RequestIdMiddleware:
    """Gives each request an id, exposes it to logging, echoes it back and logs one access line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request)
        request.request_id = request_id
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
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
