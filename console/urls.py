"""URLs of the search console, mounted under /console/."""

from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.preview, name="preview"),
    path("rules/", views.rules, name="rules"),
    path("synonyms/", views.synonyms, name="synonyms"),
    path("analytics/", views.analytics, name="analytics"),
    path("inspect/", views.inspect, name="inspect"),
]
