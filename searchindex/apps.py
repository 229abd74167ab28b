"""App config for the search index."""

from django.apps import AppConfig


class SearchindexConfig(AppConfig):
    name = "searchindex"
