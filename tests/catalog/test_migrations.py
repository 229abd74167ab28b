"""The catalog's migrations keep the products already stored and give them the new fields."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog.models import Product

BEFORE = [("catalog", "0001_initial")]
AFTER = [("catalog", "0002_product_import_fields")]


@pytest.mark.django_db(transaction=True)
def test_import_fields_migration_keeps_existing_products_with_defaults():
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        category = old.get_model("catalog", "Category").objects.create(name="Dairy", slug="dairy")
        old.get_model("catalog", "Product").objects.create(
            title="Milk", description="Fresh", price=Decimal("50.00"), category=category
        )

        executor = MigrationExecutor(connection)  # a fresh graph, as `migrate` would load
        executor.migrate(AFTER)
    finally:
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())

    product = Product.objects.get()
    assert (product.title, product.price, product.category.slug) == (
        "Milk",
        Decimal("50.00"),
        "dairy",
    )
    assert (product.sku, product.brand, product.attributes, product.popularity) == (None, "", {}, 0)
    assert product.source == ""
