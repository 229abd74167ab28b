"""Asking for a shipment after commit, at most once a second per process.

A shipment takes every pending row, so one per second carries any rate of events; the rows are
durable, and the beat sweep ships whatever a skipped or lost publish left behind. The task is
named, not imported: placing an order never loads the shipper (nor the search index under it).
"""

import time

from django.conf import settings

from config.broker import publish_on_commit
from config.celery import app

SHIP_TASK = "searchevents.ship"

_last_publish = 0.0


def ship_soon() -> None:
    """Publish `search_events_ship` after the current transaction commits, unless this process
    did within SEARCH_EVENTS_SHIP_EVERY_SECONDS."""
    global _last_publish
    now = time.monotonic()
    if now - _last_publish < settings.SEARCH_EVENTS_SHIP_EVERY_SECONDS:
        return
    _last_publish = now
    publish_on_commit(app.signature(SHIP_TASK))
