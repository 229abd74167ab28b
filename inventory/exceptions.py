"""Inventory's domain errors."""

from config.errors import NotFound


class StoreNotFound(NotFound):
    code = "store_not_found"
    message = "No store with that id."
