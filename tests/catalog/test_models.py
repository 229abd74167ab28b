"""Database-level constraints hold in Postgres itself, whatever the Python code does."""

import pytest
from django.db import IntegrityError, connection, transaction

from inventory.models import Inventory
from ordering.models import Order, OrderItem
from tests.factories import InventoryFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_postgres_refuses_negative_inventory_quantity_even_through_raw_update():
    row = InventoryFactory(quantity=1)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_inventory SET quantity = -1 WHERE id = %s", [row.id])
    row.refresh_from_db()
    assert row.quantity == 1


def test_postgres_refuses_a_second_inventory_row_for_the_same_store_and_product():
    row = InventoryFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Inventory.objects.create(store=row.store, product=row.product, quantity=5)
    assert Inventory.objects.filter(store=row.store, product=row.product).count() == 1


def test_postgres_refuses_a_negative_price():
    product = ProductFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(product).objects.filter(pk=product.pk).update(price=-1)


def test_postgres_refuses_an_order_line_with_zero_quantity():
    order = Order.objects.create(store=StoreFactory(), status=Order.Status.CONFIRMED)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderItem.objects.create(order=order, product=ProductFactory(), quantity_requested=0)


def test_models_can_be_created_with_just_the_contract_fields():
    product = ProductFactory(title="Milk")
    store = StoreFactory(name="Koramangala")
    inventory = Inventory.objects.create(store=store, product=product, quantity=3)
    order = Order.objects.create(store=store, status="CONFIRMED")
    item = OrderItem.objects.create(order=order, product=product, quantity_requested=2)
    assert product.created_at is not None
    assert inventory.quantity == 3
    assert item.unit_price == 0
    assert str(product) == "Milk"
