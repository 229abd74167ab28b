"""Stock reads: stores and the cached, versioned per-store inventory listing."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.functions import Lower

from config.pagination import PageRequest
from inventory.cache import (
    store_inventory_page_get,
    store_inventory_page_set,
    store_inventory_version,
)
from inventory.exceptions import StoreNotFound
from inventory.models import Inventory, Store

# Ids are bigint: a larger number from a URL cannot name a store (and would overflow the query).
_MAX_ID = 2**63 - 1


def store_exists(*, store_id: int) -> bool:
    return 0 < store_id <= _MAX_ID and Store.objects.filter(pk=store_id).exists()


def store_check_exists(*, store_id: int) -> None:
    """Raise `StoreNotFound` (404 `store_not_found`) unless the store exists."""
    if not store_exists(store_id=store_id):
        raise StoreNotFound(f"Store {store_id} does not exist.")


def store_inventory_list(*, store_id: int) -> QuerySet[Inventory, Mapping[str, Any]]:
    """The store's stock rows as plain dicts, by title (case-insensitive), ties by product id.

    One query joining product and category (what select_related would fetch), as `values()` so
    the rows are small and cheap to cache.
    """
    return (
        Inventory.objects.filter(store_id=store_id)
        .order_by(Lower("product__title"), "product_id")
        .values(
            "product_id",
            "quantity",
            product_title=F("product__title"),
            price=F("product__price"),
            category_name=F("product__category__name"),
        )
    )


@dataclass(frozen=True)
class InventoryPage:
    count: int
    rows: list[dict[str, Any]]


def store_inventory_page(*, store_id: int, page: PageRequest) -> InventoryPage:
    """One page of the store's stock, from Redis when a page of the current version is cached.

    The version is read before Postgres: a page computed from data older than a bump is stored
    under the old version, which no reader asks for any more. A cache hit costs no query; a page
    past the end is a 404 and is not cached.
    """
    version = store_inventory_version(store_id)
    cached = store_inventory_page_get(
        store_id=store_id, version=version, page=page.number, page_size=page.size
    )
    if cached is not None:
        return InventoryPage(count=cached["count"], rows=cached["rows"])

    store_check_exists(store_id=store_id)
    count, rows = page.rows(store_inventory_list(store_id=store_id))
    listing = InventoryPage(count=count, rows=rows)
    store_inventory_page_set(
        store_id=store_id,
        version=version,
        page=page.number,
        page_size=page.size,
        value={"count": listing.count, "rows": listing.rows},
    )
    return listing
