"""Query rules in the API's shape: the nested input, its mapping to `RuleFields`, the output."""

from dataclasses import replace
from typing import Any

from rest_framework import serializers

from config.formats import timestamp
from merchandising.matching import MAX_FACTOR, MIN_FACTOR
from merchandising.models import MAX_ID, QueryRule
from merchandising.services import MAX_PINS, MAX_POSITION, RuleFields


class ConditionSerializer(serializers.Serializer):
    query = serializers.CharField(
        max_length=200, help_text="Compared as words: case, accents and punctuation do not count."
    )
    match = serializers.ChoiceField(
        choices=QueryRule.Match.choices,
        default=QueryRule.Match.EXACT,
        help_text="`exact`: the same words; `contains`: these words, in order, in the query.",
    )


class PinSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    position = serializers.IntegerField(
        min_value=1, max_value=MAX_POSITION, help_text="1-based, absolute across pages."
    )


class BoostFilterSerializer(serializers.Serializer):
    brand = serializers.CharField(required=False, max_length=100)
    category = serializers.CharField(
        required=False, max_length=100, help_text="A category id, slug or name."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if len(attrs) != 1:
            raise serializers.ValidationError("Give exactly one of `brand` or `category`.")
        return attrs


class BoostSerializer(serializers.Serializer):
    filter = BoostFilterSerializer()
    factor = serializers.FloatField(
        min_value=MIN_FACTOR, max_value=MAX_FACTOR, help_text="Below 1 buries, above 1 lifts."
    )


class ConsequenceSerializer(serializers.Serializer):
    # max_length goes to the ListSerializer many=True makes; the stubs do not know it.
    pin = PinSerializer(many=True, required=False, max_length=MAX_PINS)  # type: ignore[call-arg]
    hide = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False
    )
    boost = BoostSerializer(many=True, required=False, max_length=50)  # type: ignore[call-arg]
    replace_query = serializers.CharField(
        required=False, allow_null=True, max_length=200, help_text="Search this text instead."
    )

    # A PATCH leaves fields out, but never half of a pin or a boost: each item is whole.
    def validate_pin(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if any({"product_id", "position"} - set(pin) for pin in value):
            raise serializers.ValidationError("Each pin needs `product_id` and `position`.")
        return value

    def validate_boost(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if any({"filter", "factor"} - set(boost) for boost in value):
            raise serializers.ValidationError("Each boost needs `filter` and `factor`.")
        return value


class RuleInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    enabled = serializers.BooleanField(required=False)
    priority = serializers.IntegerField(required=False, min_value=-1000, max_value=1000)
    condition = ConditionSerializer()
    stores = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_null=True,
        required=False,
        help_text="The stores whose searches the rule applies to; null for every store.",
    )
    starts_at = serializers.DateTimeField(allow_null=True, required=False)
    ends_at = serializers.DateTimeField(allow_null=True, required=False)
    consequence = ConsequenceSerializer()

    def to_fields(self, existing: RuleFields | None = None) -> RuleFields:
        """The validated input over `existing` (PATCH); a full input replaces it (POST, PUT)."""
        data = self.validated_data
        fields = existing or RuleFields(name="", query="")
        plain = {
            name: data[name]
            for name in ("name", "enabled", "priority", "stores", "starts_at", "ends_at")
            if name in data
        }
        fields = replace(fields, **plain)
        if "condition" in data:
            condition = data["condition"]
            fields = replace(
                fields, **{k: condition[k] for k in ("query", "match") if k in condition}
            )
        if "consequence" in data:
            consequence = data["consequence"]
            if existing is None or not self.partial:
                # A consequence given whole replaces the whole (missing parts are none).
                fields = replace(fields, pins=(), hide=(), boosts=(), replace_query=None)
            if "pin" in consequence:
                fields = replace(
                    fields, pins=tuple((p["product_id"], p["position"]) for p in consequence["pin"])
                )
            if "hide" in consequence:
                fields = replace(fields, hide=tuple(consequence["hide"]))
            if "boost" in consequence:
                boosts = tuple(
                    (field, value, b["factor"])
                    for b in consequence["boost"]
                    for field, value in b["filter"].items()
                )
                fields = replace(fields, boosts=boosts)
            if "replace_query" in consequence:
                fields = replace(fields, replace_query=consequence["replace_query"])
        return fields


class RuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    enabled = serializers.BooleanField()
    priority = serializers.IntegerField()
    condition = ConditionSerializer()
    stores = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    consequence = ConsequenceSerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    warnings = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Only when the rule names products that no longer exist (it skips them).",
    )

    def to_representation(self, instance: QueryRule) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": instance.pk,
            "name": instance.name,
            "enabled": instance.enabled,
            "priority": instance.priority,
            "condition": {"query": instance.query, "match": instance.match},
            "stores": instance.stores,
            "starts_at": timestamp(instance.starts_at) if instance.starts_at else None,
            "ends_at": timestamp(instance.ends_at) if instance.ends_at else None,
            "consequence": {
                "pin": instance.pins,
                "hide": instance.hide,
                "boost": instance.boosts,
                "replace_query": instance.replace_query,
            },
            "created_at": timestamp(instance.created_at),
            "updated_at": timestamp(instance.updated_at),
        }
        warnings = self.context.get("warnings", {}).get(instance.pk)
        if warnings:
            body["warnings"] = warnings
        return body


class RulePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RuleOutputSerializer(many=True)
