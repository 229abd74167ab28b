"""Admin for orders: filters by store, status and date; lines are read-only."""

from django.contrib import admin

from ordering.models import IdempotencyRecord, Order, OrderItem

# Shown and read-only alike; tuples, since `fields` also accepts groups and a list of str would
# not type as one.
ITEM_FIELDS = ("product", "quantity_requested", "unit_price", "quantity_available", "reject_reason")
RECORD_FIELDS = ("key", "request_hash", "order", "response_status", "response_body", "created_at")


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ITEM_FIELDS
    readonly_fields = ITEM_FIELDS

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "store", "status", "created_at", "confirmation_sent_at"]
    list_filter = ["status", "store", "created_at"]
    list_select_related = ["store"]
    search_fields = ["id", "store__name"]
    date_hierarchy = "created_at"
    readonly_fields = ["store", "status", "created_at", "confirmation_sent_at"]
    inlines = [OrderItemInline]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # A confirmed order's lines are the record of deducted stock; deleting it would break
        # the invariant initial = current + confirmed.
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Read-only: for answering "did my retry place a second order?"."""

    list_display = ["key", "order", "response_status", "created_at"]
    search_fields = ["key"]
    list_select_related = ["order"]
    fields = RECORD_FIELDS
    readonly_fields = RECORD_FIELDS
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
