"""Real concurrency against Postgres: threads, each with its own connection, committing for real."""

import functools
import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from inventory.models import Inventory
from ordering.models import IdempotencyRecord, Order
from tests.factories import InventoryFactory, StoreFactory
from tests.ordering.invariants import assert_stock_invariant, stock_snapshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

THREADS = 16


def run_concurrently(bodies: list[dict], threads: int = THREADS, **headers: str) -> list[Any]:
    """POST every body to /orders/ from `threads` threads started together; the responses."""
    responses: list[Any] = [None] * len(bodies)
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        client = APIClient()
        try:
            barrier.wait(timeout=30)
            for index in range(offset, len(bodies), threads):
                responses[index] = client.post(
                    "/orders/", data=bodies[index], format="json", headers=headers or None
                )
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)
        finally:
            connection.close()

    run_threads([functools.partial(worker, offset) for offset in range(threads)])
    assert errors == []
    return responses


def run_threads(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a request hung (deadlock?)"


def line(row: Inventory, quantity: int = 1) -> dict:
    return {"product_id": row.product_id, "quantity_requested": quantity}


def test_hot_product_never_oversells_under_120_concurrent_single_unit_orders():
    row = InventoryFactory(quantity=25)
    initial = stock_snapshot()
    bodies = [{"store_id": row.store_id, "items": [line(row)]} for _ in range(120)]

    responses = run_concurrently(bodies)

    assert [r.status_code for r in responses] == [201] * 120
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("CONFIRMED") == 25
    assert statuses.count("REJECTED") == 95
    assert Inventory.objects.get(pk=row.pk).quantity == 0
    assert Order.objects.filter(status="CONFIRMED").count() == 25
    assert_stock_invariant(initial)


def test_two_line_orders_in_opposite_line_orders_never_deadlock():
    store = StoreFactory()
    a = InventoryFactory(store=store, quantity=500)
    b = InventoryFactory(store=store, quantity=500)
    initial = stock_snapshot()
    bodies = [
        {"store_id": store.id, "items": [line(a), line(b)] if i % 2 else [line(b), line(a)]}
        for i in range(96)
    ]

    responses = run_concurrently(bodies)

    # A deadlock would surface as a 500 (Postgres aborts one transaction) or a hung thread.
    assert [r.status_code for r in responses] == [201] * 96
    assert {r.json()["status"] for r in responses} == {"CONFIRMED"}
    assert Inventory.objects.get(pk=a.pk).quantity == 500 - 96
    assert Inventory.objects.get(pk=b.pk).quantity == 500 - 96
    assert_stock_invariant(initial)


def test_random_multi_line_orders_keep_the_stock_invariant_and_are_all_or_nothing():
    rng = random.Random(7)
    store = StoreFactory()
    rows = [InventoryFactory(store=store, quantity=20) for _ in range(4)]
    initial = stock_snapshot()
    bodies = []
    for _ in range(96):
        chosen = rng.sample(rows, rng.randint(1, 3))
        bodies.append({"store_id": store.id, "items": [line(r, rng.randint(1, 3)) for r in chosen]})

    responses = run_concurrently(bodies)

    assert [r.status_code for r in responses] == [201] * 96
    statuses = {r.json()["status"] for r in responses}
    assert statuses == {"CONFIRMED", "REJECTED"}
    for response in responses:
        body = response.json()
        assert (body["status"] == "REJECTED") == bool(body["rejected_items"])
    assert_stock_invariant(initial)


def test_eight_concurrent_requests_with_one_idempotency_key_place_one_order():
    row = InventoryFactory(quantity=100)
    body = {"store_id": row.store_id, "items": [line(row, 3)]}

    responses = run_concurrently([body] * 8, threads=8, **{"Idempotency-Key": "same-key"})

    assert [r.status_code for r in responses] == [201] * 8
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    assert Order.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert Inventory.objects.get(pk=row.pk).quantity == 97


def test_concurrent_requests_with_one_key_and_different_bodies_place_one_order():
    row = InventoryFactory(quantity=100)
    bodies = [{"store_id": row.store_id, "items": [line(row, q)]} for q in range(1, 9)]

    responses = run_concurrently(bodies, threads=8, **{"Idempotency-Key": "contested-key"})

    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) >= 1
    assert set(codes) <= {201, 409}
    assert Order.objects.count() == 1
    (order,) = Order.objects.all()
    assert Inventory.objects.get(pk=row.pk).quantity == 100 - order.items.get().quantity_requested
