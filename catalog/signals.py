"""`products_bulk_changed`: what bulk writes to the catalog send, since they fire no model signals.

Send it with `sender=Product` and the keyword argument `product_ids` (an iterable of ints: every
product created, changed or deleted), INSIDE the transaction that made the changes, from any path
that skips `save()`/`delete()`: `bulk_create`, `bulk_update`, `QuerySet.update()`/`.delete()`, raw
SQL, `seed_data`. Receivers (the search index outbox) write their own rows in that transaction and
call nothing external, so a rollback undoes them too.

    with transaction.atomic():
        Product.objects.filter(category=old).update(category=new)
        products_bulk_changed.send(sender=Product, product_ids=ids)
"""

from django.dispatch import Signal

products_bulk_changed = Signal()
