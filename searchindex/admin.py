"""Admin views of the index outbox and rebuild runs: read-only, for seeing what is waiting."""

from django.contrib import admin

from searchindex.models import IndexRebuild, PendingIndexUpdate


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
