"""`stock_changed`, sent inside the transaction that changes a store's stock, and its admin wiring.

`stock_changed` is sent with `sender=Inventory` and keyword arguments:

- `store_id` (int): the store whose stock changed;
- `product_ids` (list[int], ascending): every product whose quantity at that store changed;
- `flipped_product_ids` (list[int], ascending): the subset whose availability crossed zero
  (quantity went from > 0 to 0 or from 0 / no row to > 0); only these change the search index.

It is sent INSIDE the transaction that made the change, before commit, so a receiver can write
its own rows (an index outbox) atomically with the change: if the transaction rolls back, so do
they. Receivers must therefore not call external services; they write rows or register
`transaction.on_commit` callbacks. Every path that changes stock sends it: `inventory.services`
(`inventory_deduct`, `inventory_set_quantity`, `inventory_set_quantities`) and model saves and
deletes (the admin), through the receivers below, which `InventoryConfig.ready()` connects.
`QuerySet.update()`, `bulk_create()` and `bulk_update()` on Inventory outside those services send
nothing: use the services.
"""

from collections.abc import Mapping
from typing import Any

from django.dispatch import Signal

from inventory.cache import store_inventory_version_bump_on_commit
from inventory.models import Inventory

stock_changed = Signal()


def stock_changes_announce(*, store_id: int, changes: Mapping[int, tuple[int, int]]) -> None:
    """Send `stock_changed` for `{product_id: (old_quantity, new_quantity)}` and bump the store's
    listing cache after commit. Call inside the transaction that made the changes."""
    product_ids = sorted(pid for pid, (old, new) in changes.items() if old != new)
    if not product_ids:
        return
    flipped = sorted(pid for pid in product_ids if (changes[pid][0] > 0) != (changes[pid][1] > 0))
    stock_changed.send(
        sender=Inventory, store_id=store_id, product_ids=product_ids, flipped_product_ids=flipped
    )
    store_inventory_version_bump_on_commit(store_id)


# Receivers for saves and deletes of single rows (the admin and its inlines, the shell, fixtures),
# connected in InventoryConfig.ready(). The row as stored is read in pre_save because by post_save
# the admin form has already overwritten the instance's attributes.
_STORED_ATTR = "_stock_row_before_save"


def inventory_pre_save(sender: Any, instance: Inventory, **kwargs: Any) -> None:
    stored = None
    if instance.pk is not None:
        stored = (
            Inventory.objects.filter(pk=instance.pk)
            .values_list("store_id", "product_id", "quantity")
            .first()
        )
    setattr(instance, _STORED_ATTR, stored)


def inventory_post_save(sender: Any, instance: Inventory, **kwargs: Any) -> None:
    stored = getattr(instance, _STORED_ATTR, None)
    if stored is not None and stored[:2] != (instance.store_id, instance.product_id):
        # The row was moved to another store or product: the old pair lost its stock.
        old_store_id, old_product_id, old_quantity = stored
        stock_changes_announce(store_id=old_store_id, changes={old_product_id: (old_quantity, 0)})
        stored = None
    old_quantity = stored[2] if stored is not None else 0
    stock_changes_announce(
        store_id=instance.store_id,
        changes={instance.product_id: (old_quantity, instance.quantity)},
    )


def inventory_post_delete(sender: Any, instance: Inventory, **kwargs: Any) -> None:
    stock_changes_announce(
        store_id=instance.store_id, changes={instance.product_id: (instance.quantity, 0)}
    )


def store_post_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    # A deleted store with no stock rows sends no Inventory deletes; its cached (empty) pages
    # must still stop answering so the listing turns into a 404.
    store_inventory_version_bump_on_commit(instance.pk)
