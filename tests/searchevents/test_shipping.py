"""Shipping survives Elasticsearch outages: rows stay in Postgres until the node acknowledged
them, and a retried shipment is stored once."""

import pytest
from elastic_transport import ConnectionError as TransportConnectionError

from searchevents import shipping
from searchevents.models import PendingSearchEvent
from searchevents.shipping import events_ship
from searchevents.tasks import search_events_ship, search_events_sweep
from tests.searchevents.conftest import click, post_events, searched

pytestmark = pytest.mark.django_db

DEAD_URL = "http://127.0.0.1:1"


def test_events_wait_out_an_outage_and_then_all_arrive_once(
    storefront, catalog, stream_events, settings
):
    body = searched(storefront, q="milk")
    settings.SEARCH_EVENTS_URL = DEAD_URL
    for index in range(len(body["results"])):
        assert post_events(storefront, [click(body, index)])[1]["accepted"] == 1
    with pytest.raises(TransportConnectionError):
        events_ship()
    assert search_events_sweep() is None  # the beat sweep logs and waits for the next tick
    with pytest.raises(TransportConnectionError):
        search_events_ship.apply(throw=True, retries=6)  # the task's last retry gives up
    assert PendingSearchEvent.objects.count() == len(body["results"])

    settings.SEARCH_EVENTS_URL = ""
    assert search_events_sweep()["shipped"] == len(body["results"])
    assert not PendingSearchEvent.objects.exists()
    shipped = stream_events()
    assert sorted(event["product_id"] for event in shipped) == sorted(
        hit["id"] for hit in body["results"]
    )


def test_a_shipment_whose_answer_was_lost_is_not_stored_twice(
    storefront, catalog, stream, stream_events
):
    body = searched(storefront, q="milk")
    post_events(storefront, [click(body, 0), click(body, 1)])
    rows = list(PendingSearchEvent.objects.all())
    # The node wrote them, but the worker died before deleting the rows.
    client = shipping._client()
    shipping._ensure_stream(client, stream)
    done, failed = shipping._send(client, stream, rows)
    assert (len(done), failed) == (2, [])
    assert PendingSearchEvent.objects.count() == 2

    assert events_ship().shipped == 2  # refused as duplicates (409), which counts as delivered
    assert not PendingSearchEvent.objects.exists()
    assert len(stream_events()) == 2


def test_a_document_the_node_refuses_stays_pending_and_counts_its_attempts(
    storefront, catalog, stream, monkeypatch
):
    body = searched(storefront, q="milk")
    post_events(storefront, [click(body, 0)])
    document = shipping.event_document

    def unmapped(row):
        return {**document(row), "not_in_the_mapping": 1}  # strict mapping: refused

    monkeypatch.setattr(shipping, "event_document", unmapped)
    result = events_ship()
    assert (result.shipped, result.failed) == (0, 1)
    assert PendingSearchEvent.objects.get().attempts == 1
