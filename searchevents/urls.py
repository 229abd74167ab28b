"""URLs of this app, mounted under /api/search/."""

from django.urls import path

from searchevents.views import SearchEventsView

urlpatterns = [
    path("events/", SearchEventsView.as_view(), name="search-events"),
]
