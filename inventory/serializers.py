"""Output shapes of the inventory listing."""

from rest_framework import serializers


class InventoryRowOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product_title = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    category_name = serializers.CharField()
    quantity = serializers.IntegerField()
