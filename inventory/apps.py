"""App config for inventory."""

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_save


class InventoryConfig(AppConfig):
    name = "inventory"

    def ready(self) -> None:
        # Wiring only: single-row saves and deletes (the admin) announce stock changes and bump
        # the store's listing cache, like the services do for their bulk writes.
        from inventory import signals
        from inventory.models import Inventory, Store

        pre_save.connect(signals.inventory_pre_save, sender=Inventory, dispatch_uid="inv-pre-save")
        post_save.connect(
            signals.inventory_post_save, sender=Inventory, dispatch_uid="inv-post-save"
        )
        post_delete.connect(
            signals.inventory_post_delete, sender=Inventory, dispatch_uid="inv-post-delete"
        )
        post_delete.connect(
            signals.store_post_delete, sender=Store, dispatch_uid="store-post-delete"
        )
