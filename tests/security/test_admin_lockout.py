"""Admin logins: an address that fails 5 times is locked out for 15 minutes (django-axes)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client

from tests.config.test_errors import assert_envelope

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(
        username="staff", password=PASSWORD, is_staff=True, is_superuser=True
    )


def log_in(client: Client, password: str, **headers):
    return client.post(
        "/admin/login/?next=/admin/", {"username": "staff", "password": password}, **headers
    )


def fail(client: Client, times: int, **headers) -> list[int]:
    return [log_in(client, "wrong", **headers).status_code for _ in range(times)]


def test_the_fifth_failure_locks_the_address_out_even_for_the_right_password(staff):
    client = Client(REMOTE_ADDR="198.51.100.1")
    assert fail(client, 4) == [200] * 4  # the form again, with its error
    locked = log_in(client, "wrong")
    error = assert_envelope(locked, 429, "login_locked_out")
    assert locked["Retry-After"] == "900"
    assert error["details"] == {"retry_after": 900}

    response = log_in(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_locked_out_address_does_not_lock_out_anyone_else(staff):
    fail(Client(REMOTE_ADDR="198.51.100.1"), 5)
    other = Client(REMOTE_ADDR="198.51.100.2")
    response = log_in(other, PASSWORD)
    assert response.status_code == 302
    assert other.session["_auth_user_id"] == str(staff.pk)


def test_a_successful_login_resets_the_count(staff):
    client = Client(REMOTE_ADDR="198.51.100.1")
    fail(client, 4)
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()
    assert fail(client, 4) == [200] * 4


def test_the_lockout_ends_after_15_minutes(staff):
    client = Client(REMOTE_ADDR="198.51.100.1")
    fail(client, 5)
    assert log_in(client, PASSWORD).status_code == 429
    attempt = AccessAttempt.objects.get()
    attempt.attempt_time -= timedelta(minutes=15, seconds=1)
    attempt.save()
    assert log_in(client, PASSWORD).status_code == 302


def test_behind_a_trusted_proxy_each_client_is_counted_apart(staff, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    fail(proxy, 5, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert log_in(proxy, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429
    assert log_in(proxy, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 302


def test_a_spoofed_forwarded_for_does_not_escape_the_lockout(staff, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    client = Client(REMOTE_ADDR="198.51.100.1")
    for n in range(5):
        log_in(client, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert log_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429
