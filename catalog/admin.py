"""Admin for categories and products (inventory/admin.py adds each product's stock inline)."""

from django.contrib import admin

from catalog.models import Category, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["id", "sku", "title", "brand", "category", "price", "popularity", "created_at"]
    list_filter = ["source", "category", "created_at"]
    list_select_related = ["category"]
    # "=sku": an exact match, so the unique index answers it.
    search_fields = ["=sku", "title", "brand", "description", "category__name"]
    fields = [
        "sku",
        "title",
        "brand",
        "category",
        "price",
        "description",
        "image_url",
        "attributes",
        "popularity",
        "source",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["updated_at"]
    autocomplete_fields = ["category"]
    date_hierarchy = "created_at"
    show_full_result_count = False
