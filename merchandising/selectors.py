"""Reads of query rules: the API's lists, warnings, and the compiled rules searches match."""

from typing import Any

from django.db.models import Q, QuerySet

from catalog.models import Category, Product
from merchandising.matching import Boost, Pin, Rule, normalise
from merchandising.models import MAX_ID, QueryRule


def rule_list() -> QuerySet[QueryRule]:
    return QueryRule.objects.order_by("id")


def rule_get(*, rule_id: int) -> QueryRule | None:
    return QueryRule.objects.filter(pk=rule_id).first()


def rule_warnings(*, rules: list[QueryRule]) -> dict[int, list[str]]:
    """Per rule, what it names that no longer exists (one query for all of them)."""
    named = {pid for rule in rules for pid in _product_ids(rule)}
    existing = set(Product.objects.filter(pk__in=named).values_list("pk", flat=True))
    warnings: dict[int, list[str]] = {}
    for rule in rules:
        missing = sorted(pid for pid in _product_ids(rule) if pid not in existing)
        if missing:
            warnings[rule.pk] = [
                f"Product {pid} no longer exists; the rule skips it." for pid in missing
            ]
    return warnings


def _product_ids(rule: QueryRule) -> set[int]:
    return {int(pin["product_id"]) for pin in rule.pins} | set(rule.hide)


def category_named(*, value: str) -> bool:
    """Whether a category has `value` as its id, slug or name (case-insensitive)."""
    value = value.strip()
    if not value:
        return False
    condition = Q(slug__iexact=value) | Q(name__iexact=value)
    if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
        condition |= Q(pk=int(value))
    return Category.objects.filter(condition).exists()


def category_ids_for(value: str, categories: list[tuple[int, str, str]]) -> tuple[int, ...]:
    """Ids of the categories whose id, slug or name (case-insensitive) is `value`."""
    folded = value.strip().casefold()
    return tuple(
        cid
        for cid, slug, name in categories
        if folded in {str(cid), slug.casefold(), name.casefold()}
    )


def compiled_rules() -> list[Rule]:
    """Every enabled rule, ready for matching (two queries, whatever the number of rules)."""
    rows = list(QueryRule.objects.filter(enabled=True).order_by("id"))
    categories: list[tuple[int, str, str]] = []
    if any("category" in boost["filter"] for row in rows for boost in row.boosts):
        categories = list(Category.objects.values_list("id", "slug", "name"))
    return [_compiled(row, categories) for row in rows]


def _compiled(row: QueryRule, categories: list[tuple[int, str, str]]) -> Rule:
    return Rule(
        id=row.pk,
        name=row.name,
        words=normalise(row.query),
        match=row.match,
        priority=row.priority,
        stores=frozenset(row.stores) if row.stores is not None else None,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        pins=tuple(Pin(int(p["product_id"]), int(p["position"])) for p in row.pins),
        hide=tuple(row.hide),
        boosts=tuple(_boost(boost, categories) for boost in row.boosts),
        replace_query=row.replace_query or None,
    )


def _boost(boost: dict[str, Any], categories: list[tuple[int, str, str]]) -> Boost:
    factor = float(boost["factor"])
    if "brand" in boost["filter"]:
        brand = " ".join(str(boost["filter"]["brand"]).split())
        # brand.raw's normaliser folds case; the value is folded here to compare terms.
        return Boost(term=("brand.raw", brand.casefold()), factor=factor, label=f'brand "{brand}"')
    category = str(boost["filter"]["category"])
    ids = category_ids_for(category, categories)
    return Boost(term=("category.id", ids), factor=factor, label=f'category "{category}"')
