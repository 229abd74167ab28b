"""Admin views: the index outbox and rebuild runs (read-only), and the synonym rules."""

from django.contrib import admin, messages
from django.db.models import QuerySet

from searchindex.models import IndexRebuild, PendingIndexUpdate, Synonym
from searchindex.synonyms import DELIVERY_MESSAGE


class ReadOnlyAdmin(admin.ModelAdmin):
    # Rows are written by signals and drains; editing them by hand could only lose changes.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PendingIndexUpdate)
class PendingIndexUpdateAdmin(ReadOnlyAdmin):
    list_display = ["model", "object_pk", "changes", "attempts", "created_at", "updated_at"]
    list_filter = ["model"]
    search_fields = ["object_pk", "last_error"]
    readonly_fields = ["last_error"]
    ordering = ["seq"]


@admin.register(IndexRebuild)
class IndexRebuildAdmin(ReadOnlyAdmin):
    list_display = ["index_name", "state", "documents", "replayed", "started_at", "finished_at"]
    list_filter = ["state"]


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    list_display = ["__str__", "enabled", "updated_at"]
    list_filter = ["enabled"]
    search_fields = ["terms", "maps_to"]
    actions = ["enable", "disable"]

    def save_model(self, request, obj: Synonym, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        self.message_user(request, DELIVERY_MESSAGE, messages.SUCCESS)

    def delete_model(self, request, obj: Synonym) -> None:
        super().delete_model(request, obj)
        self.message_user(request, DELIVERY_MESSAGE, messages.SUCCESS)

    def delete_queryset(self, request, queryset: QuerySet[Synonym]) -> None:
        super().delete_queryset(request, queryset)
        self.message_user(request, DELIVERY_MESSAGE, messages.SUCCESS)

    @admin.action(description="Enable the selected synonyms")
    def enable(self, request, queryset: QuerySet[Synonym]) -> None:
        self._enabled_set(request, queryset, enabled=True)

    @admin.action(description="Disable the selected synonyms")
    def disable(self, request, queryset: QuerySet[Synonym]) -> None:
        self._enabled_set(request, queryset, enabled=False)

    def _enabled_set(self, request, queryset: QuerySet[Synonym], *, enabled: bool) -> None:
        # One save per row rather than update(): the save signal is what schedules the swap.
        for synonym in queryset.exclude(enabled=enabled):
            synonym.enabled = enabled
            synonym.save(update_fields=["enabled", "updated_at"])
        self.message_user(request, DELIVERY_MESSAGE, messages.SUCCESS)
