"""How values look in responses, for the few shapes built without DRF's per-field machinery."""

from datetime import UTC, datetime
from decimal import Decimal


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, as DRF's DateTimeField renders it under TIME_ZONE = "UTC"."""
    return value.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


def money(value: Decimal | None) -> str | None:
    """Two decimal places, as a string: prices never pass through a float."""
    return None if value is None else f"{value:.2f}"
