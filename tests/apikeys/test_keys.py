"""The key itself: stored hashed, shown once, revocable, expiring, read from either header."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apikeys.authentication import ApiKeyAuthentication
from apikeys.caller import caller_id
from apikeys.models import ApiKey
from apikeys.scopes import Scope
from apikeys.services import api_key_create
from tests.apikeys.helpers import assert_error, auth
from tests.factories import StoreFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keys_required")]

SUGGEST = "/api/search/suggest/?q=mil"


def test_the_key_is_never_stored_in_plaintext(make_key):
    row, key = make_key(Scope.SEARCH)
    prefix, secret = key.split(".")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM apikeys_apikey WHERE prefix = %s", [prefix])
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert secret not in stored
    assert key not in stored
    assert row.hashed_key == "sha512$$" + hashlib.sha512(key.encode()).hexdigest()


def test_the_key_cannot_be_read_back_from_its_row(make_key):
    row, key = make_key(Scope.SEARCH)
    fetched = ApiKey.objects.get(pk=row.pk)
    assert key not in {str(getattr(fetched, field.attname)) for field in ApiKey._meta.fields}


@pytest.mark.usefixtures("product_index")
def test_the_keyword_of_authorization_is_case_insensitive(api_client, make_key):
    _, key = make_key(Scope.SEARCH)
    response = api_client.get(SUGGEST, headers={"Authorization": f"api-key {key}"})
    assert response.status_code == 200


@pytest.mark.usefixtures("product_index")
def test_authorization_wins_over_x_api_key_when_both_are_sent(api_client, make_key):
    _, search_key = make_key(Scope.SEARCH)
    _, orders_key = make_key(Scope.ORDERS_WRITE)
    both = {**auth(search_key), "X-Api-Key": orders_key}
    assert api_client.get(SUGGEST, headers=both).status_code == 200
    swapped = {**auth(orders_key), "X-Api-Key": search_key}
    assert_error(api_client.get(SUGGEST, headers=swapped), 403, "permission_denied")


def test_a_key_with_a_wrong_secret_is_401(api_client, make_key):
    _, key = make_key(Scope.SEARCH)
    prefix, secret = key.split(".")
    forged = f"{prefix}.{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}"
    assert_error(api_client.get(SUGGEST, headers=auth(forged)), 401, "authentication_failed")


def test_an_expired_key_is_401(api_client, make_key):
    _, key = make_key(Scope.SEARCH, expiry_date=timezone.now() - timedelta(minutes=1))
    error = assert_error(api_client.get(SUGGEST, headers=auth(key)), 401, "authentication_failed")
    assert error["message"] == "Invalid, revoked or expired API key."


@pytest.mark.usefixtures("product_index")
def test_a_key_before_its_expiry_is_served(api_client, make_key):
    _, key = make_key(Scope.SEARCH, expiry_date=timezone.now() + timedelta(days=1))
    assert api_client.get(SUGGEST, headers=auth(key)).status_code == 200


def test_a_revoked_key_cannot_be_unrevoked(make_key):
    row, _ = make_key(Scope.SEARCH)
    row.revoked = True
    row.save()
    row = ApiKey.objects.get(pk=row.pk)
    row.revoked = False
    with pytest.raises(ValidationError):
        row.save()


def test_unknown_scopes_and_stores_are_refused_at_creation():
    with pytest.raises(ValidationError, match="admin"):
        api_key_create(name="x", scopes=["admin"])
    with pytest.raises(ValidationError):
        api_key_create(name="x", scopes=[])
    with pytest.raises(ValidationError, match="No such store: 999999"):
        api_key_create(name="x", scopes=[Scope.STORES_READ], store_ids=[999999])
    assert not ApiKey.objects.exists()


def test_the_database_refuses_an_unknown_scope_written_around_validation(make_key):
    row, _ = make_key(Scope.SEARCH)
    with pytest.raises(IntegrityError):
        ApiKey.objects.filter(pk=row.pk).update(scopes=["search", "admin"])


def test_a_key_is_created_with_its_stores(make_key):
    stores = StoreFactory.create_batch(2)
    row, _ = make_key(Scope.STORES_READ, stores=[stores[1].id, stores[0].id, stores[1].id])
    assert row.store_ids == sorted(store.id for store in stores)


def _drf_request(headers: dict[str, str]) -> Request:
    return Request(
        APIRequestFactory().get("/", headers=headers), authenticators=[ApiKeyAuthentication()]
    )


def test_caller_id_names_the_key_by_its_prefix_and_anonymous_as_none(make_key):
    row, key = make_key(Scope.SEARCH)
    assert caller_id(_drf_request(auth(key))) == f"key:{row.prefix}"
    assert caller_id(_drf_request({})) is None
