"""Oversized bodies are refused with a 413 in the envelope before anything parses or stores them."""

import json

import pytest
from django.core.exceptions import DisallowedHost, RequestDataTooBig

from config.errors import exception_handler
from ordering.models import Order
from tests.config.test_errors import assert_envelope

pytestmark = pytest.mark.django_db

ONE_MIB = 1024 * 1024


def order_body_of_size(size: int) -> str:
    """A well-formed order payload padded with whitespace to exactly `size` bytes."""
    body = json.dumps({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]})
    return body + " " * (size - len(body))


def test_a_json_post_over_one_mib_to_orders_is_a_413_envelope_and_stores_nothing(api_client):
    body = order_body_of_size(ONE_MIB + 1)
    response = api_client.post("/orders/", data=body, content_type="application/json")
    error = assert_envelope(response, 413, "request_too_large")
    assert error["details"] == {"max_bytes": ONE_MIB}
    assert response["X-Request-ID"]
    assert Order.objects.count() == 0


def test_a_body_at_the_limit_reaches_the_view(api_client):
    body = order_body_of_size(ONE_MIB)
    response = api_client.post("/orders/", data=body, content_type="application/json")
    # Store 1 does not exist: the view answered, so the size check let it through.
    assert response.status_code != 413
    assert response.status_code < 500, response.content


def test_the_limit_follows_the_setting(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client.post(
        "/orders/", data=order_body_of_size(1001), content_type="application/json"
    )
    assert_envelope(response, 413, "request_too_large")


def test_request_data_too_big_raised_inside_a_view_is_a_413_not_a_500():
    response = exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413
    assert response.data["error"]["code"] == "request_too_large"


def test_other_suspicious_operations_inside_a_view_are_a_400_not_a_500():
    response = exception_handler(DisallowedHost("nope"), {})
    assert response.status_code == 400
    assert response.data["error"]["code"] == "bad_request"
