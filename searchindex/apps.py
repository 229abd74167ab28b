"""App config for the search index."""

from django.apps import AppConfig


class SearchindexConfig(AppConfig):
    name = "searchindex"

    def ready(self) -> None:
        from searchindex.cache import connect_cache_invalidation

        connect_cache_invalidation()  # suggest cache: bump the catalog version on catalog writes

        # Index outbox: model saves come through OutboxSignalProcessor (ELASTICSEARCH_DSL_SIGNAL_
        # PROCESSOR); stock flips and bulk writes arrive on their apps' own signals.
        from catalog.signals import products_bulk_changed
        from inventory.signals import stock_changed
        from searchindex.signals import on_products_bulk_changed, on_stock_changed

        stock_changed.connect(on_stock_changed, dispatch_uid="outbox-stock-changed")
        products_bulk_changed.connect(
            on_products_bulk_changed, dispatch_uid="outbox-products-bulk-changed"
        )

        # Synonym rows: swapped into the live index after each committed change.
        from django.db.models.signals import post_delete, post_save

        from searchindex.models import Synonym
        from searchindex.signals import on_synonym_changed

        post_save.connect(on_synonym_changed, sender=Synonym, dispatch_uid="synonyms-save")
        post_delete.connect(on_synonym_changed, sender=Synonym, dispatch_uid="synonyms-delete")
