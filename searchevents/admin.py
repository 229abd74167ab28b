"""Admin: the events waiting to be shipped, read-only (a backlog here means the data stream is
unreachable or refusing documents; `attempts` says which)."""

from django.contrib import admin
from django.http import HttpRequest

from searchevents.models import PendingSearchEvent


@admin.register(PendingSearchEvent)
class PendingSearchEventAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "type",
        "product_id",
        "position",
        "query",
        "order_id",
        "occurred_at",
        "attempts",
    )
    list_filter = ("type",)
    ordering = ("id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
