"""Postgres going away for seconds: 503 `service_unavailable` with Retry-After, never a 500, and
an order retried with its Idempotency-Key afterwards is placed exactly once.

A live server reaches Postgres through a TCP proxy (tests/stallproxy.py) that the test cuts, as
a restart or a standby taking over would: nothing shared is stopped.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from django.db import connections

from ordering.models import IdempotencyRecord, Order
from tests.factories import InventoryFactory
from tests.ordering.invariants import assert_stock_invariant, stock_snapshot
from tests.searchindex.conftest import es, product_index  # noqa: F401 - fixtures
from tests.stallproxy import StallProxy


def http(url: str, *, body: dict | None = None, headers: dict | None = None):
    """(status, headers, parsed JSON body) of one request, error statuses included."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - a loopback http URL we built
        url,
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST" if data else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            status, answered, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, answered, payload = exc.code, exc.headers, exc.read()
    assert answered["Content-Type"] == "application/json", (url, status, payload[:300])
    return status, answered, json.loads(payload)


@pytest.fixture
def database_proxy() -> Iterator[StallProxy]:
    """Every new database connection (the live server's too) goes through a cuttable proxy."""
    settings_dict = connections["default"].settings_dict  # shared by every thread's connection
    saved = (settings_dict["HOST"], settings_dict["PORT"])
    proxy = StallProxy((saved[0] or "127.0.0.1", int(saved[1] or 5432)))
    host, port = proxy.url.removeprefix("http://").split(":")
    settings_dict["HOST"], settings_dict["PORT"] = host, port
    connections.close_all()
    yield proxy
    proxy.restore()
    settings_dict["HOST"], settings_dict["PORT"] = saved
    connections.close_all()
    proxy.close()


@pytest.mark.django_db(transaction=True)
def test_database_cut_gives_503_with_retry_after_and_a_keyed_retry_places_the_order_once(
    live_server,
    database_proxy,
    settings,
    product_index,  # noqa: F811 - a fixture, imported from tests/searchindex/conftest.py
):
    row = InventoryFactory(quantity=10)
    initial = stock_snapshot()
    order = {
        "store_id": row.store_id,
        "items": [{"product_id": row.product_id, "quantity_requested": 2}],
    }
    keyed = {"Idempotency-Key": "cut-retry-1"}
    listing = f"{live_server.url}/stores/{row.store_id}/inventory/"
    # The live server's connection now runs through the proxy (the listing is cached after this).
    assert http(listing)[0] == 200

    database_proxy.cut()
    answers = {
        "order": http(f"{live_server.url}/orders/", body=order, headers=keyed),
        "order list": http(f"{live_server.url}/stores/{row.store_id}/orders/"),
        # Outside DRF: the admin loads the session from Postgres in a plain Django view.
        "admin": http(f"{live_server.url}/admin/", headers={"Cookie": "sessionid=" + "a" * 32}),
    }
    cached = http(listing)  # Redis still answers the cached listing
    database_proxy.restore()
    connections["default"].close()  # this thread's connection was cut too

    assert cached[0] == 200
    for name, (status, headers, body) in answers.items():
        assert status == 503, (name, status, body)
        assert body["error"]["code"] == "service_unavailable", name
        assert headers["Retry-After"] == str(settings.DATABASE_RETRY_AFTER_SECONDS), name
        assert body["error"]["details"] == {"retry_after": settings.DATABASE_RETRY_AFTER_SECONDS}
    assert Order.objects.count() == 0  # nothing half-written

    first = http(f"{live_server.url}/orders/", body=order, headers=keyed)
    again = http(f"{live_server.url}/orders/", body=order, headers=keyed)
    assert first[0] == 201, first
    assert first[2]["status"] == "CONFIRMED"
    assert again[0] == 201
    assert again[1]["Idempotent-Replayed"] == "true"
    assert again[2]["id"] == first[2]["id"]
    assert Order.objects.count() == 1
    assert IdempotencyRecord.objects.filter(key="cut-retry-1").count() == 1
    assert_stock_invariant(initial)
