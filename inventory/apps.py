"""App config for inventory."""

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
