"""The scopes a key can carry, and the two policies that are not scopes."""

from django.db import models


class Scope(models.TextChoices):
    SEARCH = "search", "search: product search and suggest"
    ORDERS_WRITE = "orders:write", "orders:write: place orders"
    STORES_READ = "stores:read", "stores:read: a store's orders and inventory"
    SEARCH_ADMIN = "search:admin", "search:admin: query rules and explained searches"


# A scope that includes another: a merchandiser's `search:admin` key searches too (that is what
# `explain=true` is asked on).
IMPLIED: dict[str, frozenset[str]] = {Scope.SEARCH_ADMIN: frozenset({Scope.SEARCH})}

# What a view declares instead of a scope: no key ever needed (health probes), or any valid key
# whatever its scopes (the schema and its docs).
PUBLIC = "public"
ANY_KEY = "any-key"
