"""The orders admin: filters by store, status and date; lines are shown read-only."""

import pytest
from django.contrib.auth.models import User

from tests.factories import InventoryFactory, OrderFactory, OrderItemFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


def test_changelist_filters_by_store_and_status(admin_client):
    store = StoreFactory(name="Kreuzberg")
    wanted = OrderFactory(store=store, status="REJECTED")
    OrderFactory(store=store, status="CONFIRMED")
    OrderFactory(status="REJECTED")

    response = admin_client.get(
        "/admin/ordering/order/", {"store__id__exact": store.id, "status__exact": "REJECTED"}
    )

    assert response.status_code == 200
    assert [o.pk for o in response.context["cl"].result_list] == [wanted.pk]
    filters = {spec.title for spec in response.context["cl"].filter_specs}
    assert {"status", "store", "created at"} <= filters


def test_change_page_shows_lines_read_only_and_orders_cannot_be_added(admin_client):
    item = OrderItemFactory(quantity_requested=3)

    page = admin_client.get(f"/admin/ordering/order/{item.order_id}/change/")
    add = admin_client.get("/admin/ordering/order/add/")

    assert page.status_code == 200
    (inline,) = page.context["inline_admin_formsets"]
    assert set(inline.formset.form.base_fields) == set()
    assert item.product.title in page.content.decode()
    assert add.status_code == 403


def test_orders_cannot_be_deleted_from_the_admin(admin_client):
    order = OrderFactory()

    response = admin_client.post(f"/admin/ordering/order/{order.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert type(order).objects.filter(pk=order.pk).exists()


def test_search_by_text_or_id_does_not_fail(admin_client):
    order = OrderFactory(store=StoreFactory(name="Mitte"))

    by_name = admin_client.get("/admin/ordering/order/", {"q": "Mitte"})
    by_id = admin_client.get("/admin/ordering/order/", {"q": str(order.pk)})

    assert [o.pk for o in by_name.context["cl"].result_list] == [order.pk]
    assert order.pk in [o.pk for o in by_id.context["cl"].result_list]


def test_idempotency_records_are_listed_read_only(admin_client, api_client):
    row = InventoryFactory(quantity=3)
    api_client.post(
        "/orders/",
        data={
            "store_id": row.store_id,
            "items": [{"product_id": row.product_id, "quantity_requested": 1}],
        },
        format="json",
        headers={"Idempotency-Key": "support-lookup"},
    )

    listing = admin_client.get("/admin/ordering/idempotencyrecord/", {"q": "support-lookup"})
    record = listing.context["cl"].result_list[0]
    page = admin_client.get(f"/admin/ordering/idempotencyrecord/{record.pk}/change/")

    assert listing.status_code == page.status_code == 200
    assert page.context["has_change_permission"] is False
