"""Postgres reads for search: category and store look-ups, exact store quantities for a page.

Fixed SQL, not querysets: these run on most searches, and building a queryset cost more of the
web process's CPU than the query's own round trip (bench/cpu_profile.py).
"""

from django.db import connection

from catalog.models import Category
from inventory.models import Inventory, Store

# Ids are bigint in Postgres: a larger number cannot name a row (and would overflow the query).
MAX_ID = 2**63 - 1

# Table names come from the models, never from input. UPPER(..) = UPPER(%s) is Django's iexact.
_CATEGORY = Category._meta.db_table
_CATEGORY_BY_NAME = (
    f'SELECT "id" FROM "{_CATEGORY}"'  # noqa: S608
    ' WHERE UPPER("slug"::text) = UPPER(%s) OR UPPER("name"::text) = UPPER(%s)'
)
_CATEGORY_BY_NAME_OR_ID = _CATEGORY_BY_NAME + ' OR "id" = %s'
_STORE = f'SELECT 1 FROM "{Store._meta.db_table}" WHERE "id" = %s LIMIT 1'  # noqa: S608
_QUANTITIES = (
    f'SELECT "product_id", "quantity" FROM "{Inventory._meta.db_table}"'  # noqa: S608
    ' WHERE "store_id" = %s AND "product_id" = ANY(%s)'
)


def category_ids_matching(*, value: str) -> list[int]:
    """Ids of the categories whose id, slug or name (case-insensitive) is `value`; [] if none."""
    value = value.strip()
    if not value:
        return []
    params: list[str | int]
    if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
        sql, params = _CATEGORY_BY_NAME_OR_ID, [value, value, int(value)]
    else:
        sql, params = _CATEGORY_BY_NAME, [value, value]
    with connection.cursor() as cursor:
        cursor.execute(sql + ' ORDER BY "id"', params)
        return [row[0] for row in cursor.fetchall()]


def store_exists(*, store_id: int) -> bool:
    if not 0 < store_id <= MAX_ID:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_STORE, [store_id])
        return cursor.fetchone() is not None


def store_quantities(*, store_id: int, product_ids: list[int]) -> dict[int, int]:
    """Current quantity at the store of each product on a page, in one query (0 if not stocked)."""
    if not product_ids:
        return {}
    quantities = dict.fromkeys(product_ids, 0)
    with connection.cursor() as cursor:
        cursor.execute(_QUANTITIES, [store_id, product_ids])
        quantities.update(cursor.fetchall())
    return quantities
