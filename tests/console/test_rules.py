"""Pinning and hiding from the preview, and the rules page, in a real browser, against the rules
API (`/api/search/rules/`): what the page shows and what the API then serves."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from merchandising.models import QueryRule
from tests.console.conftest import wait
from tests.console.test_pages import _hits, _results_status
from tests.merchandising.conftest import staff_with

pytestmark = pytest.mark.django_db(transaction=True)

RULES = "/api/search/rules/"
SEARCH = "/api/search/products/"


def _staff_api(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _cells(browser, rule_id: int) -> list[str]:
    row = browser.find_element(By.ID, f"rule-{rule_id}")
    return [td.text for td in row.find_elements(By.TAG_NAME, "td")]


def _api_ids(q: str, **params) -> list[int]:
    body = Client().get(SEARCH, {"q": q, "page_size": 100, **params}).json()
    return [hit["id"] for hit in body["results"]]


def test_pin_from_the_keyboard_puts_the_product_first_on_the_page_and_in_the_api(
    browser, live_server, staff_user, sign_in, console_catalog, axe
):
    sign_in(staff_user)
    browser.get(live_server.url + "/console/?q=milk")
    _results_status(browser)
    last = _hits(browser)[-1]
    product_id = last.get_attribute("data-product-id")
    title = last.find_element(By.CSS_SELECTOR, ".title").text
    assert last.find_element(By.CSS_SELECTOR, ".pin-position").get_attribute("value") == "1"
    last.find_element(By.CSS_SELECTOR, "button.pin").send_keys(Keys.ENTER)

    wait(browser, lambda b: _hits(b)[0].get_attribute("data-product-id") == product_id)
    assert browser.switch_to.active_element.text == title  # focus follows the pinned result
    assert "Pinned" in browser.find_element(By.ID, "status").text
    applied = browser.find_element(By.CSS_SELECTOR, "#summary .rules-applied").text
    assert f"Pin #{product_id} at 1" in applied
    why = _hits(browser)[0].find_element(By.CSS_SELECTOR, ".why-toggle")
    why.send_keys(Keys.ENTER)
    assert "pinned at 1" in _hits(browser)[0].find_element(By.CSS_SELECTOR, ".why").text
    wait(browser, lambda b: _api_ids("milk")[0] == int(product_id), timeout=6)
    rules = _staff_api(staff_user).get(RULES).json()["results"]
    assert [r["consequence"]["pin"] for r in rules] == [
        [{"product_id": int(product_id), "position": 1}]
    ]
    assert rules[0]["condition"] == {"query": "milk", "match": "exact"}
    assert rules[0]["stores"] is None
    assert axe() == []


def test_hide_removes_the_product_from_the_page_and_the_api(
    browser, live_server, staff_user, sign_in, console_catalog
):
    sign_in(staff_user)
    browser.get(live_server.url + "/console/?q=milk")
    assert _results_status(browser) == "26 results."
    first = _hits(browser)[0]
    product_id = first.get_attribute("data-product-id")
    first.find_element(By.CSS_SELECTOR, "button.hide").click()
    wait(browser, lambda b: b.find_element(By.ID, "status").text.endswith("25 results."))
    assert product_id not in [h.get_attribute("data-product-id") for h in _hits(browser)]
    wait(browser, lambda b: int(product_id) not in _api_ids("milk"), timeout=6)


def test_pin_for_one_store_only_leaves_other_searches_alone(
    browser, live_server, staff_user, sign_in, console_catalog
):
    north = console_catalog.stores["north"]
    sign_in(staff_user)
    browser.get(f"{live_server.url}/console/?q=milk&store_id={north.id}")
    _results_status(browser)
    browser.find_element(By.ID, "scope-store").click()
    last = _hits(browser)[-1]
    product_id = int(last.get_attribute("data-product-id"))
    last.find_element(By.CSS_SELECTOR, "button.pin").click()
    wait(browser, lambda b: _hits(b)[0].get_attribute("data-product-id") == str(product_id))
    rule = _staff_api(staff_user).get(RULES).json()["results"][0]
    assert rule["stores"] == [north.id]
    wait(browser, lambda b: _api_ids("milk", store_id=north.id)[0] == product_id, timeout=6)
    assert _api_ids("milk")[0] != product_id


def test_a_refused_rule_is_explained_and_nothing_is_stored(
    browser, live_server, staff_user, sign_in, console_catalog
):
    sign_in(staff_user)
    browser.get(live_server.url + "/console/?q=milk")
    _results_status(browser)
    hit = _hits(browser)[0]
    box = hit.find_element(By.CSS_SELECTOR, ".pin-position")
    box.clear()
    box.send_keys("0")
    hit.find_element(By.CSS_SELECTOR, "button.pin").click()
    assert "1 to 100" in browser.find_element(By.ID, "status").text
    assert _staff_api(staff_user).get(RULES).json()["count"] == 0


def test_rules_page_disables_and_deletes_a_rule(
    browser, live_server, staff_user, sign_in, console_catalog, axe, screenshot
):
    product = console_catalog.products["White bread"]
    api = _staff_api(staff_user)
    created = api.post(
        RULES,
        {
            "name": "Bread first",
            "enabled": True,
            "priority": 0,
            "condition": {"query": "bread", "match": "contains"},
            "stores": None,
            "starts_at": None,
            "ends_at": None,
            "consequence": {
                "pin": [{"product_id": product.id, "position": 1}],
                "hide": [],
                "boost": [],
                "replace_query": None,
            },
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    sign_in(staff_user)
    browser.get(live_server.url + "/console/rules/")
    row = wait(browser, lambda b: b.find_element(By.ID, f"rule-{rule_id}"))
    assert f"pin #{product.id} at 1" in row.text
    assert axe() == []
    screenshot("rules")
    row.find_element(By.XPATH, ".//button[starts-with(., 'Disable')]").send_keys(Keys.ENTER)
    wait(browser, lambda b: "Disabled rule" in b.find_element(By.ID, "status").text)
    # The list is drawn again from the API: the rule's row now says it is off.
    wait(browser, lambda b: _cells(b, rule_id)[6] == "no")
    assert api.get(f"{RULES}{rule_id}/").json()["enabled"] is False
    row = browser.find_element(By.ID, f"rule-{rule_id}")
    delete = row.find_element(By.XPATH, ".//button[starts-with(., 'Delete')]")
    delete.click()
    assert delete.text == "Confirm delete"
    delete.click()
    wait(browser, lambda b: not b.find_elements(By.ID, f"rule-{rule_id}"))
    assert api.get(f"{RULES}{rule_id}/").status_code == 404


def test_rule_writes_with_a_session_need_the_csrf_token(staff_user, console_catalog):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(RULES, {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert _staff_api(staff_user).get(RULES).json()["count"] == 0
    assert get_user_model().objects.count() == 1


def test_a_rule_is_created_and_edited_with_the_form(
    browser, live_server, staff_user, sign_in, console_catalog
):
    white, brown = console_catalog.products["White bread"], console_catalog.products["Brown bread"]
    sign_in(staff_user)
    browser.get(live_server.url + "/console/rules/?query=bread")
    assert browser.find_element(By.ID, "rule-name").get_attribute("value") == "Rule for “bread”"
    browser.find_element(By.ID, "rule-pins").send_keys(f"{brown.id}@1")
    browser.find_element(By.ID, "rule-hides").send_keys(str(white.id), Keys.ENTER)
    wait(browser, lambda b: "Created rule" in b.find_element(By.ID, "status").text)
    api = _staff_api(staff_user)
    [rule] = api.get(RULES).json()["results"]
    assert rule["consequence"]["pin"] == [{"product_id": brown.id, "position": 1}]
    assert rule["consequence"]["hide"] == [white.id]

    row = wait(browser, lambda b: b.find_element(By.ID, f"rule-{rule['id']}"))
    row.find_element(By.XPATH, ".//button[starts-with(., 'Edit')]").send_keys(Keys.ENTER)
    name = browser.find_element(By.ID, "rule-name")
    assert browser.switch_to.active_element == name
    name.clear()
    name.send_keys("Brown bread first")
    browser.find_element(By.ID, "rule-hides").clear()
    browser.find_element(By.ID, "rule-save").send_keys(Keys.ENTER)
    wait(browser, lambda b: "Saved rule" in b.find_element(By.ID, "status").text)
    edited = api.get(f"{RULES}{rule['id']}/").json()
    assert edited["name"] == "Brown bread first"
    assert edited["consequence"]["hide"] == []
    assert edited["consequence"]["pin"] == [{"product_id": brown.id, "position": 1}]
    wait(browser, lambda b: "Brown bread first" in _cells(b, rule["id"])[1])


def test_a_refused_rule_form_names_the_field_and_stores_nothing(
    browser, live_server, staff_user, sign_in, console_catalog
):
    sign_in(staff_user)
    browser.get(live_server.url + "/console/rules/?query=bread")
    browser.find_element(By.ID, "rule-pins").send_keys("999999@1", Keys.ENTER)
    wait(browser, lambda b: "Not saved" in b.find_element(By.ID, "status").text)
    assert "consequence" in browser.find_element(By.ID, "status").text
    assert _staff_api(staff_user).get(RULES).json()["count"] == 0


def test_the_rules_page_follows_next_past_the_first_200_rules(
    browser, live_server, staff_user, sign_in
):
    QueryRule.objects.bulk_create(
        QueryRule(name=f"Rule {n}", query=f"q{n}", hide=[n + 1]) for n in range(205)
    )
    last = QueryRule.objects.latest("id")
    sign_in(staff_user)
    browser.get(live_server.url + "/console/rules/")
    wait(browser, lambda b: b.find_elements(By.ID, f"rule-{last.id}"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#rules-table tbody tr")) == 205


def test_a_merchandiser_without_the_permissions_is_told_and_nothing_changes(
    browser, live_server, sign_in, console_catalog, django_user_model
):
    reader = staff_with(django_user_model, "view_queryrule", username="reader")
    rule = QueryRule.objects.create(name="Hide bread", query="bread", hide=[1])
    sign_in(reader)
    browser.get(live_server.url + "/console/rules/")
    row = wait(browser, lambda b: b.find_element(By.ID, f"rule-{rule.id}"))
    row.find_element(By.XPATH, ".//button[starts-with(., 'Disable')]").click()
    wait(browser, lambda b: "Not changed" in b.find_element(By.ID, "status").text)
    assert "`merchandising.change_queryrule`" in browser.find_element(By.ID, "status").text

    browser.get(live_server.url + "/console/?q=milk")
    _results_status(browser)
    _hits(browser)[0].find_element(By.CSS_SELECTOR, "button.pin").click()
    wait(browser, lambda b: "Not saved" in b.find_element(By.ID, "status").text)
    assert "`merchandising.add_queryrule`" in browser.find_element(By.ID, "status").text
    assert list(QueryRule.objects.values_list("id", "enabled")) == [(rule.id, True)]
