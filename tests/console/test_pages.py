"""The console in a real browser (headless Chromium), used as a person would: sign in, search,
filter, page, open "why", read the analytics and the index's state, edit synonyms. Every page
is checked with axe-core (no serious or critical violation)."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from catalog.models import Product
from searchindex.models import Synonym
from tests.console.conftest import PASSWORD, XSS, wait

pytestmark = pytest.mark.django_db(transaction=True)


def _results_status(browser) -> str:
    wait(browser, lambda b: b.find_element(By.ID, "status").text.endswith("results."))
    return browser.find_element(By.ID, "status").text


def _hits(browser) -> list:
    return browser.find_elements(By.CSS_SELECTOR, "#results li.hit")


def _no_alert(browser) -> None:
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018 - reading it is the check


def test_staff_signs_in_with_the_admin_login_and_lands_on_the_console(
    browser, live_server, staff_user
):
    browser.get(live_server.url + "/console/")
    wait(browser, lambda b: "/admin/login/" in b.current_url)
    assert "next=/console/" in browser.current_url
    browser.find_element(By.ID, "id_username").send_keys("merchandiser")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD, Keys.ENTER)
    wait(browser, lambda b: b.current_url == live_server.url + "/console/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Preview"


def test_anonymous_and_non_staff_are_refused(browser, live_server, plain_user, sign_in):
    browser.get(live_server.url + "/console/analytics/")
    wait(browser, lambda b: "/admin/login/" in b.current_url)
    assert "Preview" not in browser.page_source
    sign_in(plain_user)
    for path in ["/console/", "/console/analytics/", "/console/inspect/"]:
        browser.get(live_server.url + path)
        assert "permission_denied" in browser.find_element(By.TAG_NAME, "body").text
        assert not browser.find_elements(By.ID, "main")


def test_a_price_facet_selects_exactly_the_products_it_counted(
    browser, live_server, staff_user, sign_in, console_catalog
):
    # The milks cost 40.00 to 65.00; "under 50" counts 40.00-49.99, not the milk at 50.00.
    sign_in(staff_user)
    browser.get(live_server.url + "/console/?q=milk")
    wait(browser, lambda b: _results_status(b) == "26 results.")
    under = next(
        b for b in browser.find_elements(By.CSS_SELECTOR, "button.facet") if "under" in b.text
    )
    assert under.text.split()[-1] == "10"
    under.click()
    wait(browser, lambda b: b.find_element(By.ID, "status").text == "10 results.")
    prices = {float(h.find_element(By.CSS_SELECTOR, ".price").text) for h in _hits(browser)}
    assert max(prices) < 50
    assert "max_price=49.99" in browser.current_url


def test_search_suggest_facet_why_and_paging_by_keyboard(
    browser, live_server, staff_user, sign_in, console_catalog, axe, screenshot
):
    sign_in(staff_user)
    browser.get(live_server.url + "/console/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("milk")
    wait(browser, lambda b: b.find_element(By.ID, "suggestions").is_displayed())
    options = browser.find_elements(By.CSS_SELECTOR, "#suggestions [role=option]")
    assert any("milk" in option.text.lower() for option in options)
    # Product hits too (suggest's `products=N`), drawn after the titles.
    products = browser.find_elements(By.CSS_SELECTOR, "#suggestions .suggestion.product")
    assert products
    assert all("milk" in p.text.lower() for p in products)
    box.send_keys(Keys.ARROW_DOWN)
    assert box.get_attribute("aria-activedescendant") == "sugg-0"
    box.send_keys(Keys.ESCAPE)
    assert not browser.find_element(By.ID, "suggestions").is_displayed()
    box.send_keys(Keys.ENTER)

    assert _results_status(browser) == "26 results."
    hits = _hits(browser)
    assert len(hits) == 20
    assert hits[0].find_element(By.CSS_SELECTOR, ".position").text == "#1"
    assert hits[0].find_element(By.CSS_SELECTOR, ".title").text.endswith("milk 1")
    assert hits[0].find_element(By.CSS_SELECTOR, ".brand").text in {"Amul", "Oatly"}

    # Paging, from the keyboard: focus the button and press Enter (no pointer).
    browser.find_element(By.ID, "page-next").send_keys(Keys.ENTER)
    wait(browser, lambda b: len(_hits(b)) == 6)
    assert _hits(browser)[0].find_element(By.CSS_SELECTOR, ".position").text == "#21"
    assert "Page 2 of 2" in browser.find_element(By.ID, "pager").text
    browser.find_element(By.ID, "page-prev").send_keys(Keys.ENTER)
    wait(browser, lambda b: len(_hits(b)) == 20)
    assert browser.switch_to.active_element.get_attribute("id") == "results-heading"

    # A facet is a filter: the brand Oatly holds the 9 oat milks.
    oatly = next(
        b for b in browser.find_elements(By.CSS_SELECTOR, "button.facet") if "Oatly" in b.text
    )
    assert oatly.text.split()[-1] == "9"
    oatly.click()
    wait(browser, lambda b: b.find_element(By.ID, "status").text == "9 results.")
    assert {h.find_element(By.CSS_SELECTOR, ".brand").text for h in _hits(browser)} == {"Oatly"}
    pressed = browser.find_elements(By.CSS_SELECTOR, "button.facet[aria-pressed=true]")
    assert [b.text.split()[0] for b in pressed] == ["Oatly"]
    assert "brand=Oatly" in browser.current_url

    # "Why" opens in place.
    first = _hits(browser)[0]
    why = first.find_element(By.CSS_SELECTOR, ".why-toggle")
    why.send_keys(Keys.ENTER)
    assert why.get_attribute("aria-expanded") == "true"
    assert first.find_element(By.CSS_SELECTOR, ".why").is_displayed()
    assert first.find_element(By.CSS_SELECTOR, ".why").text.strip()
    # In plain words: the API's sentences, then the matched words and score parts.
    sentences = first.find_elements(By.CSS_SELECTOR, ".why ul.summary li")
    assert sentences
    assert all(s.text for s in sentences)
    assert "matched words" in first.find_element(By.CSS_SELECTOR, ".why").text

    assert axe() == []
    screenshot("preview")


def test_store_picker_shows_stock_at_that_store(
    browser, live_server, staff_user, sign_in, console_catalog
):
    north = console_catalog.stores["north"]
    sign_in(staff_user)
    browser.get(f"{live_server.url}/console/?q=cow+milk+2&store_id={north.id}")
    _results_status(browser)
    stocks = {
        h.find_element(By.CSS_SELECTOR, ".title").text: h.find_element(
            By.CSS_SELECTOR, ".stock"
        ).text
        for h in _hits(browser)
    }
    product = console_catalog.products["Cow milk 2"]  # n = 1: quantity 1 at north
    assert stocks[product.title] == "1 in stock at this store"
    assert stocks["Cow milk 5"] == "Out of stock at this store"  # n = 4: quantity 0


def test_markup_in_titles_and_queries_renders_as_text(
    browser, live_server, staff_user, sign_in, console_catalog, event_stream
):
    sign_in(staff_user)
    browser.get(live_server.url + "/console/")
    browser.find_element(By.ID, "q").send_keys(XSS, Keys.ENTER)
    _results_status(browser)
    titles = [h.find_element(By.CSS_SELECTOR, ".title").text for h in _hits(browser)]
    assert XSS in titles
    assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    _no_alert(browser)

    event_stream([{"query": XSS.casefold(), "results": 0}])
    browser.get(live_server.url + "/console/analytics/?window=24h")
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#zero-queries td")]
    assert XSS.casefold() in cells
    assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    _no_alert(browser)


SEEDED = [
    # (query, searches, results each, how long ago)
    ("milk", 12, 5, timedelta(minutes=5)),
    ("bread", 6, 3, timedelta(minutes=5)),
    ("unicorn", 4, 0, timedelta(minutes=5)),
    ("dragonfruit", 2, 0, timedelta(minutes=5)),
    ("", 1, 29, timedelta(minutes=5)),  # the catalogue listed, no text: not a "query"
    ("old milk", 5, 2, timedelta(days=3)),
    ("ancient", 2, 0, timedelta(days=40)),
]


def _seed(event_stream) -> None:
    events = [
        {"query": query, "results": results, "ago": ago}
        for query, count, results, ago in SEEDED
        for _ in range(count)
    ]
    # Suggest requests are not searches.
    events += [{"endpoint": "suggest", "query": "mil", "results": 3}] * 3
    event_stream(events)


def _expected(window: timedelta) -> tuple[int, int, list[tuple[str, int]], list[tuple[str, int]]]:
    inside = [row for row in SEEDED if row[3] < window]
    searches = sum(count for _, count, _, _ in inside)
    zero = sum(count for _, count, results, _ in inside if results == 0)
    top = sorted(((q, c) for q, c, _, _ in inside if q), key=lambda row: -row[1])
    zero_top = [(q, c) for q, c, r, _ in inside if q and r == 0]
    return searches, zero, top, zero_top


def _chart_total(browser, chart: str) -> int:
    marks = browser.find_elements(By.CSS_SELECTOR, f"#chart-{chart} svg .mark")
    return sum(int(mark.get_attribute("data-value")) for mark in marks)


@pytest.mark.parametrize(("window", "span"), [("24h", timedelta(hours=24)), ("7d", timedelta(7))])
def test_analytics_draws_every_chart_with_the_seeded_totals(
    browser, live_server, staff_user, sign_in, event_stream, axe, screenshot, window, span
):
    _seed(event_stream)
    searches, zero, top, zero_top = _expected(span)
    sign_in(staff_user)
    browser.get(live_server.url + "/console/analytics/")
    # The window is chosen with a link, from the keyboard.
    browser.find_element(By.CSS_SELECTOR, f'.windows a[href="?window={window}"]').send_keys(
        Keys.ENTER
    )
    wait(browser, lambda b: f"window={window}" in b.current_url)

    assert browser.find_element(By.ID, "total-searches").text == str(searches)
    assert browser.find_element(By.ID, "total-zero").text == str(zero)
    assert _chart_total(browser, "searches") == searches
    rates = [
        m.get_attribute("data-value")
        for m in browser.find_elements(By.CSS_SELECTOR, "#chart-zero-rate svg circle.mark")
    ]
    assert rates  # drawn
    if window == "24h":  # every event of the window sits in one hour
        assert rates == [f"{zero / searches:.1%}"]
    assert _chart_total(browser, "top") == sum(c for _, c in top)
    assert _chart_total(browser, "zero-top") == sum(c for _, c in zero_top)
    rows = [
        tuple(td.text for td in row.find_elements(By.TAG_NAME, "td")[:2])
        for row in browser.find_elements(By.CSS_SELECTOR, "#top-queries tbody tr")
    ]
    assert rows == [(q, str(c)) for q, c in top]
    zero_rows = browser.find_elements(By.CSS_SELECTOR, "#zero-queries tbody tr")
    assert [r.find_element(By.TAG_NAME, "td").text for r in zero_rows] == [q for q, _ in zero_top]
    # Each zero-result query links to its preview and to a new synonym for it.
    links = zero_rows[0].find_elements(By.TAG_NAME, "a")
    assert links[0].get_attribute("href").endswith(f"/console/?q={zero_top[0][0]}")
    assert links[1].get_attribute("href").endswith(f"/console/synonyms/?terms={zero_top[0][0]}")
    assert axe() == []
    if window == "24h":
        screenshot("analytics")


def test_analytics_before_any_event_is_empty_not_broken(
    browser, live_server, staff_user, sign_in, event_stream, axe
):
    sign_in(staff_user)
    browser.get(live_server.url + "/console/analytics/?window=30d")
    assert browser.find_element(By.ID, "total-searches").text == "0"
    assert browser.find_element(By.ID, "zero-rate").text == "—"
    assert axe() == []


def test_inspect_shows_the_index_and_marks_a_drifted_product(
    browser, live_server, staff_user, sign_in, console_catalog, axe, screenshot
):
    sign_in(staff_user)
    browser.get(live_server.url + "/console/inspect/")
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#index-table tbody td")]
    assert cells[1] == str(Product.objects.count())  # documents
    assert browser.find_element(By.ID, "outbox-waiting").text == "0"
    assert browser.find_element(By.ID, "lag").text.startswith("0.0 s")

    product = console_catalog.products["White bread"]
    # Behind the outbox's back (no signal): Postgres and the index now disagree on the title.
    Product.objects.filter(pk=product.pk).update(title="Sourdough bread")
    field = browser.find_element(By.ID, "product")
    field.send_keys(str(product.pk), Keys.ENTER)
    wait(browser, lambda b: b.find_elements(By.ID, "drift-verdict"))
    assert "Drift" in browser.find_element(By.ID, "drift-verdict").text
    differing = [
        row.find_element(By.TAG_NAME, "th").text
        for row in browser.find_elements(By.CSS_SELECTOR, "#drift-table tr.differs")
    ]
    assert "title" in differing
    assert "price" not in differing
    assert axe() == []
    screenshot("inspect")


def test_synonyms_are_added_and_edited_from_the_keyboard(
    browser, live_server, staff_user, sign_in, axe, screenshot
):
    sign_in(staff_user)
    browser.get(live_server.url + "/console/synonyms/?terms=fizzy")
    terms = browser.find_element(By.ID, "id_terms")
    assert terms.get_attribute("value") == "fizzy"
    terms.send_keys(", soda, pop", Keys.ENTER)
    wait(browser, lambda b: "Saved." in b.find_element(By.CLASS_NAME, "messages").text)
    synonym = Synonym.objects.get(terms="fizzy, soda, pop")
    assert LogEntry.objects.filter(object_id=str(synonym.pk)).count() == 1

    browser.find_element(By.CSS_SELECTOR, f'a[href="?edit={synonym.pk}"]').send_keys(Keys.ENTER)
    terms = wait(browser, lambda b: b.find_element(By.ID, "id_terms"))
    terms.clear()
    terms.send_keys("fizzy, soda", Keys.ENTER)
    wait(browser, lambda b: "Saved." in b.find_element(By.CLASS_NAME, "messages").text)
    synonym.refresh_from_db()
    assert synonym.terms == "fizzy, soda"
    assert LogEntry.objects.filter(object_id=str(synonym.pk)).count() == 2
    assert axe() == []
    screenshot("synonyms")


def test_rules_page_passes_axe(browser, live_server, staff_user, sign_in, axe):
    sign_in(staff_user)
    browser.get(live_server.url + "/console/rules/?query=unicorn")
    assert browser.find_element(By.ID, "rule-query").get_attribute("value") == "unicorn"
    assert axe() == []
