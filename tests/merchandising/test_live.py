"""A committed rule change is live within seconds, with no rebuild, through the Redis version."""

import time

import pytest

from merchandising.services import RuleFields, actor_for_key, rule_create, rule_delete
from tests.factories import CategoryFactory, ProductFactory

URL = "/api/search/products/"


def first_title(api_client) -> str:
    response = api_client.get(URL, {"q": "milk"})
    assert response.status_code == 200, response.content
    return response.json()["results"][0]["title"]


def wait_for(api_client, title: str, *, within: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        if first_title(api_client) == title:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{title!r} not first after {within} s")


@pytest.mark.django_db(transaction=True)
def test_rule_created_and_deleted_is_live_within_5_seconds(api_client, index_products, settings):
    settings.RULES_CHECK_SECONDS = 1  # production's interval
    dairy = CategoryFactory(name="Dairy", slug="dairy")
    ProductFactory(title="Milk", category=dairy)
    bread = ProductFactory(title="Bread", category=dairy)
    index_products()
    assert first_title(api_client) == "Milk"  # this process now holds the (empty) rules

    rule = rule_create(
        fields=RuleFields(name="Bread first", query="milk", pins=((bread.id, 1),)),
        actor=actor_for_key(prefix=None),
    )
    assert wait_for(api_client, "Bread", within=5) < 5

    rule_delete(rule=rule, actor=actor_for_key(prefix=None))
    assert wait_for(api_client, "Milk", within=5) < 5
