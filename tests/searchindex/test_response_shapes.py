"""Response bodies built by hand render exactly as DRF's per-field serialization of their fields."""

from decimal import Decimal
from typing import Any

import pytest
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from searchindex.results import SuggestedProduct
from searchindex.serializers import ProductSearchInputSerializer, SuggestOutputSerializer

PRODUCTS = [
    SuggestedProduct(
        id=7, title="Amul Butter 500 g", price=Decimal("245.5"), image_url=None, in_stock=True
    ),
    SuggestedProduct(
        id=12,
        title="Café “crème” ☕",
        price=Decimal("1000"),
        image_url="https://img.example/12.jpg",
        in_stock=False,
    ),
]


@pytest.mark.parametrize("products", [None, [], PRODUCTS])
def test_suggest_body_by_hand_is_what_its_declared_fields_render(products):
    instance: dict[str, Any] = {"query": "amu", "results": ["Amul Butter", "Amul\u2028Ghee"]}
    if products is not None:
        instance["products"] = products
    instance["query_id"] = "q1.token"
    by_hand = SuggestOutputSerializer(instance).data
    by_fields = serializers.Serializer.to_representation(SuggestOutputSerializer(), instance)
    assert JSONRenderer().render(by_hand) == JSONRenderer().render(by_fields)
    assert list(by_hand) == list(by_fields)  # key order too


@pytest.mark.parametrize(
    "query",
    [
        "q=Milk&brand=Amul&brand=amul++&in_stock=TRUE&min_price=1.5&sort=price",
        "q=" + "x" * 201 + "&brand=" + "y" * 101 + "&in_stock=maybe&max_price=-1",
        "min_price=5&max_price=1&explain=0",
    ],
)
def test_search_parameters_validate_alike_on_each_instance(query):
    """Fields are copied shallowly per instance: a second, third use validates the same."""
    results = []
    for _ in range(3):
        params = ProductSearchInputSerializer(data=QueryDict(query))
        valid = params.is_valid()
        results.append((valid, params.validated_data if valid else params.errors))
    assert results[0] == results[1] == results[2]
    assert results[0][0] == query.startswith("q=Milk")
