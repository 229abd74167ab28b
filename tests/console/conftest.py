"""Fixtures for the search console: headless Chromium (Debian's, through Selenium) on a live
server, signed-in staff, a small catalogue behind the test index, seeded search events and
axe-core."""

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from elasticsearch import helpers
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from searchindex import analytics
from searchindex.analytics import stream_emptied
from tests.factories import CategoryFactory, InventoryFactory, ProductFactory, StoreFactory
from tests.searchindex import conftest as search_fixtures

# The product index's fixtures, shared with the search tests.
es = search_fixtures.es
product_index = search_fixtures.product_index
index_products = search_fixtures.index_products

AXE_CORE_VERSION = "4.14.1"  # scripts/test_tools.sh fetches this version
AXE_CORE_JS = Path(
    os.environ.get(
        "AXE_CORE_JS",
        Path(os.environ.get("AISLE_CACHE", "/var/cache/aisle"))
        / f"axe-core-{AXE_CORE_VERSION}"
        / "axe.min.js",
    )
)
# Without these Chromium keeps calling home (updates, sync, QUIC probes) on a closed network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1200,900",
]
XSS = "<img src=x onerror=alert(1)>"
PASSWORD = "console-test-password-1"
SCREENSHOTS = os.environ.get("CONSOLE_SCREENSHOTS")  # a directory: tests save page screenshots


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `bash scripts/test_tools.sh` (make test does)")
    return path


@pytest.fixture(scope="session")
def chromium() -> Iterator[WebDriver]:
    """One headless Chromium for the session, with a fresh profile directory."""
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not download drivers
    os.environ.setdefault("SE_AVOID_STATS", "true")
    profile = tempfile.mkdtemp(prefix="aisle-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium")
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(_binary("chromedriver")))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chromium: WebDriver, live_server) -> Iterator[WebDriver]:
    """The session's browser, signed out and on a blank page after each test."""
    yield chromium
    chromium.delete_all_cookies()
    chromium.get("about:blank")


def wait(browser: WebDriver, condition: Callable[[WebDriver], object], timeout: float = 10):
    """Until `condition` holds; an element the page has just drawn again is looked up again."""
    return WebDriverWait(
        browser, timeout, ignored_exceptions=[StaleElementReferenceException]
    ).until(condition)


@pytest.fixture
def staff_user(transactional_db):
    return get_user_model().objects.create_user(
        "merchandiser", "m@example.com", PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture
def plain_user(transactional_db):
    return get_user_model().objects.create_user("shopper", "s@example.com", PASSWORD)


@pytest.fixture
def sign_in(browser: WebDriver, live_server) -> Callable:
    """Give the browser a session for `user` (the login form itself has a test of its own)."""

    def signed_in(user) -> None:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        browser.get(live_server.url + "/healthz")
        session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        browser.add_cookie({"name": django_settings.SESSION_COOKIE_NAME, "value": session})

    return signed_in


@pytest.fixture
def axe(browser: WebDriver) -> Callable[[], list[dict]]:
    """Run axe-core on the page in the browser; returns the serious and critical violations."""
    if not AXE_CORE_JS.is_file():
        pytest.fail(f"axe-core missing at {AXE_CORE_JS}: run `bash scripts/test_tools.sh`")
    source = AXE_CORE_JS.read_text()

    def check() -> list[dict]:
        browser.execute_script(source)
        result = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document).then((r) => done(r.violations), (e) => done([{id: 'axe-error',"
            " impact: 'critical', help: String(e), nodes: []}]));"
        )
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "targets": [node["target"] for node in v["nodes"]][:5],
            }
            for v in result
            if v["impact"] in {"serious", "critical"}
        ]

    return check


@pytest.fixture
def screenshot(browser: WebDriver) -> Callable[[str], None]:
    """Save a screenshot of the page as docs/console/<name>.png when CONSOLE_SCREENSHOTS is set."""

    def save(name: str) -> None:
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(Path(SCREENSHOTS) / f"{name}.png"))

    return save


@dataclass
class ConsoleCatalog:
    stores: dict
    products: dict  # title -> Product
    milk_ids: list[int]


@pytest.fixture
def console_catalog(transactional_db, index_products) -> ConsoleCatalog:
    """26 milks (two brands, two categories: more than a page), two breads, a product whose
    title is markup, two stores; indexed."""
    dairy = CategoryFactory(name="Dairy", slug="dairy")
    vegan = CategoryFactory(name="Plant milk", slug="plant-milk")
    bakery = CategoryFactory(name="Bakery", slug="bakery")
    north, south = StoreFactory(name="North store"), StoreFactory(name="South store")
    products = {}
    milk_ids = []
    for n in range(26):
        plant = n % 3 == 0
        product = ProductFactory(
            title=f"{'Oat' if plant else 'Cow'} milk {n + 1}",
            description="Fresh milk",
            category=vegan if plant else dairy,
            brand="Oatly" if plant else "Amul",
            price=Decimal("40.00") + n,
        )
        products[product.title] = product
        milk_ids.append(product.id)
        InventoryFactory(store=north, product=product, quantity=n % 4)
    for title in ["White bread", "Brown bread", XSS]:
        products[title] = ProductFactory(
            title=title, category=bakery, brand="Bakers", price=Decimal("30.00")
        )
        InventoryFactory(store=south, product=products[title], quantity=5)
    index_products()
    return ConsoleCatalog({"north": north, "south": south}, products, milk_ids)


@pytest.fixture
def event_stream(settings, es) -> Iterator[Callable[[list[dict]], None]]:
    """An empty events data stream kept per test database (one per run would pile up); yields
    a function that writes events into it (each a partial event: defaults fill the rest)."""
    es = es.options(request_timeout=60)
    name = f"test-console-{connection.settings_dict['NAME'].replace('_', '-')}-search-events"
    settings.SEARCH_ANALYTICS_DATA_STREAM = name
    analytics.writer_reset()
    # The template first: the rollover's new write index takes today's mapping.
    es.indices.put_index_template(name=name, **analytics.index_template(name))
    stream_emptied(es, name)

    def write(events: list[dict]) -> None:
        now = datetime.now(UTC)
        docs = []
        for event in events:
            doc = dict(event)
            ago = doc.pop("ago", timedelta(minutes=5))
            if doc.setdefault("endpoint", "search") in {"search", "suggest"}:
                doc = {"query": "", "filters": {}, "results": 1, "page": 1, **doc}
                doc["zero_results"] = doc["results"] == 0
            doc["@timestamp"] = (now - ago).isoformat()
            docs.append({"_op_type": "create", "_index": name, "_source": doc})
        helpers.bulk(es, docs, refresh="wait_for")

    yield write
    analytics.writer_reset()
