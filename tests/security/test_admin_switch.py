"""ADMIN_ENABLED and ADMIN_HOST: the admin off, or on its own host; elsewhere a plain 404."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.config.test_errors import assert_envelope

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PATHS = ["/admin/", "/admin/login/", "/admin", "/admin/catalog/product/"]


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_a_disabled_admin_is_a_404_envelope_that_sets_no_cookie(client, settings, path):
    settings.ADMIN_ENABLED = False
    response = client.get(path)
    assert_envelope(response, 404, "not_found")
    assert not response.cookies


def test_a_disabled_admin_refuses_login_posts_too(client, settings):
    settings.ADMIN_ENABLED = False
    response = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert_envelope(response, 404, "not_found")


def test_the_api_is_unaffected_by_a_disabled_admin(client, settings):
    settings.ADMIN_ENABLED = False
    assert client.get("/healthz").status_code == 200


@pytest.fixture
def admin_host(settings) -> str:
    settings.ADMIN_HOST = "admin.aisle.test"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "admin.aisle.test"]
    return "admin.aisle.test"


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_with_an_admin_host_the_admin_is_a_404_on_other_hosts(client, admin_host, path):
    assert_envelope(client.get(path), 404, "not_found")


def test_with_an_admin_host_the_admin_is_served_there(admin_host):
    client = Client(HTTP_HOST=admin_host)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert Client(HTTP_HOST=f"{admin_host}:8443").get("/admin/login/").status_code == 200


def test_the_admin_host_is_allowed_as_a_host():
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.ALLOWED_HOSTS)"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_ALLOWED_HOSTS": "api.aisle.test",
            "ADMIN_HOST": "Admin.Aisle.Test",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "['api.aisle.test', 'admin.aisle.test']"
