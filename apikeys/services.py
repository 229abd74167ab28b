"""Writes: create and revoke keys, and the local development keys `make run` prints."""

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.db.models import QuerySet

from apikeys.models import ApiKey
from apikeys.scopes import Scope


def api_key_create(
    *,
    name: str,
    scopes: list[str],
    store_ids: list[int] | None = None,
    expiry_date: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its plaintext, which exists only in this return value: show it once.

    Raises django.core.exceptions.ValidationError for an unknown scope or store, or a bad name.
    """
    api_key = ApiKey(
        name=name,
        scopes=list(dict.fromkeys(scopes)),
        store_ids=sorted(set(store_ids or [])),
        expiry_date=expiry_date,
    )
    key = ApiKey.objects.assign_key(api_key)  # sets id, prefix and the hash
    # id and prefix are random, so skip their uniqueness queries; the constraints still hold.
    api_key.full_clean(exclude=["id", "prefix", "hashed_key"])
    api_key.save()
    return api_key, key


def api_keys_revoke(*, keys: QuerySet[ApiKey]) -> int:
    """Revoke every key in `keys` that is not revoked yet; returns how many. Cannot be undone."""
    return keys.filter(revoked=False).update(revoked=True)


# The keys `make run` keeps for a developer: one per scope, never in production.
DEV_KEYS: dict[str, str] = {
    "dev-search": Scope.SEARCH,
    "dev-orders": Scope.ORDERS_WRITE,
    "dev-stores": Scope.STORES_READ,
}


@dataclass(frozen=True)
class DevKey:
    name: str
    scope: str
    key: str


def _read_dev_keys(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    keys = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and not line.startswith("#"):
            keys[parts[0]] = parts[2]
    return keys


def _still_usable(*, name: str, scope: str, key: str) -> bool:
    try:
        api_key = ApiKey.objects.get_from_key(key)
    except ApiKey.DoesNotExist:
        return False
    return (
        api_key.name == name
        and api_key.scopes == [scope]
        and not api_key.store_ids
        and not api_key.has_expired
    )


def _write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with a file only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@transaction.atomic
def dev_api_keys_ensure(*, path: Path) -> list[DevKey]:
    """The development keys, one per scope, reused from `path` while they still work.

    A hashed key cannot be shown again, so the plaintext of these (development-only) keys is
    kept in `path`, outside the repository. A key missing from the file or no longer usable
    (a fresh database, revoked in the admin) is replaced: older keys of that name are revoked.
    """
    saved = _read_dev_keys(path)
    result = []
    for name, scope in DEV_KEYS.items():
        key = saved.get(name)
        if key is None or not _still_usable(name=name, scope=scope, key=key):
            api_keys_revoke(keys=ApiKey.objects.filter(name=name))
            _, key = api_key_create(name=name, scopes=[scope])
        result.append(DevKey(name=name, scope=scope, key=key))
    if {item.name: item.key for item in result} != saved:
        lines = [f"{item.name}\t{item.scope}\t{item.key}" for item in result]
        header = "# Aisle development API keys (make run); never used in production.\n"
        _write_private(path, header + "\n".join(lines) + "\n")
    return result
