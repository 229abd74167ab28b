"""The analytics page's clicks and conversions, from searchevents' events in the data stream:
click-through and conversion rate per query and the average click position."""

import pytest
from selenium.webdriver.common.by import By

pytestmark = pytest.mark.django_db(transaction=True)


def _search(search_id: str, query: str, results: int = 5) -> dict:
    return {"query": query, "results": results, "search_id": search_id}


def _event(kind: str, search_id: str, query: str, position: int | None = None) -> dict:
    event = {
        "endpoint": "events" if kind != "conversion" else "orders",
        "event_type": kind,
        "search_id": search_id,
        "search_kind": "search",
        "query": query,
        "product_id": 1,
    }
    if position is not None:
        event["position"] = position
    return event


def test_click_through_conversion_and_click_position_per_query(
    browser, live_server, staff_user, sign_in, event_stream, axe
):
    searches = [_search(f"s{n}", "milk") for n in range(4)] + [
        _search("t0", "tea"),
        _search("t1", "tea"),
        _search("z0", "unicorn", results=0),  # no results: not in the rates
    ]
    events = [
        _event("click", "s0", "milk", position=1),
        _event("click", "s0", "milk", position=3),  # a second click: still one search clicked
        _event("click", "s1", "milk", position=2),
        _event("conversion", "s0", "milk"),
        # A suggest's product dropdown click is not a search's.
        {**_event("click", "u9", "milk", position=1), "search_kind": "suggest"},
    ]
    event_stream(searches)
    event_stream(events)
    sign_in(staff_user)
    browser.get(live_server.url + "/console/analytics/?window=24h")

    rows = [
        [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "#engagement tbody tr")
    ]
    assert rows == [
        ["milk", "4", "50.0%", "25.0%", "2.0"],
        ["tea", "2", "0.0%", "0.0%", "—"],
    ]
    assert browser.find_element(By.ID, "total-clicks").text == "3"
    assert browser.find_element(By.ID, "avg-position").text == "2.0"
    assert browser.find_element(By.ID, "total-searches").text == "7"
    assert axe() == []
