"""The hand-built response shapes must render values exactly as DRF's fields would."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from rest_framework import serializers

from config.formats import money, timestamp


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC),
        datetime(2026, 3, 4, 23, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_timestamp_matches_drf_datetime_field(value, settings):
    settings.TIME_ZONE = "UTC"
    assert timestamp(value) == serializers.DateTimeField().to_representation(value)


@pytest.mark.parametrize("value", [Decimal("2.5"), Decimal("0"), Decimal("1234567.89")])
def test_money_matches_drf_decimal_field(value):
    field = serializers.DecimalField(max_digits=12, decimal_places=2)
    assert money(value) == field.to_representation(value)
    assert money(None) is None
