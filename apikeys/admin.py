"""Admin for API keys: list, create (the key is shown once), and revoke."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from apikeys.models import ApiKey
from apikeys.scopes import Scope
from apikeys.services import api_keys_revoke

# The library registers its own concrete APIKey; Aisle uses ApiKey (with scopes) only.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class ApiKeyAdminForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "store_ids", "expiry_date", "revoked"]


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    """Creating a key shows it once in a message (the library's `save_model`)."""

    model = ApiKey
    form = ApiKeyAdminForm
    # The library's admin leaves these unannotated: mypy takes its fixed tuples for their type.
    list_display = [  # type: ignore[assignment]
        "name",
        "prefix",
        "scope_list",
        "store_list",
        "created",
        "expiry_date",
        "_has_expired",
        "revoked",
    ]
    list_filter = ["revoked", "created"]  # type: ignore[assignment]
    search_fields = ["name", "prefix"]  # type: ignore[assignment]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple:
        # The library annotates obj as Model, yet the admin passes None on the add form.
        fields = super().get_readonly_fields(request, obj)  # type: ignore[arg-type]
        if isinstance(obj, ApiKey) and obj.revoked:
            fields = (*fields, "scopes", "store_ids")
        return fields

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description="stores")
    def store_list(self, obj: ApiKey) -> str:
        return ", ".join(map(str, obj.store_ids)) or "all"

    @admin.action(description="Revoke selected API keys (cannot be undone)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = api_keys_revoke(keys=queryset)
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)
