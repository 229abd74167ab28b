"""Client event ids are forgotten after SEARCH_EVENTS_ID_RETENTION_HOURS, oldest first, in
batches; younger ones stay, so a repeat inside the window is still ignored."""

from datetime import timedelta

import pytest
from django.utils import timezone

from searchevents.models import AcceptedEventId
from searchevents.retention import accepted_event_ids_purge
from searchevents.tasks import purge_accepted_event_ids

pytestmark = pytest.mark.django_db


def _accepted(doc_id: str, hours_ago: float) -> None:
    AcceptedEventId.objects.create(
        doc_id=doc_id, created_at=timezone.now() - timedelta(hours=hours_ago)
    )


def test_the_task_forgets_ids_past_the_retention_and_keeps_younger_ones(settings):
    settings.SEARCH_EVENTS_ID_RETENTION_HOURS = 48
    for n in range(5):
        _accepted(f"old-{n}", hours_ago=49 + n)
    _accepted("young", hours_ago=47)

    assert purge_accepted_event_ids() == 5
    assert list(AcceptedEventId.objects.values_list("doc_id", flat=True)) == ["young"]
    assert purge_accepted_event_ids() == 0


def test_the_purge_works_in_batches_and_counts_every_row():
    for n in range(7):
        _accepted(f"old-{n}", hours_ago=100 + n)

    cutoff = timezone.now() - timedelta(hours=50)
    assert accepted_event_ids_purge(older_than=cutoff, batch_size=3) == 7
    assert not AcceptedEventId.objects.exists()
