"""The query rule admin: the API's validation, and saves that reach the search."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry

from merchandising.models import QueryRule

pytestmark = pytest.mark.django_db

ADD = "/admin/merchandising/queryrule/add/"


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


def form(**overrides) -> dict:
    data = {
        "name": "Milk first",
        "enabled": "on",
        "priority": "0",
        "query": "milk",
        "match": "exact",
        "stores": "",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "pins": "[]",
        "hide": "",
        "boosts": "[]",
        "replace_query": "",
    }
    data.update(overrides)
    return data


def test_admin_refuses_what_the_api_refuses(staff_client, shelf):
    response = staff_client.post(ADD, form(pins='[{"product_id": 999999, "position": 1}]'))
    assert response.status_code == 200  # the form again, with its errors
    assert "No such product: 999999." in response.content.decode()
    response = staff_client.post(ADD, form(query="?!", hide=str(shelf["bread"].id)))
    assert "The query must hold at least one word." in response.content.decode()
    response = staff_client.post(ADD, form())
    assert "it has no consequence" in response.content.decode()
    assert not QueryRule.objects.exists()


def test_admin_saves_a_valid_rule_and_logs_it(staff_client, shelf):
    pins = f'[{{"product_id": {shelf["milk"].id}, "position": 1}}]'
    response = staff_client.post(ADD, form(pins=pins, query="  Milk  "))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = QueryRule.objects.get()
    assert rule.query == "Milk"
    assert rule.pins == [{"product_id": shelf["milk"].id, "position": 1}]
    assert LogEntry.objects.get(object_id=str(rule.id)).action_flag == ADDITION
