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
            # created_at: the pending sweep; id: partial, confirmed orders whose conversions wait
            [["created_at"], ["id"], ["store_id", "created_at", "id"]],
        ),
        ("ordering_orderitem", [["order_id", "product_id"], ["product_id"]]),
    ],
)
def test_each_table_has_exactly_its_composite_indexes(table, expected):
    assert index_columns(table) == expected
