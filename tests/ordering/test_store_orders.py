"""GET /stores/{id}/orders/: row shape, newest first, item totals, one query per page, 404s."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import OrderFactory, OrderItemFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_rows_have_the_contract_shape_and_sum_quantities(api_client):
    store = StoreFactory()
    order = OrderFactory(store=store)
    OrderItemFactory(order=order, quantity_requested=2)
    OrderItemFactory(order=order, quantity_requested=5)

    response = api_client.get(f"/stores/{store.id}/orders/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["next"] is None
    assert body["previous"] is None
    assert body["results"] == [
        {
            "id": order.id,
            "status": "CONFIRMED",
            "created_at": order.created_at.isoformat().replace("+00:00", "Z"),
            "total_items": 7,
        }
    ]


def test_order_without_lines_counts_zero_items(api_client):
    order = OrderFactory(status="REJECTED")

    body = api_client.get(f"/stores/{order.store_id}/orders/").json()

    assert body["results"][0]["total_items"] == 0
    assert body["results"][0]["status"] == "REJECTED"


def test_newest_first_with_ties_broken_by_higher_id(api_client):
    store = StoreFactory()
    now = timezone.now()
    old = OrderFactory(store=store, created_at=now - timedelta(hours=1))
    tie_a = OrderFactory(store=store, created_at=now)
    tie_b = OrderFactory(store=store, created_at=now)
    OrderFactory()  # another store's order is not listed

    ids = [row["id"] for row in api_client.get(f"/stores/{store.id}/orders/").json()["results"]]

    assert ids == [tie_b.id, tie_a.id, old.id]


def test_pages_default_to_20_and_link_to_each_other(api_client):
    store = StoreFactory()
    OrderFactory.create_batch(25, store=store)

    first = api_client.get(f"/stores/{store.id}/orders/").json()
    second = api_client.get(f"/stores/{store.id}/orders/?page=2").json()

    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["next"].endswith(f"/stores/{store.id}/orders/?page=2")
    assert len(second["results"]) == 5
    assert second["next"] is None
    assert second["previous"] is not None
    assert {r["id"] for r in first["results"]}.isdisjoint(r["id"] for r in second["results"])


def test_page_size_is_capped_at_100(api_client):
    store = StoreFactory()
    OrderFactory.create_batch(101, store=store)

    body = api_client.get(f"/stores/{store.id}/orders/?page_size=500").json()

    assert len(body["results"]) == 100


def test_the_page_is_one_query_whatever_its_size(api_client, django_assert_max_num_queries):
    store = StoreFactory()
    for order in OrderFactory.create_batch(30, store=store):
        OrderItemFactory.create_batch(2, order=order)

    # store exists + COUNT + the page itself; no per-row query for totals
    with django_assert_max_num_queries(3):
        body = api_client.get(f"/stores/{store.id}/orders/?page_size=30").json()

    assert len(body["results"]) == 30
    assert all(row["total_items"] == 2 for row in body["results"])


@pytest.mark.parametrize("path", ["/stores/999999/orders/", f"/stores/{2**70}/orders/"])
def test_unknown_store_is_404_store_not_found(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "store_not_found"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("page=0", 400, "validation_error"),
        ("page=abc", 400, "validation_error"),
        ("page_size=x", 400, "validation_error"),
        ("page=2", 404, "not_found"),
    ],
)
def test_bad_or_past_the_end_pages(api_client, query, status, code):
    order = OrderFactory()

    response = api_client.get(f"/stores/{order.store_id}/orders/?{query}")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
