"""Production settings, checked in fresh interpreters: refusals at start-up, `check --deploy`."""

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST = "aisle.example.com"


def real_looking_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(60))


def production_env(**overrides: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "AISLE_")) and key != "PYTEST_CURRENT_TEST"
    }
    env.update(
        AISLE_ENV="production",
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=real_looking_key(),
        DJANGO_ALLOWED_HOSTS=HOST,
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


SETUP = "import django; django.setup()"


def test_production_refuses_to_start_without_a_secret_key():
    result = run_python(SETUP, production_env(DJANGO_SECRET_KEY=None))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    "weak_key",
    [
        "dev-only-insecure-key-change-me",
        "short-but-set",
        "a" * 64,
        "django-insecure-" + "x1y2z3w4v5" * 5,
    ],
    ids=["the-dev-placeholder", "too-short", "too-few-distinct-characters", "django-insecure"],
)
def test_production_refuses_to_start_with_a_weak_secret_key(weak_key):
    result = run_python(SETUP, production_env(DJANGO_SECRET_KEY=weak_key))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("hosts", [None, "", "*"], ids=["unset", "empty", "wildcard"])
def test_production_refuses_to_start_without_explicit_allowed_hosts(hosts):
    result = run_python(SETUP, production_env(DJANGO_ALLOWED_HOSTS=hosts))
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must list" in result.stderr


def test_production_starts_with_debug_off_and_secure_cookies_and_headers_on():
    code = (
        SETUP
        + "\nimport json\nfrom django.conf import settings as s\nprint(json.dumps({k: getattr(s, k)"
        " for k in ['DEBUG', 'ALLOWED_HOSTS', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE',"
        " 'SESSION_COOKIE_HTTPONLY', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS',"
        " 'SECURE_CONTENT_TYPE_NOSNIFF', 'SECURE_REFERRER_POLICY', 'X_FRAME_OPTIONS']}))"
    )
    result = run_python(code, production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "DEBUG": False,
        "ALLOWED_HOSTS": [HOST],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
    }


def test_debug_is_off_in_production_even_when_other_defaults_are_local():
    result = run_python(
        SETUP + "\nfrom django.conf import settings\nprint(settings.DEBUG)",
        production_env(DJANGO_DEBUG=None),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_production_responses_redirect_to_https_and_carry_security_headers():
    code = (
        SETUP
        + f"""
import json
from django.test import Client
client = Client()
plain = client.get("/healthz", HTTP_HOST="{HOST}")
secure = client.get("/healthz", HTTP_HOST="{HOST}", secure=True)
foreign = client.get("/healthz", HTTP_HOST="evil.example.net", secure=True)
print(json.dumps({{
    "plain": [plain.status_code, plain.headers.get("Location")],
    "secure": [secure.status_code, {{k: secure.headers.get(k) for k in [
        "Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy",
        "X-Frame-Options", "Cross-Origin-Opener-Policy"]}}],
    "foreign": [foreign.status_code, foreign.json()["error"]["code"]],
}}))
"""
    )
    result = run_python(code, production_env())
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, f"https://{HOST}/healthz"]
    status, headers = seen["secure"]
    assert status == 200
    assert headers == {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    # A Host outside ALLOWED_HOSTS is refused in the envelope, not served.
    assert seen["foreign"] == [400, "bad_request"]


def test_check_deploy_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNINGS" not in output, output
