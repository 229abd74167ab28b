"""Every request gets an id: a well-formed X-Request-ID or a fresh one, echoed and logged."""

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from config.logging import RequestIdFilter, current_request_id

pytestmark = pytest.mark.django_db

UUID4_HEX = re.compile(r"[0-9a-f]{32}")


def test_a_request_without_an_id_gets_a_fresh_uuid4_hex(api_client):
    first = api_client.get("/healthz")["X-Request-ID"]
    second = api_client.get("/healthz")["X-Request-ID"]
    assert UUID4_HEX.fullmatch(first)
    assert UUID4_HEX.fullmatch(second)
    assert first != second


@pytest.mark.parametrize("supplied", ["abc-123", "trace.0001_A-b", "x" * 200])
def test_a_well_formed_client_id_is_echoed_back(api_client, supplied):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID=supplied)
    assert response["X-Request-ID"] == supplied


@pytest.mark.parametrize(
    "supplied",
    ["x" * 201, "has space", "semi;colon", "new\nline", "ünïcode", "<script>", ""],
    ids=["too-long", "space", "semicolon", "newline", "non-ascii", "markup", "empty"],
)
def test_a_malformed_client_id_is_replaced_by_a_fresh_one(api_client, supplied):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID=supplied)
    assert UUID4_HEX.fullmatch(response["X-Request-ID"])


def test_error_responses_carry_the_request_id_too(api_client):
    response = api_client.get("/no/such/path/", HTTP_X_REQUEST_ID="err-42")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "err-42"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The configured console handler (JSON formatter + request id filter), writing to a buffer."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RequestIdFilter) for f in handler.filters)
    ]
    assert len(handlers) == 1, "LOGGING must put RequestIdFilter on the console handler"
    handler = handlers[0]
    assert isinstance(handler, logging.StreamHandler), "the console handler writes to a stream"
    buffer = io.StringIO()
    original_stream = handler.setStream(buffer)
    access_logger = logging.getLogger("aisle.request")
    original_level = access_logger.level
    access_logger.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        access_logger.setLevel(original_level)
        handler.setStream(original_stream)


def log_lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_the_access_log_line_is_json_with_the_request_id(api_client, json_log):
    api_client.get("/healthz", HTTP_X_REQUEST_ID="log-me-1")
    lines = [line for line in log_lines(json_log) if line["name"] == "aisle.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "log-me-1"
    assert line["message"] == "request"
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert {"asctime", "levelname"} <= set(line)


def test_log_lines_written_inside_a_request_by_any_logger_carry_its_id(api_client, json_log):
    # A missing route logs a warning from Django's own logger, deep inside the request.
    api_client.get("/no/such/path/", HTTP_X_REQUEST_ID="deep-7")
    lines = log_lines(json_log)
    django_lines = [line for line in lines if line["name"].startswith("django")]
    assert django_lines, lines
    assert {line["request_id"] for line in lines} == {"deep-7"}


def test_log_lines_outside_a_request_have_a_null_request_id(json_log):
    logging.getLogger("aisle.test").warning("outside any request")
    (line,) = log_lines(json_log)
    assert line["request_id"] is None
    assert line["message"] == "outside any request"


def test_the_request_id_does_not_leak_past_its_request(api_client):
    api_client.get("/healthz", HTTP_X_REQUEST_ID="gone-after")
    assert current_request_id() is None
