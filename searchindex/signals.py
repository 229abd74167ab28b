"""The outbox signal processor: changes write pending-index rows in their own transaction.

Nothing here talks to Elasticsearch or the broker. Each receiver writes rows through
`outbox_record` and arranges one drain task for after the commit; a Synonym change arranges
one synonym swap the same way.

- Product saves and deletes → that product; Category saves → its products (a rename changes them).
- Inventory: only `inventory.signals.stock_changed`'s `flipped_product_ids` (availability crossed
  zero); an ordinary sale leaves the document as it is, so it writes nothing.
- Bulk writes: `catalog.signals.products_bulk_changed(product_ids=...)`.
"""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django_elasticsearch_dsl.signals import BaseSignalProcessor

from catalog.models import Category, Product
from searchindex.outbox import CATEGORY, PRODUCT, outbox_record
from searchindex.tasks import drain_after_commit, synonyms_push_after_commit


def _record(*, model: str, pks: Any) -> None:
    if outbox_record(model=model, pks=pks):
        drain_after_commit()


class OutboxSignalProcessor(BaseSignalProcessor):
    """django-elasticsearch-dsl's processor hook, recording changes instead of indexing them."""

    def setup(self) -> None:
        post_save.connect(self.handle_save, sender=Product, dispatch_uid="outbox-product-save")
        post_delete.connect(
            self.handle_delete, sender=Product, dispatch_uid="outbox-product-delete"
        )
        post_save.connect(self.handle_save, sender=Category, dispatch_uid="outbox-category-save")
        # A category with products cannot be deleted (PROTECT), so its delete changes no document.

    def teardown(self) -> None:
        post_save.disconnect(sender=Product, dispatch_uid="outbox-product-save")
        post_delete.disconnect(sender=Product, dispatch_uid="outbox-product-delete")
        post_save.disconnect(sender=Category, dispatch_uid="outbox-category-save")

    def handle_save(self, sender: Any, instance: Any, **kwargs: Any) -> None:
        if sender is Category:
            if not kwargs.get("created"):  # a new category has no products yet
                _record(model=CATEGORY, pks=[instance.pk])
        else:
            _record(model=PRODUCT, pks=[instance.pk])

    def handle_delete(self, sender: Any, instance: Any, **kwargs: Any) -> None:
        _record(model=PRODUCT, pks=[instance.pk])

    def handle_pre_delete(self, sender: Any, instance: Any, **kwargs: Any) -> None:
        """Not connected: the drain reads relations when it runs, not before the delete."""

    def handle_m2m_changed(self, sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
        """Not connected: the product document has no many-to-many fields."""


def on_stock_changed(sender: Any, *, flipped_product_ids: list[int], **kwargs: Any) -> None:
    """Availability flips change `in_stock_store_ids` and suggest contexts; other sales don't."""
    _record(model=PRODUCT, pks=flipped_product_ids)


def on_products_bulk_changed(sender: Any, *, product_ids: Any, **kwargs: Any) -> None:
    _record(model=PRODUCT, pks=product_ids)


def on_synonym_changed(**kwargs: Any) -> None:
    """post_save/post_delete of a Synonym: swap the rules in once the change commits."""
    synonyms_push_after_commit()
