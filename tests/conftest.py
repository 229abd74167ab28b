"""Shared fixtures: an API client and a clean cache, against the real Postgres and Redis."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _clean_cache():
    """Every test starts with an empty Redis test database."""
    cache.clear()
    yield
    cache.clear()
