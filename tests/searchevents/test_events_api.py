"""POST /api/search/events/ in production mode with keys: what is accepted, stored and shipped,
and every way a forged, foreign, stale or oversized event is refused without storing anything."""

import json
import time

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from searchevents.models import PendingSearchEvent
from searchevents.query_ids import Kind, query_id_issue
from searchevents.shipping import events_ship
from tests.apikeys.helpers import assert_error
from tests.searchevents.conftest import (
    EVENTS_URL,
    SUGGEST_URL,
    caller_of,
    click,
    post_events,
    searched,
)
from tests.test_drills import closed_redis_cache

pytestmark = pytest.mark.django_db


def _edited(token: str) -> str:
    """The token with its last character changed."""
    return token[:-1] + ("x" if token[-1] != "x" else "y")


def test_search_and_suggest_responses_carry_a_query_id(storefront, catalog):
    body = searched(storefront, q="milk")
    assert body["query_id"].startswith("q1.s")
    suggest = storefront.get(SUGGEST_URL, {"q": "mil"})
    assert suggest.status_code == 200
    assert suggest.json()["query_id"].startswith("q1.u")
    # A zero-result search has one too: it is a search like any other.
    assert searched(storefront, q="zzzqqq")["query_id"].startswith("q1.s")


def test_a_click_on_a_shown_hit_is_accepted_stored_and_shipped_once(
    storefront, catalog, stream_events
):
    body = searched(storefront, q="milk")
    status, answer = post_events(storefront, [click(body, 1, event_id="c-1")])
    assert (status, answer) == (202, {"accepted": 1, "rejected": []})
    [row] = PendingSearchEvent.objects.all()
    assert (row.type, row.product_id, row.position, row.query) == (
        "click",
        body["results"][1]["id"],
        2,
        "milk",
    )
    assert events_ship().shipped == 1
    assert events_ship().shipped == 0
    assert not PendingSearchEvent.objects.exists()
    [event] = stream_events()
    assert event["event_type"] == "click"
    assert event["search_kind"] == "search"
    assert event["product_id"] == body["results"][1]["id"]
    assert event["position"] == 2
    assert event["query"] == "milk"
    assert event["api_key"] == "storefront"


def test_positions_are_absolute_across_pages(storefront, catalog):
    page2 = searched(storefront, q="milk", page=2, page_size=2)
    status, answer = post_events(storefront, [click(page2, 0, page_start=3)])
    assert (status, answer) == (202, {"accepted": 1, "rejected": []})
    status, answer = post_events(storefront, [click(page2, 0, page_start=1)])
    assert answer == {"accepted": 0, "rejected": [{"index": 0, "code": "position_mismatch"}]}


def test_each_bad_event_is_rejected_with_its_code_and_the_good_ones_kept(
    storefront, other_storefront, catalog
):
    body = searched(storefront, q="milk")
    theirs = searched(other_storefront, q="milk")
    shown = {hit["id"] for hit in body["results"]}
    not_shown = next(p.id for p in catalog.products.values() if p.id not in shown)
    forged = _edited(body["query_id"])
    caller = caller_of(storefront)
    expired = query_id_issue(caller=caller, kind=Kind.SEARCH, issued_at=int(time.time()) - 90_000)
    events = [
        click(body, 0),  # 0: good
        {**click(body, 0), "query_id": forged},  # 1
        click(theirs, 0),  # 2: another key's search
        {**click(body, 0), "query_id": expired.token},  # 3
        {**click(body, 0), "product_id": not_shown},  # 4
        {"type": "click", "query_id": body["query_id"], "product_id": body["results"][0]["id"]},
        {"type": "view", "query_id": body["query_id"], "product_id": 1},  # 6: unknown type
        "not an event",  # 7
        {"type": "add_to_cart", "query_id": body["query_id"], "product_id": not_shown},  # 8: good
        {**click(body, 0), "product_id": True},  # 9
        {**click(body, 0), "position": "1"},  # 10
        {**click(body, 0), "event_id": "x" * 65},  # 11
        {"type": "click", "product_id": body["results"][0]["id"], "position": 1},  # 12
    ]
    status, answer = post_events(storefront, events)
    assert status == 202
    assert answer == {
        "accepted": 2,
        "rejected": [
            {"index": 1, "code": "query_id_invalid"},
            {"index": 2, "code": "query_id_foreign"},
            {"index": 3, "code": "query_id_expired"},
            {"index": 4, "code": "product_not_in_results"},
            {"index": 5, "code": "invalid_event"},  # a click without its position
            {"index": 6, "code": "invalid_event"},
            {"index": 7, "code": "invalid_event"},
            {"index": 9, "code": "invalid_event"},
            {"index": 10, "code": "invalid_event"},
            {"index": 11, "code": "invalid_event"},
            {"index": 12, "code": "invalid_event"},
        ],
    }
    assert sorted(PendingSearchEvent.objects.values_list("type", flat=True)) == [
        "add_to_cart",
        "click",
    ]


def test_a_suggest_without_products_shows_none_to_click(storefront, catalog):
    suggest = storefront.get(SUGGEST_URL, {"q": "mil"}).json()
    event = {
        "type": "click",
        "query_id": suggest["query_id"],
        "product_id": catalog.products["Milk"].id,
        "position": 1,
    }
    assert post_events(storefront, [event])[1]["rejected"] == [
        {"index": 0, "code": "product_not_in_results"}
    ]


def test_a_repeated_event_id_is_accepted_once_and_ignored_after(storefront, catalog, stream_events):
    body = searched(storefront, q="milk")
    event = click(body, 0, event_id="click-42")
    assert post_events(storefront, [event, event]) == (202, {"accepted": 1, "rejected": []})
    events_ship()  # shipped and deleted here: the id is still remembered
    assert post_events(storefront, [event]) == (202, {"accepted": 0, "rejected": []})
    assert PendingSearchEvent.objects.count() == 0
    assert len(stream_events()) == 1


def test_the_same_event_id_from_two_keys_is_two_events(storefront, other_storefront, catalog):
    mine = searched(storefront, q="milk")
    theirs = searched(other_storefront, q="milk")
    assert post_events(storefront, [click(mine, 0, event_id="e1")])[1]["accepted"] == 1
    assert post_events(other_storefront, [click(theirs, 0, event_id="e1")])[1]["accepted"] == 1


def test_a_search_key_is_needed(catalog, keys_required, make_key):
    assert_error(
        APIClient().post(EVENTS_URL, {"events": []}, format="json"), 401, "authentication_required"
    )
    _, orders_only = make_key("orders:write")
    client = APIClient(headers={"Authorization": f"Api-Key {orders_only}"})
    assert_error(client.post(EVENTS_URL, {"events": []}, format="json"), 403, "permission_denied")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("{not json", "malformed_request"),
        ("[]", "validation_error"),
        ('{"events": {}}', "validation_error"),
        ('{"events": []}', "validation_error"),
        ("{}", "validation_error"),
        ('{"events": "x"}', "validation_error"),
    ],
)
def test_a_malformed_body_is_400_and_stores_nothing(storefront, payload, code):
    response = storefront.post(EVENTS_URL, payload, content_type="application/json")
    assert_error(response, 400, code)
    assert not PendingSearchEvent.objects.exists()


def test_more_than_100_events_is_400(storefront, catalog):
    body = searched(storefront, q="milk")
    response = storefront.post(EVENTS_URL, {"events": [click(body)] * 101}, format="json")
    assert_error(response, 400, "validation_error")
    assert not PendingSearchEvent.objects.exists()


def test_a_body_over_64_kb_is_413_and_stores_nothing(storefront, catalog):
    body = searched(storefront, q="milk")
    events = [click(body, 0, event_id=f"{i:064d}") for i in range(100)]
    padded = {"events": events, "padding": "x" * 60_000}
    raw = json.dumps(padded)
    assert len(raw) > 64 * 1024
    response = storefront.post(EVENTS_URL, raw, content_type="application/json")
    assert_error(response, 413, "request_too_large")
    assert not PendingSearchEvent.objects.exists()


def test_10000_events_from_one_key_are_throttled_not_stored(storefront, catalog, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "search": "1000/min",
            "search_events": "1200/min",
        },
    }
    body = searched(storefront, q="milk")
    statuses = []
    for _ in range(100):  # 100 batches of 100: 10,000 events
        response = storefront.post(EVENTS_URL, {"events": [click(body)] * 100}, format="json")
        statuses.append(response.status_code)
    assert statuses.count(202) == 12
    assert statuses.count(429) == 88
    assert PendingSearchEvent.objects.count() == 1200
    throttled = storefront.post(EVENTS_URL, {"events": [click(body)]}, format="json")
    assert_error(throttled, 429, "throttled")
    assert int(throttled.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    "event",
    [
        {"type": "click", "query_id": {"a": 1}, "product_id": 1, "position": 1},
        {"type": ["click"], "query_id": "q1", "product_id": 1},
        {"type": "click", "query_id": "q1." + "A" * 60, "product_id": 2**70, "position": 2**70},
        {"type": "click", "query_id": "q1.s.zz.tag.mac", "product_id": 1, "position": 1},
        {"type": "click", "query_id": "\x00", "product_id": 1, "position": 1},
    ],
)
def test_garbage_events_are_rejected_never_a_500(storefront, event):
    status, answer = post_events(storefront, [event])
    assert status == 202
    assert answer["accepted"] == 0
    assert len(answer["rejected"]) == 1


def test_an_add_to_cart_for_a_search_whose_hits_are_gone_is_stored_without_its_query(
    storefront, catalog
):
    # A valid token whose hit record was never kept (evicted, or Redis was down): only clicks
    # need the record; other events are stored with what is known.
    token = query_id_issue(caller=caller_of(storefront), kind=Kind.SEARCH).token
    milk = catalog.products["Milk"].id
    events = [
        {"type": "add_to_cart", "query_id": token, "product_id": milk},
        {"type": "click", "query_id": token, "product_id": milk, "position": 1},
    ]
    assert post_events(storefront, events) == (
        202,
        {"accepted": 1, "rejected": [{"index": 1, "code": "product_not_in_results"}]},
    )
    row = PendingSearchEvent.objects.get()
    assert (row.type, row.query, row.store_id, row.position) == ("add_to_cart", "", None, None)


def test_a_search_at_a_store_gives_its_events_that_store(storefront, catalog):
    north = catalog.stores["north"]
    body = searched(storefront, q="milk", store_id=north.id)
    assert post_events(storefront, [click(body, 0)])[1]["accepted"] == 1
    assert PendingSearchEvent.objects.get().store_id == north.id


def test_with_redis_down_events_are_still_stored_and_never_a_500(storefront, catalog):
    body = searched(storefront, q="milk")
    with override_settings(CACHES=closed_redis_cache()):
        # The throttle fails open and clicks go unchecked, as the throttles do: events are
        # business data, and the token itself is still verified.
        status, answer = post_events(
            storefront,
            [click(body, 0), {**click(body, 0), "query_id": _edited(body["query_id"])}],
        )
    assert status == 202
    assert answer == {"accepted": 1, "rejected": [{"index": 1, "code": "query_id_invalid"}]}
    assert PendingSearchEvent.objects.get().query == ""


def test_a_click_on_a_suggested_product_is_checked_against_the_dropdown(
    storefront, catalog, stream_events
):
    suggest = storefront.get(SUGGEST_URL, {"q": "mil", "products": 3}).json()
    products = suggest["products"]
    assert products
    shown = {"type": "click", "query_id": suggest["query_id"], "product_id": products[0]["id"]}
    not_shown = next(
        p.id for p in catalog.products.values() if p.id not in {x["id"] for x in products}
    )
    events = [
        {**shown, "position": 1},
        {**shown, "product_id": not_shown, "position": 1},
    ]
    assert post_events(storefront, events) == (
        202,
        {"accepted": 1, "rejected": [{"index": 1, "code": "product_not_in_results"}]},
    )
    events_ship()
    [event] = stream_events()
    assert (event["search_kind"], event["product_id"], event["query"]) == (
        "suggest",
        products[0]["id"],
        "mil",
    )
