"""The production policy, endpoint by endpoint: no key 401, wrong scope or store 403, else served.

`keys_required` switches on what `AISLE_ENV=production` switches on (settings.API_KEYS_REQUIRED).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from apikeys.scopes import IMPLIED, Scope
from ordering.models import Order
from tests.apikeys.helpers import assert_error, auth
from tests.factories import InventoryFactory, ProductFactory, StoreFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keys_required")]
# Only calls that reach a search (2xx) need an index; refusals come before Elasticsearch.
needs_index = pytest.mark.usefixtures("product_index")


@dataclass
class World:
    store_id: int
    other_store_id: int
    product_id: int


@pytest.fixture
def world() -> World:
    store, other_store = StoreFactory.create_batch(2)
    product = ProductFactory(title="Milk")
    InventoryFactory(store=store, product=product, quantity=100)
    InventoryFactory(store=other_store, product=product, quantity=100)
    return World(store_id=store.id, other_store_id=other_store.id, product_id=product.id)


def order_body(world: World, store_id: int | None = None) -> dict:
    return {
        "store_id": world.store_id if store_id is None else store_id,
        "items": [{"product_id": world.product_id, "quantity_requested": 1}],
    }


@dataclass(frozen=True)
class Endpoint:
    scope: str
    success: int
    call: Callable[[APIClient, World, dict[str, str]], Any]  # the test client's response


ENDPOINTS = {
    "search": Endpoint(
        Scope.SEARCH, 200, lambda c, w, h: c.get("/api/search/products/?q=milk", headers=h)
    ),
    "suggest": Endpoint(
        Scope.SEARCH, 200, lambda c, w, h: c.get("/api/search/suggest/?q=mil", headers=h)
    ),
    "place order": Endpoint(
        Scope.ORDERS_WRITE,
        201,
        lambda c, w, h: c.post("/orders/", order_body(w), format="json", headers=h),
    ),
    "store orders": Endpoint(
        Scope.STORES_READ, 200, lambda c, w, h: c.get(f"/stores/{w.store_id}/orders/", headers=h)
    ),
    "store inventory": Endpoint(
        Scope.STORES_READ,
        200,
        lambda c, w, h: c.get(f"/stores/{w.store_id}/inventory/", headers=h),
    ),
}


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_call_without_a_key_is_401_authentication_required(api_client, world, name):
    response = ENDPOINTS[name].call(api_client, world, {})
    error = assert_error(response, 401, "authentication_required")
    assert "Api-Key" in error["message"]
    assert response["WWW-Authenticate"] == "Api-Key"
    assert not Order.objects.exists()


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_key_with_every_other_scope_is_403_permission_denied(api_client, world, make_key, name):
    endpoint = ENDPOINTS[name]
    # Every scope that neither is nor includes the endpoint's (`search:admin` includes `search`).
    _, key = make_key(
        *[
            scope
            for scope in Scope.values
            if scope != endpoint.scope and endpoint.scope not in IMPLIED.get(scope, ())
        ]
    )
    response = endpoint.call(api_client, world, auth(key))
    error = assert_error(response, 403, "permission_denied")
    assert f"`{endpoint.scope}`" in error["message"]
    assert not Order.objects.exists()


@needs_index
@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_key_with_the_scope_is_served(api_client, world, make_key, name):
    endpoint = ENDPOINTS[name]
    _, key = make_key(endpoint.scope)
    response = endpoint.call(api_client, world, auth(key))
    assert response.status_code == endpoint.success, response.content


@needs_index
@pytest.mark.parametrize("name", ENDPOINTS)
def test_the_x_api_key_header_works_like_authorization(api_client, world, make_key, name):
    endpoint = ENDPOINTS[name]
    _, key = make_key(endpoint.scope)
    response = endpoint.call(api_client, world, {"X-Api-Key": key})
    assert response.status_code == endpoint.success, response.content


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_revoked_key_is_401_even_with_the_scope(api_client, world, make_key, name):
    endpoint = ENDPOINTS[name]
    row, key = make_key(endpoint.scope)
    row.revoked = True
    row.save()
    response = endpoint.call(api_client, world, auth(key))
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Api-Key"


@needs_index
def test_a_key_with_several_scopes_is_served_by_each(api_client, world, make_key):
    _, key = make_key(*Scope.values)
    for name, endpoint in ENDPOINTS.items():
        response = endpoint.call(api_client, world, auth(key))
        assert response.status_code == endpoint.success, (name, response.content)


# Store limits


@pytest.mark.parametrize("path", ["orders", "inventory"])
def test_a_store_limited_key_reads_its_store_and_is_403_on_another(
    api_client, world, make_key, path
):
    _, key = make_key(Scope.STORES_READ, stores=[world.store_id])
    own = api_client.get(f"/stores/{world.store_id}/{path}/", headers=auth(key))
    assert own.status_code == 200, own.content
    other = api_client.get(f"/stores/{world.other_store_id}/{path}/", headers=auth(key))
    error = assert_error(other, 403, "permission_denied")
    assert str(world.other_store_id) in error["message"]


def test_a_store_limited_key_gets_403_not_404_for_a_store_that_does_not_exist(
    api_client, world, make_key
):
    # Telling "no such store" apart from "not yours" would let the key map other stores.
    _, key = make_key(Scope.STORES_READ, stores=[world.store_id])
    response = api_client.get("/stores/999999/orders/", headers=auth(key))
    assert_error(response, 403, "permission_denied")


def test_a_key_for_every_store_reads_any_store(api_client, world, make_key):
    _, key = make_key(Scope.STORES_READ)
    for store_id in (world.store_id, world.other_store_id):
        response = api_client.get(f"/stores/{store_id}/inventory/", headers=auth(key))
        assert response.status_code == 200


def test_a_store_limited_order_key_places_at_its_store_only(api_client, world, make_key):
    _, key = make_key(Scope.ORDERS_WRITE, stores=[world.store_id])
    other = api_client.post(
        "/orders/", order_body(world, world.other_store_id), format="json", headers=auth(key)
    )
    assert_error(other, 403, "permission_denied")
    assert not Order.objects.exists()
    own = api_client.post("/orders/", order_body(world), format="json", headers=auth(key))
    assert own.status_code == 201, own.content
    assert list(Order.objects.values_list("store_id", flat=True)) == [world.store_id]


def test_a_store_limited_order_key_reads_a_string_store_id_as_the_serializer_does(
    api_client, world, make_key
):
    # The serializer accepts "5" as 5; the store check must not be dodged by quoting the id.
    _, key = make_key(Scope.ORDERS_WRITE, stores=[world.store_id])
    body = order_body(world) | {"store_id": str(world.other_store_id)}
    response = api_client.post("/orders/", body, format="json", headers=auth(key))
    assert_error(response, 403, "permission_denied")
    assert not Order.objects.exists()


def test_a_store_limited_order_key_still_gets_400_for_an_unreadable_store_id(
    api_client, world, make_key
):
    _, key = make_key(Scope.ORDERS_WRITE, stores=[world.store_id])
    body = order_body(world) | {"store_id": "abc"}
    response = api_client.post("/orders/", body, format="json", headers=auth(key))
    assert_error(response, 400, "validation_error")
    assert not Order.objects.exists()


# Operations endpoints


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_probes_need_no_key_and_ignore_a_bad_one(api_client, path):
    assert api_client.get(path).status_code == 200
    assert api_client.get(path, headers=auth("nope.nope")).status_code == 200


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_docs_need_a_key(api_client, path):
    response = api_client.get(path)
    assert_error(response, 401, "authentication_required")
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
@pytest.mark.parametrize("scope", Scope.values)
def test_the_schema_and_docs_are_served_to_a_key_of_any_scope(api_client, make_key, path, scope):
    _, key = make_key(scope)
    assert api_client.get(path, headers=auth(key)).status_code == 200


def test_the_schema_refuses_a_revoked_key(api_client, make_key):
    row, key = make_key(Scope.SEARCH)
    row.revoked = True
    row.save()
    assert_error(api_client.get("/api/schema/", headers=auth(key)), 401, "authentication_failed")


def test_the_docs_are_served_to_staff_signed_in_to_the_admin(client, django_user_model):
    # A browser opening /api/docs/ cannot send a key; the admin session stands in for one.
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/schema/").status_code == 200


def test_a_signed_in_user_who_is_not_staff_is_403_on_the_schema(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("shopper", password="pw"))
    assert_error(client.get("/api/schema/"), 403, "permission_denied")


def test_a_signed_in_staff_session_does_not_open_the_api(client, django_user_model):
    # The API authenticates API keys only: an admin cookie is not a key (and would need CSRF).
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    assert_error(client.get("/api/search/suggest/?q=mil"), 401, "authentication_required")
