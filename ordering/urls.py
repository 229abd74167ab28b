"""URLs of the ordering app."""

from django.urls import path

from ordering.views import OrderPlaceView, StoreOrderListView

urlpatterns = [
    path("orders/", OrderPlaceView.as_view(), name="order-place"),
    path("stores/<int:store_id>/orders/", StoreOrderListView.as_view(), name="store-order-list"),
]
