"""Validating one record and mapping it to a product row, with every reason it is invalid."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from catalog.importing.formats import Record
from catalog.importing.mapping import REQUIRED, FieldMapping
from catalog.importing.values import (
    MISSING,
    InvalidValue,
    attributes_clean,
    category_clean,
    category_slug,
    image_url_clean,
    lookup,
    lookup_first,
    popularity_clean,
    price_clean,
    text_clean,
)
from catalog.models import Product

CATEGORY_PATH_ATTRIBUTE = "category_path"

_SKU_MAX = Product._meta.get_field("sku").max_length
_TITLE_MAX = Product._meta.get_field("title").max_length
_BRAND_MAX = Product._meta.get_field("brand").max_length


@dataclass(slots=True)
class Row:
    """A valid line, ready to write; `price` None means "keep the known product's price"."""

    record: Record
    sku: str
    title: str
    description: str
    brand: str
    category_slug: str
    category_name: str
    price: Decimal | None
    attributes: dict[str, Any]
    popularity: float
    image_url: str


class LineParser:
    """Reads a record's fields through the mapping; says every reason a line is invalid."""

    def __init__(self, mapping: FieldMapping, default_category: str, separator: str) -> None:
        self.mapping = mapping
        self.separator = separator
        self.default_category = default_category

    def sku(self, data: dict[str, Any]) -> str | None:
        """The line's sku if readable, even when the rest of the line is not."""
        value = lookup(data, self.mapping.source("sku"))
        try:
            return None if value is MISSING else text_clean(value, "sku", _SKU_MAX, one_line=False)
        except InvalidValue:
            return None

    def parse(self, record: Record, data: dict[str, Any]) -> tuple[Row | None, list[str]]:
        reasons: list[str] = []
        mapping = self.mapping

        def read(name: str, convert: Callable[[Any], Any], default: Any) -> Any:
            value = lookup_first(data, mapping.sources.get(name, ()))
            if value is MISSING:
                if name in REQUIRED:
                    reasons.append(f"no {name} (field {mapping.source(name)!r})")
                return default
            try:
                return convert(value)
            except InvalidValue as exc:
                reasons.append(str(exc))
                return default

        sku = read("sku", lambda v: text_clean(v, "sku", _SKU_MAX, one_line=False), "")
        title = read("title", lambda v: text_clean(v, "title", _TITLE_MAX, one_line=True), "")
        if not reasons and not (sku and title):  # a value of only spaces
            reasons.append("no sku" if not sku else "no title")
        description = read(
            "description", lambda v: text_clean(v, "description", None, one_line=False), ""
        )
        brand = read("brand", lambda v: text_clean(v, "brand", _BRAND_MAX, one_line=True), "")
        leaf, path = read("category", lambda v: category_clean(v, self.separator), ("", []))
        price = read("price", price_clean, None)
        popularity = read("popularity", popularity_clean, 0.0)
        image_url = read("image_url", image_url_clean, "")
        try:
            attributes = attributes_clean(data, mapping.sources.get("attributes", ()))
        except InvalidValue as exc:
            reasons.append(str(exc))
            attributes = {}
        name = leaf or self.default_category
        slug = category_slug(name)
        if not slug:
            reasons.append(f"category {name!r} has no letters or digits to make a slug from")
        if reasons:
            return None, reasons
        if len(path) > 1:
            attributes = {CATEGORY_PATH_ATTRIBUTE: " > ".join(path), **attributes}
        return (
            Row(
                record=record,
                sku=sku,
                title=title,
                description=description,
                brand=brand,
                category_slug=slug,
                category_name=name,
                price=price,
                attributes=attributes,
                popularity=popularity,
                image_url=image_url,
            ),
            [],
        )
