"""Who the client is: REMOTE_ADDR, or X-Forwarded-For as written by a trusted proxy only."""

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import RequestFactory

from config.clientip import client_ip

ROOT = Path(__file__).resolve().parents[2]


def request_from(remote: str, forwarded: str | None = None):
    headers: dict[str, Any] = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return RequestFactory().get("/healthz", REMOTE_ADDR=remote, **headers)


@pytest.fixture
def proxies(settings):
    def trust(*entries: str) -> None:
        settings.TRUSTED_PROXIES = list(entries)

    return trust


def test_without_trusted_proxies_the_header_is_ignored(proxies):
    proxies()
    assert client_ip(request_from("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_a_spoofed_header_from_an_untrusted_address_is_ignored(proxies):
    proxies("10.0.0.1")
    assert client_ip(request_from("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_a_trusted_proxy_is_believed_about_its_client(proxies):
    proxies("10.0.0.1")
    assert client_ip(request_from("10.0.0.1", "203.0.113.1")) == "203.0.113.1"


def test_what_the_client_itself_put_in_the_header_is_never_used(proxies):
    proxies("10.0.0.1")
    # The client sent "X-Forwarded-For: 192.0.2.66"; the proxy appended the real address.
    assert client_ip(request_from("10.0.0.1", "192.0.2.66, 203.0.113.1")) == "203.0.113.1"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(proxies):
    proxies("10.0.0.0/8", "2001:db8::/32")
    forwarded = "192.0.2.66, 203.0.113.1, 10.1.2.3, 10.0.0.9"
    assert client_ip(request_from("2001:db8::1", forwarded)) == "203.0.113.1"


def test_ipv6_clients_are_normalised(proxies):
    proxies("10.0.0.1")
    assert client_ip(request_from("10.0.0.1", "2001:DB8:0::7")) == "2001:db8::7"


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "203.0.113.1:5555", "unknown"])
def test_a_missing_or_malformed_header_leaves_the_proxy_as_the_client(proxies, forwarded):
    proxies("10.0.0.1")
    assert client_ip(request_from("10.0.0.1", forwarded)) == "10.0.0.1"


def test_a_malformed_entry_stops_the_walk_at_the_last_proxy(proxies):
    proxies("10.0.0.0/8")
    assert client_ip(request_from("10.0.0.1", "203.0.113.1, garbage, 10.0.0.2")) == "10.0.0.2"


@pytest.mark.django_db
def test_the_request_log_names_the_client(client, proxies, caplog):
    proxies("127.0.0.1")
    with caplog.at_level(logging.INFO, logger="aisle.request"):
        client.get("/healthz", HTTP_X_FORWARDED_FOR="203.0.113.1")
    (record,) = [r for r in caplog.records if r.name == "aisle.request"]
    assert record.client == "203.0.113.1"


def test_a_malformed_trusted_proxy_setting_stops_start_up():
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={**os.environ, "TRUSTED_PROXIES": "10.0.0.1,not-a-network"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr
