"""Search and suggest rate limits: an atomic Redis counter per client, 429 with Retry-After."""

import threading
from collections.abc import Iterator

import pytest
from django.core.cache import cache, caches
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from tests.config.test_errors import assert_envelope

pytestmark = pytest.mark.django_db

SUGGEST = "/api/search/suggest/"
SEARCH = "/api/search/products/"


@pytest.fixture
def rates(settings):
    """Set the throttle rates for one test; the throttle reads them on every request."""

    def set_rates(search: str = "1000/min", suggest: str = "1000/min") -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"search": search, "suggest": suggest},
        }

    return set_rates


@pytest.mark.usefixtures("product_index")
@pytest.mark.parametrize(("url", "params"), [(SUGGEST, {"q": "milk"}), (SEARCH, {"q": "milk"})])
def test_a_burst_past_the_rate_gets_429_with_retry_after(api_client, rates, url, params):
    rates(search="3/min", suggest="3/min")
    statuses = [api_client.get(url, params).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = api_client.get(url, params)
    error = assert_envelope(response, 429, "throttled")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    assert error["details"] == {"retry_after": retry_after}


@pytest.mark.usefixtures("product_index")
def test_concurrent_clients_cannot_exceed_the_rate(rates):
    """Twenty simultaneous requests from one client against a rate of 5: exactly 5 get in.

    A read-then-write counter (DRF's cache throttle) lets several racing requests read the same
    count; INCR cannot."""
    rates(suggest="5/min")
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        client = APIClient()
        barrier.wait(timeout=10)
        status = client.get(SUGGEST, {"q": "milk"}).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200] * 5 + [429] * 15


@pytest.mark.usefixtures("product_index")
def test_each_client_has_its_own_budget(rates):
    rates(suggest="2/min")
    first, second = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")
    assert [first.get(SUGGEST, {"q": "milk"}).status_code for _ in range(3)] == [200, 200, 429]
    assert second.get(SUGGEST, {"q": "milk"}).status_code == 200


@pytest.mark.usefixtures("product_index")
def test_a_forged_forwarded_for_header_does_not_reset_the_budget(rates):
    rates(suggest="2/min")
    client = APIClient(REMOTE_ADDR="10.0.0.3")
    statuses = [
        client.get(SUGGEST, {"q": "milk"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


@pytest.mark.usefixtures("product_index")
def test_a_forged_forwarded_for_header_from_an_untrusted_address_is_ignored(rates, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    rates(suggest="2/min")
    client = APIClient(REMOTE_ADDR="10.0.0.4")
    statuses = [
        client.get(SUGGEST, {"q": "milk"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


@pytest.mark.usefixtures("product_index")
def test_clients_behind_a_trusted_proxy_each_have_their_own_budget(rates, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    rates(suggest="2/min")
    proxy = APIClient(REMOTE_ADDR="10.0.0.1")

    def from_client(address: str) -> int:
        return proxy.get(SUGGEST, {"q": "milk"}, HTTP_X_FORWARDED_FOR=address).status_code

    assert [from_client("203.0.113.1") for _ in range(3)] == [200, 200, 429]
    assert from_client("203.0.113.2") == 200
    # A client cannot claim another address: the proxy appends the one it saw.
    assert from_client("203.0.113.2, 203.0.113.1") == 429


@pytest.mark.usefixtures("product_index")
def test_search_and_suggest_are_counted_separately(api_client, rates):
    rates(search="2/min", suggest="2/min")
    assert [api_client.get(SUGGEST, {"q": "milk"}).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert api_client.get(SEARCH).status_code == 200


@pytest.mark.usefixtures("product_index")
def test_the_counter_always_expires_with_its_window(api_client, rates):
    rates(suggest="5/min")
    api_client.get(SUGGEST, {"q": "milk"})
    redis = get_redis_connection("default")
    key = cache.make_key("throttle:suggest:ip:127.0.0.1")
    assert redis.get(key) == b"1"
    assert 0 < redis.pttl(key) <= 60_000


@pytest.mark.usefixtures("product_index")
def test_a_lower_rate_applies_without_a_restart(api_client, rates):
    rates(suggest="100/min")
    assert api_client.get(SUGGEST, {"q": "milk"}).status_code == 200
    rates(suggest="1/min")
    assert_envelope(api_client.get(SUGGEST, {"q": "milk"}), 429, "throttled")


@pytest.fixture
def unreachable_redis(settings) -> Iterator[None]:
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}
    }
    yield
    caches["default"].close()


@pytest.mark.usefixtures("product_index")
def test_throttling_fails_open_when_redis_is_down(api_client, rates, unreachable_redis):
    rates(search="1/min", suggest="1/min")
    # Neither the throttle nor the suggest cache can reach Redis; both endpoints still answer.
    assert [api_client.get(SUGGEST, {"q": "milk"}).status_code for _ in range(3)] == [200] * 3
    assert [api_client.get(SEARCH, {"q": "milk"}).status_code for _ in range(3)] == [200] * 3
