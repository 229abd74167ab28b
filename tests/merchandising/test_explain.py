"""`explain=true`: plain-words reasons per hit and `rules_applied`, for search:admin only."""

import pytest

from merchandising.cache import rules_forget
from merchandising.models import QueryRule
from tests.apikeys.helpers import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/search/products/"


def explained(client, **params) -> dict:
    response = client.get(URL, {"explain": "true", **params})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def admin(api_client, admin_key):
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {admin_key}")
    return api_client


def test_explain_says_which_clauses_and_words_matched(admin, catalog):
    body = explained(admin, q="milk")
    milk = body["results"][0]
    assert milk["title"] == "Milk"
    explain = milk["explain"]
    assert "exact_title" in explain["matched_clauses"]
    assert "the whole title is the query" in explain["summary"]
    assert "milk" in explain["matched_words"]["title"]
    assert explain["score"] == pytest.approx(
        sum(p["value"] for p in explain["score_parts"]), rel=1e-3
    )
    assert explain["rules"] == []
    assert body["rules_applied"] == []


def test_explain_names_typo_corrections(admin, catalog):
    body = explained(admin, q="mlik")
    explain = body["results"][0]["explain"]
    assert explain["matched_clauses"] == ["title_typo"]
    assert {"typed": "mlik", "read_as": "milk"} in explain["typo_corrections"]


def test_explain_names_the_rules_that_moved_a_hit(admin, catalog):
    QueryRule.objects.create(
        name="Coffee on top",
        query="milk",
        pins=[{"product_id": catalog.products["Coffee Beans"].id, "position": 1}],
    )
    QueryRule.objects.create(
        name="Britannia week",
        query="milk",
        match="contains",
        boosts=[{"filter": {"brand": "Britannia"}, "factor": 2.0}],
    )
    rules_forget()
    body = explained(admin, q="milk")
    rows = {row["title"]: row for row in body["results"]}
    assert rows["Coffee Beans"]["explain"]["rules"] == ['pinned at 1 by rule "Coffee on top"']
    assert rows["Milk Bread"]["explain"]["rules"] == [
        'boosted x2 by rule "Britannia week" (brand "Britannia")'
    ]
    assert rows["Milk"]["explain"]["rules"] == []
    coffee_id = catalog.products["Coffee Beans"].id
    assert [(r["name"], r["effects"]) for r in body["rules_applied"]] == [
        ("Coffee on top", [f"pinned product {coffee_id} at 1"]),
        ("Britannia week", ['boosted brand "Britannia" x2']),
    ]


def test_without_explain_the_response_is_unchanged(admin, catalog):
    body = admin.get(URL, {"q": "milk"}).json()
    assert "rules_applied" not in body
    assert all("explain" not in row for row in body["results"])
    unexplained = admin.get(URL, {"q": "milk", "explain": "false"}).json()
    # Every search gets its own query_id (searchevents); the rest is the same.
    assert unexplained.pop("query_id") != body.pop("query_id")
    assert unexplained == body


def test_search_key_and_anonymous_callers_get_403(api_client, search_key, catalog):
    assert_error(api_client.get(URL, {"q": "milk", "explain": "true"}), 403, "permission_denied")
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {search_key}")
    assert_error(api_client.get(URL, {"q": "milk", "explain": "true"}), 403, "permission_denied")
    assert api_client.get(URL, {"q": "milk"}).status_code == 200


def test_signed_in_staff_may_explain(api_client, catalog, django_user_model, keys_required):
    staff = django_user_model.objects.create_user("merch", password="pw", is_staff=True)
    api_client.force_login(staff)
    assert "explain" in explained(api_client, q="milk")["results"][0]
    api_client.force_login(django_user_model.objects.create_user("shopper", password="pw"))
    response = api_client.get(URL, {"q": "milk", "explain": "true"})
    assert response.status_code in {401, 403}


def test_explain_other_values_are_400(admin, catalog):
    assert_error(admin.get(URL, {"q": "milk", "explain": "yes"}), 400, "validation_error")
