"""Admin for stores and stock, with stock inline on each store and on each product."""

from django.contrib import admin

from catalog.admin import ProductAdmin
from inventory.models import Inventory, Store


class StoreInventoryInline(admin.TabularInline):
    model = Inventory
    extra = 0
    autocomplete_fields = ["product"]
    fields = ["product", "quantity", "updated_at"]
    readonly_fields = ["updated_at"]
    show_change_link = True


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "created_at"]
    search_fields = ["name"]
    inlines = [StoreInventoryInline]


@admin.register(Inventory)
class InventoryAdmin(admin.ModelAdmin):
    list_display = ["product", "store", "quantity", "updated_at"]
    list_filter = ["store"]
    list_select_related = ["product", "store"]
    search_fields = ["product__title", "store__name"]
    autocomplete_fields = ["product", "store"]
    show_full_result_count = False


class ProductInventoryInline(admin.TabularInline):
    model = Inventory
    extra = 0
    autocomplete_fields = ["store"]
    fields = ["store", "quantity", "updated_at"]
    readonly_fields = ["updated_at"]


# Stock belongs to this app, so it puts its own inline on the catalog's product page: catalog
# knows nothing of inventory.
ProductAdmin.inlines = [*ProductAdmin.inlines, ProductInventoryInline]
