"""Stock writes: locked all-or-nothing deduction and quantity setting, each announcing changes."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Product
from config.errors import InvalidParameters
from inventory.exceptions import StoreNotFound
from inventory.models import Inventory, Store
from inventory.signals import stock_changes_announce


@dataclass(frozen=True)
class Shortage:
    """A line that could not be served: what the store has (0 when it has no row)."""

    quantity_available: int
    stocked: bool


@dataclass(frozen=True)
class StockDeduction:
    """The outcome of `inventory_deduct`: everything deducted, or nothing and why."""

    deducted: bool
    shortages: dict[int, Shortage] = field(default_factory=dict)
    # Products whose quantity reached 0 (availability flipped); empty when nothing was deducted.
    flipped_product_ids: list[int] = field(default_factory=list)


_LOCK_FIELDS = ["id", "store_id", "product_id", "quantity", "updated_at"]  # as selected below
_LOCK_SQL = (
    "SELECT id, store_id, product_id, quantity, updated_at FROM inventory_inventory"
    " WHERE store_id = %s AND product_id = ANY(%s) ORDER BY product_id FOR UPDATE"
)
_DEDUCT_SQL = "UPDATE inventory_inventory SET quantity = %s, updated_at = %s WHERE id = %s"


def inventory_lock(*, store_id: int, product_ids: list[int]) -> dict[int, Inventory]:
    """Lock the store's rows for these products, in ascending product id order.

    The fixed order is what makes concurrent multi-line orders deadlock-free: two transactions
    can only ever wait for each other in the same direction. Must run inside a transaction.
    """
    # Fixed SQL rather than a queryset: on a hot product every order waits for this lock, and
    # building the query each time cost more CPU than the statement's round trip.
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, [store_id, sorted(set(product_ids))])
        rows = [Inventory.from_db(connection.alias, _LOCK_FIELDS, row) for row in cursor]
    return {row.product_id: row for row in rows}


@transaction.atomic(savepoint=False)
def inventory_deduct(*, store_id: int, quantities: Mapping[int, int]) -> StockDeduction:
    """Deduct `{product_id: quantity}` at a store, all or nothing, from values read under lock.

    Joins the caller's transaction (no savepoint: it would cost two more round trips while the
    row locks are held), so the locks last until the caller commits.
    """
    rows = inventory_lock(store_id=store_id, product_ids=list(quantities))
    shortages = {}
    for product_id, wanted in quantities.items():
        row = rows.get(product_id)
        if row is None:
            shortages[product_id] = Shortage(quantity_available=0, stocked=False)
        elif row.quantity < wanted:
            shortages[product_id] = Shortage(quantity_available=row.quantity, stocked=True)
    if shortages:
        return StockDeduction(deducted=False, shortages=shortages)

    now = timezone.now()
    changes = {}
    # One UPDATE per row, in lock order, with the value read under the lock, as fixed SQL. For
    # the handful of lines an order has this is cheaper than bulk_update's CASE statement, whose
    # compilation alone costs more than a round trip -- time during which the rows stay locked.
    with connection.cursor() as cursor:
        for product_id in sorted(quantities):
            row = rows[product_id]
            changes[product_id] = (row.quantity, row.quantity - quantities[product_id])
            row.quantity -= quantities[product_id]
            row.updated_at = now
            cursor.execute(_DEDUCT_SQL, [row.quantity, now, row.pk])
    # update() sends no model signals: the change is announced here.
    stock_changes_announce(store_id=store_id, changes=changes)
    return StockDeduction(
        deducted=True,
        flipped_product_ids=sorted(pid for pid, (_, new) in changes.items() if new == 0),
    )


@transaction.atomic
def inventory_set_quantities(*, store_id: int, quantities: Mapping[int, int]) -> list[Inventory]:
    """Set the store's quantity of each product (creating missing rows), announcing the changes.

    For restocks, imports and corrections; the store's listing cache is bumped after commit.
    """
    bad = [
        pid
        for pid, q in quantities.items()
        if isinstance(q, bool) or not isinstance(q, int) or q < 0
    ]
    if bad:
        raise InvalidParameters(
            "Quantities must be whole numbers of 0 or more.",
            details={"quantities": {str(pid): ["Must be 0 or more."] for pid in bad}},
        )
    if not Store.objects.filter(pk=store_id).exists():
        raise StoreNotFound(f"Store {store_id} does not exist.")
    product_ids = sorted(quantities)
    known = set(Product.objects.filter(pk__in=product_ids).values_list("pk", flat=True))
    unknown = [pid for pid in product_ids if pid not in known]
    if unknown:
        raise InvalidParameters(
            "Unknown product.",
            details={"quantities": {str(pid): ["Unknown product."] for pid in unknown}},
        )

    rows = inventory_lock(store_id=store_id, product_ids=product_ids)
    now = timezone.now()
    changes: dict[int, tuple[int, int]] = {}
    changed, created = [], []
    for product_id in product_ids:
        quantity = quantities[product_id]
        row = rows.get(product_id)
        if row is None:
            row = Inventory(store_id=store_id, product_id=product_id, quantity=quantity)
            created.append(row)
            changes[product_id] = (0, quantity)
        elif row.quantity != quantity:
            changes[product_id] = (row.quantity, quantity)
            row.quantity = quantity
            row.updated_at = now
            changed.append(row)
        rows[product_id] = row
    if changed:
        Inventory.objects.bulk_update(changed, ["quantity", "updated_at"])
    if created:
        # A concurrent creator of the same row makes this fail on the unique constraint (and
        # roll back) rather than silently overwrite: rows cannot be locked before they exist.
        Inventory.objects.bulk_create(created)
    stock_changes_announce(store_id=store_id, changes=changes)
    return [rows[pid] for pid in product_ids]


def inventory_set_quantity(*, store_id: int, product_id: int, quantity: int) -> Inventory:
    """Set one product's quantity at a store; see `inventory_set_quantities`."""
    (row,) = inventory_set_quantities(store_id=store_id, quantities={product_id: quantity})
    return row
