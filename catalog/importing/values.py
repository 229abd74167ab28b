"""Checking and normalising one field's value (text, price, category, attributes...) from a line."""

import functools
import math
from decimal import Decimal, InvalidOperation
from typing import Any, cast

import orjson
from django.core.exceptions import ValidationError
from django.utils.text import slugify

from catalog.models import Category, Product, image_url_validator

# A field the line does not have (absent, null, "", [] or {}): distinct from any value.
MISSING: Any = object()
# Char and URL fields always have a max_length; Field in general may not.
_CATEGORY_MAX = cast(int, Category._meta.get_field("name").max_length)
_SLUG_MAX = Category._meta.get_field("slug").max_length
_PRICE_MAX = Decimal("99999999.99")  # max_digits=10, decimal_places=2
_CENT = Decimal("0.01")
_IMAGE_URL_MAX = cast(int, Product._meta.get_field("image_url").max_length)


class InvalidValue(Exception):
    """One field's problem; the parser collects them all before rejecting the line."""


def lookup_first(data: dict[str, Any], sources: tuple[str, ...]) -> Any:
    """The value of the first source the line has, else MISSING."""
    for source in sources:
        value = lookup(data, source)
        if value is not MISSING:
            return value
    return MISSING


def lookup(data: dict[str, Any], source: str | None) -> Any:
    if source is None:
        return MISSING
    if source in data:
        value = data[source]
    elif "." in source:
        value = data
        for part in source.split("."):
            if not isinstance(value, dict) or part not in value:
                return MISSING
            value = value[part]
    else:
        return MISSING
    if value is None or value == "" or value == [] or value == {}:
        return MISSING
    return value


def text_clean(value: Any, name: str, max_length: int | None, *, one_line: bool) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    elif not one_line and isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = "\n".join(v.strip() for v in value if v.strip())
    else:
        raise InvalidValue(f"{name} must be text, got {type(value).__name__}")
    text = " ".join(text.split()) if one_line else text.strip()
    if "\x00" in text:
        raise InvalidValue(f"{name} contains a NUL character")
    if max_length is not None and len(text) > max_length:
        raise InvalidValue(f"{name} is longer than {max_length} characters ({len(text)})")
    return text


def price_clean(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise InvalidValue(f"price is not a number: {value!r}")
    try:
        # str(float) is the shortest repr, so 29.97 stays 29.97 rather than its binary expansion.
        price = Decimal(str(value).strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise InvalidValue(f"price is not a number: {_clip(value)}") from None
    if not price.is_finite():
        raise InvalidValue(f"price is not a number: {_clip(value)}")
    if price < 0:
        raise InvalidValue(f"price is negative: {_clip(value)}")
    if price > _PRICE_MAX:
        raise InvalidValue(f"price is larger than {_PRICE_MAX}: {_clip(value)}")
    if price != price.quantize(_CENT):
        raise InvalidValue(f"price has more than 2 decimal places: {_clip(value)}")
    return price.quantize(_CENT)


def image_url_clean(value: Any) -> str:
    """An absolute http:// or https:// URL; anything else (a path, `data:`, `ftp:`) is invalid."""
    if not isinstance(value, str):
        raise InvalidValue(f"image_url must be text, got {type(value).__name__}")
    url = value.strip()
    if len(url) > _IMAGE_URL_MAX:
        raise InvalidValue(f"image_url is longer than {_IMAGE_URL_MAX} characters ({len(url)})")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest:
        raise InvalidValue(f"image_url is not an absolute http(s) URL: {_clip(value)}")
    try:
        image_url_validator(url)
    except ValidationError:
        raise InvalidValue(f"image_url is not a valid URL: {_clip(value)}") from None
    return url


def popularity_clean(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidValue(f"popularity is not a number: {_clip(value)}")
    try:
        number = float(value)
    except ValueError:
        raise InvalidValue(f"popularity is not a number: {_clip(value)}") from None
    if not math.isfinite(number):
        raise InvalidValue(f"popularity is not a number: {_clip(value)}")
    if number < 0:
        raise InvalidValue(f"popularity is negative: {_clip(value)}")
    return number


def category_clean(value: Any, separator: str) -> tuple[str, list[str]]:
    """(leaf name, path parts): `A > B > C` or ["A", "B", "C"] both give leaf "C"."""
    if isinstance(value, str):
        parts = value.split(separator)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = value
    else:
        raise InvalidValue(f"category must be text or a list of text, got {type(value).__name__}")
    parts = [" ".join(part.split()) for part in parts]
    parts = [part for part in parts if part]
    if not parts:
        return "", []
    leaf = parts[-1]
    if "\x00" in leaf:
        raise InvalidValue("category contains a NUL character")
    if len(leaf) > _CATEGORY_MAX:
        raise InvalidValue(f"category is longer than {_CATEGORY_MAX} characters ({len(leaf)})")
    return leaf, parts


def _attribute_value(value: Any, name: str) -> Any:
    """A string (stripped), number or boolean, or a list of them; nested objects become JSON."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidValue(f"attribute {name!r} contains a NUL character")
        return value.strip() or MISSING
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list):
        items = [_attribute_value(item, name) for item in value if not isinstance(item, list)]
        items = [item for item in items if item is not MISSING]
        return items or MISSING
    if value is None:
        return MISSING
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def attributes_clean(data: dict[str, Any], sources: tuple[str, ...]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for source in sources:
        value = lookup(data, source)
        if value is MISSING:
            continue
        pairs = value.items() if isinstance(value, dict) else [(source, value)]
        for name, item in pairs:
            if "\x00" in name:
                raise InvalidValue("an attribute name contains a NUL character")
            normalised = _attribute_value(item, name)
            if normalised is not MISSING:
                attributes[name] = normalised
    return attributes


@functools.lru_cache(maxsize=8_192)
def category_slug(name: str) -> str:
    # Catalogues repeat a few thousand category names; slugify is regex work on each call.
    return slugify(name, allow_unicode=True)[:_SLUG_MAX]


def _clip(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
