"""Postgres reads for search: category and store look-ups, exact store quantities for a page."""

from django.db.models import Q

from catalog.models import Category
from inventory.models import Inventory, Store

# Ids are bigint in Postgres: a larger number cannot name a row (and would overflow the query).
MAX_ID = 2**63 - 1


def category_ids_matching(*, value: str) -> list[int]:
    """Ids of the categories whose id, slug or name (case-insensitive) is `value`; [] if none."""
    value = value.strip()
    if not value:
        return []
    condition = Q(slug__iexact=value) | Q(name__iexact=value)
    if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
        condition |= Q(pk=int(value))
    return list(Category.objects.filter(condition).order_by("pk").values_list("pk", flat=True))


def store_exists(*, store_id: int) -> bool:
    return 0 < store_id <= MAX_ID and Store.objects.filter(pk=store_id).exists()


def store_quantities(*, store_id: int, product_ids: list[int]) -> dict[int, int]:
    """Current quantity at the store of each product on a page, in one query (0 if not stocked)."""
    if not product_ids:
        return {}
    rows = Inventory.objects.filter(store_id=store_id, product_id__in=product_ids).values_list(
        "product_id", "quantity"
    )
    quantities = dict.fromkeys(product_ids, 0)
    quantities.update(rows)
    return quantities
