"""A serializer base whose fields are copied per request without a deep copy."""

import copy
from typing import Any

from rest_framework import serializers


class ShallowCopiedFieldsSerializer(serializers.Serializer):
    """DRF deep-copies every declared field for each serializer instance (each field rebuilt
    from its arguments, validators and all): about a sixth of a search's web CPU for a query
    string of a few parameters. Plain fields keep no state between validations, so a shallow
    copy to bind is enough; a field holding a child field or serializer is still deep-copied,
    so the child is bound to its own parent.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, Any] = {}
        for name, field in self._declared_fields.items():
            nested = isinstance(field, serializers.BaseSerializer) or hasattr(field, "child")
            fields[name] = copy.deepcopy(field) if nested else copy.copy(field)
        return fields
