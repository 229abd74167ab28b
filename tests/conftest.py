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


@pytest.fixture(autouse=True)
def _celery_join_flag_reset():
    """Eager `apply_async` flips a process-wide "joins would block" flag and restores it on exit;
    two threads committing at once (the concurrency tests) can restore it in the wrong order and
    leave it set, which makes every later `EagerResult.get()` raise. Start each test clean."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
