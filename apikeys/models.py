"""The API key: the library's hashed, revocable, expiring key, plus scopes and a store list."""

import functools
from typing import ClassVar, cast

from django.apps import apps
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import connections, models, router
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from apikeys.scopes import IMPLIED, Scope


class ApiKeyManager(APIKeyManager):
    """The library's manager, typed for ApiKey, with the per-request look-up in fixed SQL."""

    def get_from_key(self, key: str) -> "ApiKey":
        """The unrevoked key with `key`'s prefix whose hash matches, as the library's does it.

        Every authenticated request makes this look-up; the library's queryset `.get()` built
        the same statement anew each time, about a fifth of the web CPU of a cached suggestion.
        Still one query per request, so a revoked key is refused at once.
        """
        prefix, _, _ = key.partition(".")
        model = cast("type[ApiKey]", self.model)
        fields = [field.attname for field in model._meta.concrete_fields]
        db = router.db_for_read(model)
        with connections[db].cursor() as cursor:
            cursor.execute(_key_sql(), [prefix])
            row = cursor.fetchone()
        if row is None:
            raise model.DoesNotExist("ApiKey matching query does not exist.")
        api_key = model.from_db(db, fields, row)
        if not api_key.is_valid(key):
            raise model.DoesNotExist("Key is not valid.")
        return api_key


@functools.cache
def _key_sql() -> str:
    meta = ApiKey._meta
    columns = ", ".join(f'"{field.column}"' for field in meta.concrete_fields)
    # Table and column names come from the model, never from input.
    return f'SELECT {columns} FROM "{meta.db_table}" WHERE "prefix" = %s AND NOT "revoked"'  # noqa: S608


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
