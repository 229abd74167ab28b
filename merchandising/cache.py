"""The rules every web process matches, reloaded within seconds of any committed change.

Each process keeps its compiled rules and, at most once a RULES_CHECK_SECONDS, reads a version
token from Redis; a change bumps the token after commit, so every process reloads from Postgres
within that interval. A search in between pays one clock read. With Redis unreachable the token
reads as missing and the process reloads on every check: never stale, only slower.
"""

import threading
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from merchandising.matching import RuleIndex
from merchandising.selectors import compiled_rules

_VERSION_KEY = "merchandising:rules:version"
VERSION_TIMEOUT_SECONDS = 7 * 24 * 60 * 60


class _Loaded:
    def __init__(self) -> None:
        self.index = RuleIndex(())
        self.version: str | None = None
        self.checked_at = float("-inf")
        self.lock = threading.Lock()


_loaded = _Loaded()


def rules_version_bump() -> None:
    cache.set(_VERSION_KEY, uuid.uuid4().hex, timeout=VERSION_TIMEOUT_SECONDS)


def _current_version() -> str | None:
    version = cache.get(_VERSION_KEY)
    if version is None:
        # A missing token (first use, eviction): make one, so processes agree on what they load.
        cache.add(_VERSION_KEY, uuid.uuid4().hex, timeout=VERSION_TIMEOUT_SECONDS)
        version = cache.get(_VERSION_KEY)
    return version


def rule_index() -> RuleIndex:
    """The enabled rules, as of at most RULES_CHECK_SECONDS ago (plus a reload)."""
    now = time.monotonic()
    if now - _loaded.checked_at < settings.RULES_CHECK_SECONDS:
        return _loaded.index
    with _loaded.lock:
        if now - _loaded.checked_at < settings.RULES_CHECK_SECONDS:
            return _loaded.index
        version = _current_version()
        if version is None or version != _loaded.version:
            _loaded.index = RuleIndex(compiled_rules())
            _loaded.version = version
        _loaded.checked_at = time.monotonic()
        return _loaded.index


def rules_version() -> str | None:
    """The version token of the rules `rule_index()` holds: an answer cached with rules applied
    is good only while this is the version it was computed under."""
    rule_index()
    return _loaded.version


def rules_forget() -> None:
    """Drop this process's copy (tests that change rules and read them back at once)."""
    _loaded.checked_at = float("-inf")
    _loaded.version = None


def _bump_on_commit(**kwargs: Any) -> None:
    transaction.on_commit(rules_version_bump, robust=True)


def connect_rules_invalidation() -> None:
    """Rule writes bump the version; so do category writes, which boosts resolve by name."""
    from catalog.models import Category
    from merchandising.models import QueryRule

    for model in (QueryRule, Category):
        name = model._meta.label_lower
        post_save.connect(_bump_on_commit, sender=model, dispatch_uid=f"rules-save-{name}")
        post_delete.connect(_bump_on_commit, sender=model, dispatch_uid=f"rules-delete-{name}")
