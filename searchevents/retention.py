"""Retention: client event ids are remembered only as long as a repeat could still be valid."""

from datetime import datetime

from searchevents.models import AcceptedEventId


def accepted_event_ids_purge(*, older_than: datetime, batch_size: int = 5000) -> int:
    """Forget client event ids accepted before `older_than`, in short batches; how many went."""
    purged = 0
    while True:
        ids = list(
            AcceptedEventId.objects.filter(created_at__lt=older_than)
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return purged
        purged += AcceptedEventId.objects.filter(pk__in=ids).delete()[0]
