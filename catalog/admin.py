"""Admin for categories and products, with each product's stock inline."""

from django.contrib import admin

from catalog.models import Category, Product
from inventory.models import Inventory


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ProductInventoryInline(admin.TabularInline):
    model = Inventory
    extra = 0
    autocomplete_fields = ["store"]
    fields = ["store", "quantity", "updated_at"]
    readonly_fields = ["updated_at"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "category", "price", "created_at"]
    list_filter = ["category", "created_at"]
    list_select_related = ["category"]
    search_fields = ["title", "description", "category__name"]
    autocomplete_fields = ["category"]
    date_hierarchy = "created_at"
    inlines = [ProductInventoryInline]
    show_full_result_count = False
