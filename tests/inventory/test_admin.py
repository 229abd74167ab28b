"""The product admin page shows the product's stock per store: inventory adds that inline."""

import pytest
from django.contrib.auth import get_user_model

from tests.factories import InventoryFactory

pytestmark = pytest.mark.django_db


def test_the_product_admin_page_lists_its_stock_per_store(client):
    stock = InventoryFactory(quantity=7)
    client.force_login(get_user_model().objects.create_superuser(username="admin", password="pw"))
    response = client.get(f"/admin/catalog/product/{stock.product_id}/change/")
    assert response.status_code == 200
    formsets = [formset.formset.model for formset in response.context["inline_admin_formsets"]]
    assert formsets == [type(stock)]
    assert stock.store.name in response.content.decode()
