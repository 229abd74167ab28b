"""Categories and products: what the retailer sells, whatever store it is in."""

from decimal import Decimal

from django.core.validators import URLValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

# Storefronts put the image URL straight into an <img src>: only absolute web URLs, so neither a
# relative path nor a `javascript:`/`data:` URL ever reaches one.
image_url_validator = URLValidator(schemes=["http", "https"])


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # Unicode slugs: imported catalogues name categories in any script.
    slug = models.SlugField(max_length=100, unique=True, allow_unicode=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    # Real catalogues carry titles past 200 characters (the ESCI set's longest is 219).
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True, default="")
    price = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The retailer's external id: a product's identity across imports. NULL (never "") when
    # unknown, so products made here need none and the unique constraint only binds real skus.
    sku = models.CharField(max_length=100, null=True, blank=True, default=None)
    # db_default as well as default: rows inserted by raw SQL (benchmarks, COPY) still get them.
    brand = models.CharField(max_length=100, blank=True, default="", db_default="")
    # A flat JSON object: attribute name -> string, number, boolean or a list of them. Free text
    # (bullet points) sits under its source field's name, key/value specifications under theirs.
    attributes = models.JSONField(
        blank=True, default=dict, db_default=models.Value({}, models.JSONField())
    )
    # A non-negative demand signal from the retailer (units sold, rating count); 0 when unknown.
    popularity = models.FloatField(default=0.0, db_default=0.0)
    # Which import the product came from ("" for products made here); `--delete-missing` only
    # ever removes products of the source it imports.
    source = models.CharField(max_length=100, blank=True, default="", db_default="")
    # The product's picture for storefronts ("" when there is none). A CharField with the URL
    # validator rather than a URLField, whose form would prepend a scheme to a bare host.
    image_url = models.CharField(
        max_length=2048,
        blank=True,
        default="",
        db_default="",
        validators=[image_url_validator],
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="product_price_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(popularity__gte=0), name="product_popularity_non_negative"
            ),
            # A constraint rather than unique=True: no extra LIKE index on a column never searched.
            models.UniqueConstraint(fields=["sku"], name="product_sku_unique"),
        ]
        indexes = [
            models.Index(Lower("title"), "id", name="product_title_lower_idx"),
            models.Index("source", "id", name="product_source_idx"),
        ]

    def __str__(self) -> str:
        return self.title
