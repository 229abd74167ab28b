"""Writes of query rules: one validation for the API and the admin, and the admin log."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models.functions import Lower

from catalog.models import Product
from inventory.models import Store
from merchandising.exceptions import RuleInvalid
from merchandising.matching import MAX_FACTOR, MIN_FACTOR, normalise
from merchandising.models import MAX_ID, QueryRule
from merchandising.selectors import category_named

MAX_PINS = 20
MAX_POSITION = 100

Problems = dict[str, Any]


@dataclass(frozen=True)
class RuleFields:
    """A rule as stored, flat; the API's nested shape maps onto it (serializers.py)."""

    name: str
    query: str
    match: str = QueryRule.Match.EXACT
    enabled: bool = True
    priority: int = 0
    stores: list[int] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    pins: tuple[tuple[int, int], ...] = ()  # (product_id, position)
    hide: tuple[int, ...] = ()
    boosts: tuple[tuple[str, str, float], ...] = ()  # (field: brand | category, value, factor)
    replace_query: str | None = None

    @classmethod
    def of(cls, rule: QueryRule) -> "RuleFields":
        return cls(
            name=rule.name,
            query=rule.query,
            match=rule.match,
            enabled=rule.enabled,
            priority=rule.priority,
            stores=list(rule.stores) if rule.stores is not None else None,
            starts_at=rule.starts_at,
            ends_at=rule.ends_at,
            pins=tuple((int(p["product_id"]), int(p["position"])) for p in rule.pins),
            hide=tuple(rule.hide),
            boosts=tuple(
                (field, str(value), float(b["factor"]))
                for b in rule.boosts
                for field, value in b["filter"].items()
            ),
            replace_query=rule.replace_query,
        )


def _add(problems: Problems, path: tuple[str, ...], message: str) -> None:
    node = problems
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node.setdefault(path[-1], []).append(message)


def rule_problems(fields: RuleFields, *, existing: QueryRule | None = None) -> Problems:
    """What is wrong with a rule, keyed by the API's field names (nested as the API nests
    them); empty when it can be stored. A product the stored rule already names may be gone
    (deleted since): it stays, skipped and flagged, rather than blocking every other edit."""
    problems: Problems = {}
    if not fields.name.strip():
        _add(problems, ("name",), "This field may not be blank.")
    if not normalise(fields.query):
        _add(problems, ("condition", "query"), "The query must hold at least one word.")
    if fields.match not in QueryRule.Match.values:
        _add(problems, ("condition", "match"), "Must be `exact` or `contains`.")
    if fields.stores is not None:
        _check_stores(problems, fields.stores)
    if fields.starts_at and fields.ends_at and fields.ends_at <= fields.starts_at:
        _add(problems, ("ends_at",), "Must be later than starts_at.")
    if not (fields.pins or fields.hide or fields.boosts or fields.replace_query):
        _add(
            problems,
            ("consequence",),
            "A rule must pin, hide, boost or replace the query (it has no consequence).",
        )
    _check_pins(problems, fields.pins)
    if fields.replace_query is not None and not normalise(fields.replace_query):
        _add(problems, ("consequence", "replace_query"), "Must hold a word, or be null.")
    _check_boosts(problems, fields.boosts)
    known = (
        set(existing.hide) | {int(p["product_id"]) for p in existing.pins} if existing else set()
    )
    _check_products(problems, fields, allowed_missing=known)
    return problems


def _check_stores(problems: Problems, stores: list[int]) -> None:
    if not stores:
        _add(problems, ("stores",), "List at least one store, or null for every store.")
        return
    valid = [sid for sid in stores if 0 < sid <= MAX_ID]
    found = set(Store.objects.filter(pk__in=valid).values_list("pk", flat=True))
    missing = sorted(set(stores) - found)
    if missing:
        _add(problems, ("stores",), f"No such store: {', '.join(map(str, missing))}.")


def _check_pins(problems: Problems, pins: tuple[tuple[int, int], ...]) -> None:
    path = ("consequence", "pin")
    if len(pins) > MAX_PINS:
        _add(problems, path, f"At most {MAX_PINS} pins a rule.")
    for _, position in pins:
        if not 1 <= position <= MAX_POSITION:
            _add(problems, path, f"Positions run from 1 to {MAX_POSITION}; got {position}.")
    products = [pid for pid, _ in pins]
    if len(set(products)) != len(products):
        _add(problems, path, "A product is pinned twice.")


def _check_boosts(problems: Problems, boosts: tuple[tuple[str, str, float], ...]) -> None:
    path = ("consequence", "boost")
    for field, value, factor in boosts:
        if not MIN_FACTOR <= factor <= MAX_FACTOR:
            _add(problems, path, f"A factor runs from {MIN_FACTOR} to {MAX_FACTOR}; got {factor}.")
        if field == "brand":
            brand = " ".join(value.split()).casefold()
            exists = (
                Product.objects.annotate(folded=Lower("brand")).filter(folded=brand).exists()
                if brand
                else False
            )
            if not exists:
                _add(problems, path, f"No product has the brand {value!r}.")
        elif field == "category":
            if not category_named(value=value):
                _add(problems, path, f"No category with the id, slug or name {value!r}.")
        else:
            _add(problems, path, "A boost's filter is {'brand': ...} or {'category': ...}.")


def _check_products(problems: Problems, fields: RuleFields, *, allowed_missing: set[int]) -> None:
    named = {pid for pid, _ in fields.pins} | set(fields.hide)
    valid = [pid for pid in named if 0 < pid <= MAX_ID]
    found = set(Product.objects.filter(pk__in=valid).values_list("pk", flat=True))
    for path, ids in (
        (("consequence", "pin"), [pid for pid, _ in fields.pins]),
        (("consequence", "hide"), list(fields.hide)),
    ):
        missing = sorted({pid for pid in ids if pid not in found and pid not in allowed_missing})
        if missing:
            _add(problems, path, f"No such product: {', '.join(map(str, missing))}.")


def rule_fields_apply(rule: QueryRule, fields: RuleFields) -> None:
    rule.name = fields.name.strip()
    rule.query = " ".join(fields.query.split())
    rule.match = fields.match
    rule.enabled = fields.enabled
    rule.priority = fields.priority
    rule.stores = sorted(set(fields.stores)) if fields.stores is not None else None
    rule.starts_at = fields.starts_at
    rule.ends_at = fields.ends_at
    rule.pins = [{"product_id": pid, "position": pos} for pid, pos in fields.pins]
    rule.hide = list(dict.fromkeys(fields.hide))
    rule.boosts = [
        {"filter": {field: value}, "factor": factor} for field, value, factor in fields.boosts
    ]
    rule.replace_query = (
        " ".join(fields.replace_query.split()) if fields.replace_query is not None else None
    )


def rule_validated(fields: RuleFields, *, existing: QueryRule | None = None) -> None:
    problems = rule_problems(fields, existing=existing)
    if problems:
        raise RuleInvalid(details=problems)


def actor_for_key(*, prefix: str | None) -> AbstractBaseUser:
    """The user an API change is logged under: one inactive user per API key (it can never sign
    in), so the admin's history shows which key changed a rule."""
    username = f"apikey:{prefix}" if prefix else "api:anonymous"
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _log(actor: AbstractBaseUser, rule: QueryRule, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(
        actor.pk, QueryRule.objects.filter(pk=rule.pk), flag, message, single_object=True
    )


def _summary(fields: RuleFields) -> str:
    return json.dumps({"query": fields.query, "match": fields.match}, ensure_ascii=False)


@transaction.atomic
def rule_create(*, fields: RuleFields, actor: AbstractBaseUser) -> QueryRule:
    rule_validated(fields)
    rule = QueryRule()
    rule_fields_apply(rule, fields)
    rule.save()
    _log(actor, rule, ADDITION, json.dumps([{"added": {}}]))
    return rule


@transaction.atomic
def rule_update(*, rule: QueryRule, fields: RuleFields, actor: AbstractBaseUser) -> QueryRule:
    rule_validated(fields, existing=rule)
    before = RuleFields.of(rule)
    rule_fields_apply(rule, fields)
    rule.save()
    changed = [
        name
        for name in RuleFields.__dataclass_fields__
        if getattr(before, name) != getattr(RuleFields.of(rule), name)
    ]
    _log(actor, rule, CHANGE, json.dumps([{"changed": {"fields": changed}}]))
    return rule


@transaction.atomic
def rule_delete(*, rule: QueryRule, actor: AbstractBaseUser) -> None:
    _log(actor, rule, DELETION, _summary(RuleFields.of(rule)))
    rule.delete()
