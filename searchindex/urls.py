"""URLs of this app, mounted under /api/search/."""

from django.urls import path

from searchindex.views import ProductSearchView, ProductSuggestView

urlpatterns = [
    path("products/", ProductSearchView.as_view(), name="search-products"),
    path("suggest/", ProductSuggestView.as_view(), name="search-suggest"),
]
