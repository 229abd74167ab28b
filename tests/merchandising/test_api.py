"""The query rules API: CRUD, validation naming the field, scopes, warnings and the admin log."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

from merchandising.models import QueryRule
from tests.apikeys.helpers import assert_error
from tests.merchandising.conftest import staff_with

URL = "/api/search/rules/"


def rule_body(shelf, **overrides) -> dict:
    body = {
        "name": "Milk first",
        "condition": {"query": "milk", "match": "exact"},
        "consequence": {"pin": [{"product_id": shelf["milk"].id, "position": 1}]},
    }
    body.update(overrides)
    return body


@pytest.fixture
def admin(api_client, admin_key):
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {admin_key}")
    return api_client


def test_rule_created_read_listed_replaced_patched_and_deleted(admin, shelf):
    created = admin.post(URL, rule_body(shelf, stores=[shelf["store"].id]), format="json")
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["condition"] == {"query": "milk", "match": "exact"}
    assert rule["enabled"] is True
    assert rule["priority"] == 0
    assert rule["stores"] == [shelf["store"].id]
    assert rule["consequence"] == {
        "pin": [{"product_id": shelf["milk"].id, "position": 1}],
        "hide": [],
        "boost": [],
        "replace_query": None,
    }
    assert "warnings" not in rule
    detail = f"{URL}{rule['id']}/"
    assert admin.get(detail).json() == rule

    listing = admin.get(URL).json()
    assert listing["count"] == 1
    assert listing["results"][0]["id"] == rule["id"]

    replaced = admin.put(
        detail,
        {
            "name": "Bury cheese",
            "condition": {"query": "dairy", "match": "contains"},
            "consequence": {"boost": [{"filter": {"category": "dairy"}, "factor": 0.5}]},
        },
        format="json",
    )
    assert replaced.status_code == 200, replaced.content
    body = replaced.json()
    assert body["condition"]["match"] == "contains"
    assert body["consequence"]["pin"] == []
    assert body["stores"] is None
    assert body["consequence"]["boost"] == [{"filter": {"category": "dairy"}, "factor": 0.5}]

    patched = admin.patch(
        detail, {"priority": 5, "consequence": {"hide": [shelf["bread"].id]}}, format="json"
    )
    assert patched.status_code == 200, patched.content
    body = patched.json()
    assert body["priority"] == 5
    assert body["name"] == "Bury cheese"
    assert body["consequence"]["hide"] == [shelf["bread"].id]
    assert body["consequence"]["boost"] == [{"filter": {"category": "dairy"}, "factor": 0.5}]

    assert admin.delete(detail).status_code == 204
    assert_error(admin.get(detail), 404, "not_found")
    assert not QueryRule.objects.exists()


def test_list_pages_default_50_at_most_200(admin, shelf):
    QueryRule.objects.bulk_create(
        QueryRule(name=f"r{i}", query=f"q{i}", hide=[shelf["bread"].id]) for i in range(210)
    )
    assert len(admin.get(URL).json()["results"]) == 50
    page = admin.get(URL, {"page_size": 500}).json()
    assert len(page["results"]) == 200
    assert page["count"] == 210
    assert page["next"]
    assert_error(admin.get(URL, {"page": 99}), 404, "not_found")
    assert_error(admin.get(URL, {"page": "x"}), 400, "validation_error")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"condition": {"query": "  "}}, "condition"),
        ({"condition": {"query": "?!"}}, "condition"),
        ({"consequence": {}}, "consequence"),
        ({"consequence": {"pin": [{"product_id": 999999, "position": 1}]}}, "consequence"),
        ({"consequence": {"hide": [999999]}}, "consequence"),
        ({"consequence": {"pin": [{"product_id": 1, "position": 101}]}}, "consequence"),
        ({"consequence": {"pin": [{"product_id": 1, "position": 0}]}}, "consequence"),
        ({"consequence": {"boost": [{"filter": {"brand": "Nobody"}, "factor": 2}]}}, "consequence"),
        (
            {"consequence": {"boost": [{"filter": {"category": "nope"}, "factor": 2}]}},
            "consequence",
        ),
        ({"consequence": {"boost": [{"filter": {"brand": "Amul"}, "factor": 11}]}}, "consequence"),
        (
            {"consequence": {"boost": [{"filter": {"brand": "Amul"}, "factor": 0.05}]}},
            "consequence",
        ),
        ({"stores": [999999]}, "stores"),
        ({"stores": []}, "stores"),
        ({"starts_at": "2026-12-08T00:00:00Z", "ends_at": "2026-12-08T00:00:00Z"}, "ends_at"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_rule_is_400_naming_the_field_and_stores_nothing(admin, shelf, change, field):
    error = assert_error(
        admin.post(URL, rule_body(shelf, **change), format="json"), 400, "validation_error"
    )
    assert field in error["details"], error
    assert not QueryRule.objects.exists()


def test_more_than_20_pins_is_400(admin, shelf):
    pins = [{"product_id": shelf["milk"].id, "position": n} for n in range(1, 22)]
    body = rule_body(shelf, consequence={"pin": pins})
    error = assert_error(admin.post(URL, body, format="json"), 400, "validation_error")
    assert "pin" in error["details"]["consequence"]


def test_invalid_patch_changes_nothing(admin, shelf):
    rule = admin.post(URL, rule_body(shelf), format="json").json()
    response = admin.patch(
        f"{URL}{rule['id']}/",
        {"ends_at": "2020-01-01T00:00:00Z", "starts_at": "2021-01-01T00:00:00Z"},
        format="json",
    )
    assert_error(response, 400, "validation_error")
    assert admin.get(f"{URL}{rule['id']}/").json() == rule


def test_rule_whose_product_was_deleted_stays_and_warns(admin, shelf):
    rule = admin.post(
        URL,
        rule_body(
            shelf,
            consequence={
                "pin": [{"product_id": shelf["milk"].id, "position": 1}],
                "hide": [shelf["bread"].id],
            },
        ),
        format="json",
    ).json()
    milk_id = shelf["milk"].id
    shelf["milk"].delete()
    body = admin.get(f"{URL}{rule['id']}/").json()
    assert body["warnings"] == [f"Product {milk_id} no longer exists; the rule skips it."]
    assert admin.get(URL).json()["results"][0]["warnings"] == body["warnings"]
    # Other edits still go through with the deleted product in place.
    assert admin.patch(f"{URL}{rule['id']}/", {"priority": 3}, format="json").status_code == 200


def test_api_changes_reach_the_admin_log(admin, shelf):
    rule = admin.post(URL, rule_body(shelf), format="json").json()
    admin.patch(f"{URL}{rule['id']}/", {"name": "Renamed"}, format="json")
    admin.delete(f"{URL}{rule['id']}/")
    entries = list(LogEntry.objects.filter(object_id=str(rule["id"])).order_by("id"))
    assert [entry.action_flag for entry in entries] == [ADDITION, CHANGE, DELETION]
    assert entries[0].user.username.startswith("apikey:")
    assert not entries[0].user.is_active
    assert "name" in entries[1].change_message


def test_search_key_gets_403_on_every_method(api_client, search_key, shelf):
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {search_key}")
    rule = QueryRule.objects.create(name="r", query="milk", hide=[shelf["bread"].id])
    detail = f"{URL}{rule.id}/"
    for response in (
        api_client.get(URL),
        api_client.post(URL, rule_body(shelf), format="json"),
        api_client.get(detail),
        api_client.put(detail, rule_body(shelf), format="json"),
        api_client.patch(detail, {"priority": 1}, format="json"),
        api_client.delete(detail),
    ):
        assert_error(response, 403, "permission_denied")
    assert QueryRule.objects.get().priority == 0


def test_no_key_in_development_is_open_to_anonymous_callers(api_client, shelf):
    # Keys not required (development): the session permission check leaves anonymous alone.
    assert api_client.get(URL).status_code == 200
    created = api_client.post(URL, rule_body(shelf), format="json")
    assert created.status_code == 201, created.content
    assert QueryRule.objects.count() == 1


def test_no_key_in_production_is_401(api_client, keys_required, shelf):
    assert_error(api_client.get(URL), 401, "authentication_required")
    assert_error(
        api_client.post(URL, rule_body(shelf), format="json"), 401, "authentication_required"
    )


def test_staff_session_may_manage_rules_and_is_logged_by_name(
    api_client, keys_required, shelf, django_user_model
):
    staff = staff_with(django_user_model, "add_queryrule")
    api_client.force_login(staff)
    created = api_client.post(URL, rule_body(shelf), format="json")
    assert created.status_code == 201, created.content
    assert LogEntry.objects.get().user == staff


def test_signed_in_non_staff_is_refused(api_client, keys_required, shelf, django_user_model):
    api_client.force_login(django_user_model.objects.create_user("shopper", password="pw"))
    assert api_client.get(URL).status_code in {401, 403}


@pytest.mark.parametrize(
    "consequence",
    [
        {"boost": [{"factor": 2}]},
        {"boost": [{"filter": {"brand": "Amul"}}]},
        {"pin": [{"position": 1}]},
    ],
)
def test_patch_with_half_an_item_is_400(admin, shelf, consequence):
    rule = admin.post(URL, rule_body(shelf), format="json").json()
    response = admin.patch(f"{URL}{rule['id']}/", {"consequence": consequence}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert "consequence" in error["details"]
    assert admin.get(f"{URL}{rule['id']}/").json() == rule


def test_admin_key_in_production_may_manage_rules_and_search(
    api_client, admin_key, keys_required, shelf
):
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {admin_key}")
    assert api_client.post(URL, rule_body(shelf), format="json").status_code == 201
    assert api_client.get(URL).json()["count"] == 1


def test_staff_session_without_the_permissions_may_not_read_or_write_rules(
    api_client, keys_required, shelf, django_user_model
):
    api_client.force_login(staff_with(django_user_model))
    rule = QueryRule.objects.create(name="r", query="milk", hide=[shelf["bread"].id])
    detail = f"{URL}{rule.id}/"
    for response, perm in (
        (api_client.get(URL), "view_queryrule"),
        (api_client.get(detail), "view_queryrule"),
        (api_client.post(URL, rule_body(shelf), format="json"), "add_queryrule"),
        (api_client.put(detail, rule_body(shelf), format="json"), "change_queryrule"),
        (api_client.patch(detail, {"priority": 1}, format="json"), "change_queryrule"),
        (api_client.delete(detail), "delete_queryrule"),
    ):
        error = assert_error(response, 403, "permission_denied")
        assert f"`merchandising.{perm}`" in error["message"]
    assert list(QueryRule.objects.values_list("name", "query", "priority")) == [("r", "milk", 0)]
    assert LogEntry.objects.count() == 0


@pytest.mark.parametrize(
    "perms",
    [
        ["view_queryrule"],
        ["view_queryrule", "change_queryrule", "delete_queryrule"],
        ["add_queryrule", "delete_queryrule"],
    ],
)
def test_staff_session_writes_need_their_own_permission(
    api_client, keys_required, shelf, django_user_model, perms
):
    api_client.force_login(staff_with(django_user_model, *perms))
    rule = QueryRule.objects.create(name="r", query="milk", hide=[shelf["bread"].id])
    detail = f"{URL}{rule.id}/"
    assert api_client.get(URL).json()["count"] == 1  # every one of these may read
    assert api_client.get(detail).status_code == 200

    created = api_client.post(URL, rule_body(shelf), format="json")
    assert created.status_code == (201 if "add_queryrule" in perms else 403), created.content
    replaced = api_client.put(detail, rule_body(shelf, name="Replaced"), format="json")
    patched = api_client.patch(detail, {"priority": 3}, format="json")
    for response in (replaced, patched):
        assert response.status_code == (200 if "change_queryrule" in perms else 403)
    rule.refresh_from_db()
    if "change_queryrule" in perms:
        assert (rule.name, rule.priority) == ("Replaced", 3)
    else:
        assert (rule.name, rule.priority) == ("r", 0)
    deleted = api_client.delete(detail)
    assert deleted.status_code == (204 if "delete_queryrule" in perms else 403)
    assert QueryRule.objects.filter(pk=rule.pk).exists() is ("delete_queryrule" not in perms)


def test_a_staff_superuser_has_every_permission(
    api_client, keys_required, shelf, django_user_model
):
    boss = django_user_model.objects.create_user(
        "boss", password="pw", is_staff=True, is_superuser=True
    )
    api_client.force_login(boss)
    rule = api_client.post(URL, rule_body(shelf), format="json").json()
    assert (
        api_client.patch(f"{URL}{rule['id']}/", {"priority": 2}, format="json").status_code == 200
    )
    assert api_client.delete(f"{URL}{rule['id']}/").status_code == 204


def test_an_admin_key_needs_no_model_permission_even_beside_a_session(
    api_client, admin_key, keys_required, shelf, django_user_model
):
    api_client.force_login(staff_with(django_user_model))
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {admin_key}")
    assert api_client.post(URL, rule_body(shelf), format="json").status_code == 201
