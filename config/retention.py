"""Retention: rows older than what is kept, deleted in short batches."""

from datetime import datetime

from django.db.models import Model


def created_before_purge(model: type[Model], *, older_than: datetime, batch_size: int) -> int:
    """Delete the rows of `model` created before `older_than`, oldest first; how many went.

    In batches, each its own short transaction, so a large backlog never holds locks for long.
    """
    purged = 0
    while True:
        ids = list(
            model._default_manager.filter(created_at__lt=older_than)
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return purged
        purged += model._default_manager.filter(pk__in=ids).delete()[0]
