"""Fixtures for API keys: make a key of any shape, and switch the production policy on."""

from collections.abc import Callable
from datetime import datetime

import pytest

from apikeys.models import ApiKey
from apikeys.services import api_key_create
from tests.searchindex.conftest import es, product_index  # noqa: F401 - fixtures for search

MakeKey = Callable[..., tuple[ApiKey, str]]


@pytest.fixture
def make_key() -> MakeKey:
    """`make_key("search", stores=[1])` -> (row, plaintext key)."""

    def make(
        *scopes: str,
        stores: list[int] | None = None,
        expiry_date: datetime | None = None,
        name: str = "test key",
    ) -> tuple[ApiKey, str]:
        return api_key_create(
            name=name, scopes=list(scopes), store_ids=stores, expiry_date=expiry_date
        )

    return make


@pytest.fixture
def keys_required(settings) -> None:
    """Production's policy: read at request time, so no restart (or AISLE_ENV) is needed."""
    settings.API_KEYS_REQUIRED = True


@pytest.fixture
def keys_optional(settings) -> None:
    settings.API_KEYS_REQUIRED = False
