"""App config for search events."""

from django.apps import AppConfig


class SearcheventsConfig(AppConfig):
    name = "searchevents"
    default_auto_field = "django.db.models.BigAutoField"
