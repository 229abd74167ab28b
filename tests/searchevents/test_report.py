"""search_report's figures from events: click-through, add-to-cart and conversion rates, average
click position and "searched, never clicked", per query and overall, from real searches."""

import io

import pytest
from django.core.management import call_command

from searchevents.shipping import events_ship
from searchindex import analytics
from tests.searchevents.conftest import SUGGEST_URL, click, post_events, searched

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(settings, stream):
    settings.SEARCH_ANALYTICS_ENABLED = True
    analytics.writer_reset()
    yield stream
    analytics.writer_reset()


def _report(*args: str) -> str:
    out = io.StringIO()
    call_command("search_report", *args, stdout=out)
    return out.getvalue()


def _section(text: str, title: str) -> list[list[str]]:
    body = text.split(f"{title}\n")[1].split("\n\n")[0].splitlines()
    return [line.split() for line in body]


def test_rates_per_query_and_overall_count_searches_with_results_only(
    storefront, catalog, recorded, es
):
    milk = [searched(storefront, q="milk") for _ in range(3)]
    tea = [searched(storefront, q="tea") for _ in range(2)]
    assert all(body["count"] > 0 for body in milk + tea)
    assert searched(storefront, q="zzzqqq")["count"] == 0  # not a search for the rates
    suggest = storefront.get(SUGGEST_URL, {"q": "mil"}).json()  # nor is a suggest

    events = [
        click(milk[0], 0),
        click(milk[0], 1),
        {"type": "add_to_cart", "query_id": milk[1]["query_id"], "product_id": 1},
        {"type": "conversion", "query_id": milk[0]["query_id"], "product_id": 1},
        {"type": "add_to_cart", "query_id": suggest["query_id"], "product_id": 1},
    ]
    assert post_events(storefront, events)[1] == {"accepted": 5, "rejected": []}
    assert events_ship().shipped == 5
    analytics.flush()
    es.indices.refresh(index=recorded)

    text = _report()
    assert (
        "searches 5, click-through 20.0%, add-to-cart 20.0%, conversion 20.0%,"
        " average click position 1.5, searched, never clicked 4"
    ) in text
    rows = _section(
        text, "Clicks, add-to-carts and conversions (over searches with at least one result)"
    )
    assert rows[3:] == [
        ["milk", "3", "33.3%", "33.3%", "33.3%", "1.5", "2"],
        ["tea", "2", "0.0%", "0.0%", "0.0%", "-", "2"],
    ]
    assert _section(text, "Searched, never clicked")[2:] == [["tea", "2"]]
    took = text.split("Elasticsearch took (ms)\n")[1].splitlines()[2:]
    assert [line.split()[0] for line in took] == ["search", "suggest"]


def test_a_rate_over_no_searches_is_empty_not_zero(recorded):
    text = _report("--since", "30m")
    assert (
        "searches 0, click-through -, add-to-cart -, conversion -, average click position -,"
        " searched, never clicked 0"
    ) in text
