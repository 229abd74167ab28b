"""Fixtures for query rules: keys of each scope, a few products, and rule helpers."""

import pytest

from apikeys.services import api_key_create
from merchandising.cache import rules_forget
from tests.factories import CategoryFactory, ProductFactory, StoreFactory


@pytest.fixture(autouse=True)
def _fresh_rules():
    """This process's copy of the rules belongs to no test but the one that loads it."""
    rules_forget()
    yield
    rules_forget()


@pytest.fixture
def admin_key(db) -> str:
    return api_key_create(name="merchandiser", scopes=["search:admin"], store_ids=None)[1]


@pytest.fixture
def search_key(db) -> str:
    return api_key_create(name="storefront", scopes=["search"], store_ids=None)[1]


def staff_with(users, *codenames: str, username: str = "merch"):
    """A staff user holding exactly these merchandising permissions (e.g. `add_queryrule`)."""
    from django.contrib.auth.models import Permission

    user = users.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="merchandising", codename__in=codenames)
    )
    assert user.user_permissions.count() == len(codenames)
    return user


@pytest.fixture
def keys_required(settings) -> None:
    settings.API_KEYS_REQUIRED = True


@pytest.fixture
def shelf(db) -> dict:
    """Two categories, three products (one branded), a store."""
    dairy = CategoryFactory(name="Dairy", slug="dairy")
    bakery = CategoryFactory(name="Bakery", slug="bakery")
    return {
        "dairy": dairy,
        "bakery": bakery,
        "milk": ProductFactory(title="Milk", category=dairy, brand="Amul"),
        "cheese": ProductFactory(title="Cheese", category=dairy),
        "bread": ProductFactory(title="Bread", category=bakery),
        "store": StoreFactory(),
    }


from tests.searchindex.conftest import (  # noqa: E402, F401 - fixtures for searches
    catalog,
    es,
    index_products,
    product_index,
)
