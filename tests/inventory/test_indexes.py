"""Stock and order tables carry each index once: no single-column index a composite one covers."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def index_columns(table: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    # Unique constraints are indexes too (Postgres builds one for each).
    return sorted(
        c["columns"]
        for c in constraints.values()
        if (c["index"] or c["unique"]) and not c["primary_key"]
    )


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("inventory_inventory", [["product_id", "store_id"], ["store_id", "product_id"]]),
        (
            "ordering_order",
            [["created_at"], ["store_id", "created_at", "id"]],  # created_at: pending sweep
        ),
        ("ordering_orderitem", [["order_id", "product_id"], ["product_id"]]),
    ],
)
def test_each_table_has_exactly_its_composite_indexes(table, expected):
    assert index_columns(table) == expected
