"""AISLE_ENV=production turns the key requirement on, and the environment cannot turn it off."""

import pytest

from tests.config.test_production_settings import SETUP, production_env, run_python

PRINT = SETUP + "; from django.conf import settings; print(settings.API_KEYS_REQUIRED)"


@pytest.mark.parametrize("override", [None, "0", "false"])
def test_production_always_requires_keys(override):
    result = run_python(PRINT, production_env(API_KEYS_REQUIRED=override))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize(("value", "required"), [(None, "False"), ("1", "True")])
def test_development_serves_anonymous_calls_unless_asked_to_require_keys(value, required):
    result = run_python(PRINT, production_env(AISLE_ENV="development", API_KEYS_REQUIRED=value))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == required
