"""Retention: client event ids are remembered only as long as a repeat could still be valid."""

from datetime import datetime

from config.retention import created_before_purge
from searchevents.models import AcceptedEventId


def accepted_event_ids_purge(*, older_than: datetime, batch_size: int = 5000) -> int:
    """Forget client event ids accepted before `older_than`, in short batches; how many went."""
    return created_before_purge(AcceptedEventId, older_than=older_than, batch_size=batch_size)
