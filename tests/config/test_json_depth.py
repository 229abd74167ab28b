"""Deeply nested JSON is a 400 envelope on every endpoint that reads a body, never a 500."""

import json

import pytest

from config.parsers import MAX_JSON_DEPTH
from ordering.models import Order
from tests.config.test_errors import assert_envelope
from tests.factories import InventoryFactory

pytestmark = pytest.mark.django_db


def nested(depth: int, opening: str = "[", closing: str = "]") -> str:
    return opening * depth + closing * depth


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deeply_nested_arrays_in_an_order_are_a_400_and_store_nothing(api_client, depth):
    response = api_client.post("/orders/", data=nested(depth), content_type="application/json")
    error = assert_envelope(response, 400, "malformed_request")
    assert "nested" in error["message"]
    assert Order.objects.count() == 0


def test_deeply_nested_objects_inside_a_valid_looking_order_are_a_400(api_client):
    row = InventoryFactory()
    inner = '{"a":' * 5_000 + "1" + "}" * 5_000
    body = (
        f'{{"store_id": {row.store_id}, "items": [{{"product_id": {row.product_id}, '
        f'"quantity_requested": 1, "extra": {inner}}}]}}'
    )
    response = api_client.post("/orders/", data=body, content_type="application/json")
    assert_envelope(response, 400, "malformed_request")
    assert Order.objects.count() == 0


def test_nesting_below_the_recursion_limit_but_over_the_cap_is_a_400(api_client):
    body = json.dumps({"store_id": 1, "items": json.loads(nested(MAX_JSON_DEPTH))})
    response = api_client.post("/orders/", data=body, content_type="application/json")
    assert_envelope(response, 400, "malformed_request")


def test_nesting_at_the_cap_reaches_validation(api_client):
    # {"items": [...]} adds one level: MAX_JSON_DEPTH levels in all, still parsed.
    body = json.dumps({"store_id": 1, "items": json.loads(nested(MAX_JSON_DEPTH - 1))})
    response = api_client.post("/orders/", data=body, content_type="application/json")
    assert_envelope(response, 400, "validation_error")


def test_a_real_order_still_parses(api_client):
    row = InventoryFactory(quantity=3)
    line = {"product_id": row.product_id, "quantity_requested": 1}
    response = api_client.post(
        "/orders/", data={"store_id": row.store_id, "items": [line]}, format="json"
    )
    assert response.status_code == 201, response.content
