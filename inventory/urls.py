"""URLs of the inventory app."""

from django.urls import path

from inventory.views import StoreInventoryListView

urlpatterns = [
    path(
        "stores/<int:store_id>/inventory/",
        StoreInventoryListView.as_view(),
        name="store-inventory-list",
    ),
]
