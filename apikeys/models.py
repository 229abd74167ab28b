"""The API key: the library's hashed, revocable, expiring key, plus scopes and a store list."""

from typing import ClassVar, cast

from django.apps import apps
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from apikeys.scopes import IMPLIED, Scope


class ApiKeyManager(APIKeyManager):
    """The library's manager, typed for ApiKey (its own says AbstractAPIKey)."""

    def get_from_key(self, key: str) -> "ApiKey":
        return cast("ApiKey", super().get_from_key(key))  # it queries ApiKey only


class ApiKey(AbstractAPIKey):
    """Only `prefix` and a SHA-512 of the key are stored; the key itself is shown once."""

    objects: ClassVar[ApiKeyManager] = ApiKeyManager()

    scopes = ArrayField(
        models.CharField(max_length=32, choices=Scope.choices),
        help_text="What the key may do: " + ", ".join(Scope.values) + ".",
    )
    store_ids = ArrayField(
        models.BigIntegerField(),
        blank=True,
        default=list,
        verbose_name="stores",
        help_text="Store ids the key may act on (their orders, inventory, order placement); "
        "empty means every store.",
    )

    class Meta(AbstractAPIKey.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scopes__contained_by=Scope.values, scopes__len__gte=1),
                name="apikeys_apikey_known_scopes",
                violation_error_message="Scopes must be one or more of: "
                + ", ".join(Scope.values)
                + ".",
            ),
        ]

    def clean(self) -> None:
        super().clean()
        store = apps.get_model(settings.APIKEYS_STORE_MODEL)
        unknown = set(self.store_ids or []) - set(
            store.objects.filter(id__in=self.store_ids or []).values_list("id", flat=True)
        )
        if unknown:
            raise ValidationError(
                {"store_ids": f"No such store: {', '.join(map(str, sorted(unknown)))}."}
            )

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or any(scope in IMPLIED.get(held, ()) for held in self.scopes)

    def allows_store(self, store_id: int) -> bool:
        return not self.store_ids or store_id in self.store_ids
