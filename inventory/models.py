"""Stores and per-store stock; Postgres refuses negative stock and duplicate rows."""

from django.db import models
from django.utils import timezone

from catalog.models import Product


class Store(models.Model):
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Inventory(models.Model):
    # No single-column indexes: the two composite ones below lead with each of these columns.
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="inventory", db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="inventory", db_index=False
    )
    quantity = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "inventory"
        constraints = [
            models.UniqueConstraint(
                fields=["store", "product"], name="inventory_unique_store_product"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="inventory_quantity_non_negative"
            ),
        ]
        # The unique constraint indexes (store, product); lookups by product alone need their own.
        indexes = [models.Index(fields=["product", "store"], name="inventory_product_store_idx")]

    def __str__(self) -> str:
        return f"{self.product} @ {self.store}: {self.quantity}"
