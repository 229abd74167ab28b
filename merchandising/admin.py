"""Admin for query rules, validated by the same service as the API."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from merchandising.models import QueryRule
from merchandising.selectors import rule_warnings
from merchandising.services import RuleFields, rule_fields_apply, rule_problems

# The API's names of problems, mapped to this form's fields (None: the form as a whole).
_FORM_FIELD = {
    "name": "name",
    "condition.query": "query",
    "condition.match": "match",
    "stores": "stores",
    "ends_at": "ends_at",
    "consequence": None,
    "consequence.pin": "pins",
    "consequence.hide": "hide",
    "consequence.boost": "boosts",
    "consequence.replace_query": "replace_query",
}


def _flatten(problems: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    flat: list[tuple[str, str]] = []
    for key, value in problems.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat += _flatten(value, f"{path}.")
        else:
            flat += [(path, message) for message in value]
    return flat


class QueryRuleForm(forms.ModelForm):
    class Meta:
        model = QueryRule
        fields = [
            "name",
            "enabled",
            "priority",
            "query",
            "match",
            "stores",
            "starts_at",
            "ends_at",
            "pins",
            "hide",
            "boosts",
            "replace_query",
        ]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if self.errors:
            return data
        try:
            self.rule_fields = RuleFields(
                name=data["name"],
                query=data["query"],
                match=data["match"],
                enabled=data["enabled"],
                priority=data["priority"],
                # The form's empty list is "every store" (the API's null).
                stores=data.get("stores") or None,
                starts_at=data.get("starts_at"),
                ends_at=data.get("ends_at"),
                pins=tuple((int(p["product_id"]), int(p["position"])) for p in data["pins"] or []),
                hide=tuple(data.get("hide") or ()),
                boosts=tuple(
                    (field, str(value), float(b["factor"]))
                    for b in data["boosts"] or []
                    for field, value in b["filter"].items()
                ),
                replace_query=data.get("replace_query") or None,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise forms.ValidationError(
                'Pins are [{"product_id": 10, "position": 1}], boosts '
                '[{"filter": {"brand": "Amul"}, "factor": 2.0}].'
            ) from None
        existing = self.instance if self.instance.pk else None
        for path, message in _flatten(rule_problems(self.rule_fields, existing=existing)):
            self.add_error(_FORM_FIELD.get(path), message)
        return data


@admin.register(QueryRule)
class QueryRuleAdmin(admin.ModelAdmin):
    form = QueryRuleForm
    list_display = ["name", "query", "match", "priority", "enabled", "starts_at", "ends_at"]
    list_filter = ["enabled", "match"]
    search_fields = ["name", "query"]
    readonly_fields = ["warnings"]

    @admin.display(description="warnings")
    def warnings(self, obj: QueryRule) -> str:
        if obj.pk is None:
            return ""
        return " ".join(rule_warnings(rules=[obj]).get(obj.pk, [])) or "none"

    def save_model(self, request: HttpRequest, obj: QueryRule, form: Any, change: bool) -> None:
        rule_fields_apply(obj, form.rule_fields)
        obj.save()
