"""Managing keys in the admin: the list, creating a key (shown once), the revoke action."""

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from rest_framework_api_key.models import APIKey

from apikeys.models import ApiKey
from apikeys.scopes import Scope
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/apikeys/apikey/"


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("admin", "a@example.com", "pw"))
    return client


def test_only_aisles_key_model_is_in_the_admin():
    assert admin.site.is_registered(ApiKey)
    assert not admin.site.is_registered(APIKey)


def test_the_key_list_shows_name_prefix_scopes_and_stores(staff_client, make_key):
    store = StoreFactory()
    row, key = make_key(Scope.SEARCH, Scope.STORES_READ, stores=[store.id], name="till 4")
    html = staff_client.get(CHANGELIST).content.decode()
    assert "till 4" in html
    assert row.prefix in html
    assert "search, stores:read" in html
    assert key.split(".")[1] not in html


def test_creating_a_key_in_the_admin_shows_it_once(staff_client):
    store = StoreFactory()
    response = staff_client.post(
        f"{CHANGELIST}add/",
        {"name": "kiosk", "scopes": ["search", "orders:write"], "store_ids": str(store.id)},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = ApiKey.objects.get()
    assert (row.scopes, row.store_ids) == (["search", "orders:write"], [store.id])
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    key = next(word for text in shown for word in text.split() if word.startswith(row.prefix))
    assert ApiKey.objects.get_from_key(key.rstrip(".")) == row
    assert key.rstrip(".") in staff_client.get(CHANGELIST).content.decode()  # the message, once
    assert key.rstrip(".") not in staff_client.get(CHANGELIST).content.decode()


def test_the_admin_refuses_an_unknown_store(staff_client):
    response = staff_client.post(
        f"{CHANGELIST}add/", {"name": "kiosk", "scopes": ["stores:read"], "store_ids": "999999"}
    )
    assert response.status_code == 200
    assert "No such store: 999999" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_revoke_action_revokes_the_selected_keys(staff_client, make_key):
    first, _ = make_key(Scope.SEARCH)
    second, _ = make_key(Scope.SEARCH)
    kept, _ = make_key(Scope.SEARCH)
    response = staff_client.post(
        CHANGELIST, {"action": "revoke", "_selected_action": [first.pk, second.pk]}
    )
    assert response.status_code == 302
    assert set(ApiKey.objects.filter(revoked=True)) == {first, second}
    assert not ApiKey.objects.get(pk=kept.pk).revoked
