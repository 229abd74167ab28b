"""Which source field (JSON key, CSV column, dotted path) each product field is read from."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from catalog.exceptions import CatalogImportError

FIELDS = (
    "sku",
    "title",
    "description",
    "brand",
    "category",
    "price",
    "attributes",
    "popularity",
    "image_url",
)
REQUIRED = ("sku", "title")
# Read from the first of these a line has; feeds name the picture either way.
_DEFAULT_SOURCES = {"image_url": ("image_url", "image")}


@dataclass(frozen=True)
class FieldMapping:
    """Aisle field -> the source fields it is read from.

    `attributes` gathers all of its sources; any other field is read from the first of its
    sources the line has (several only in the default `image_url` <- `image_url`, `image`).
    A source name is a field (JSON key, CSV column) or a dotted path into nested JSON objects
    (`offers.price`). An empty tuple means the field is not read. `explicit` names the fields
    the caller mapped: a CSV header must have those columns.
    """

    sources: Mapping[str, tuple[str, ...]]
    explicit: frozenset[str] = frozenset()

    @classmethod
    def default(cls) -> "FieldMapping":
        return cls({name: _DEFAULT_SOURCES.get(name, (name,)) for name in FIELDS})

    def source(self, name: str) -> str | None:
        sources = self.sources.get(name, ())
        return sources[0] if sources else None


def mapping_build(*, pairs: Sequence[str] = (), mapping_file: Path | None = None) -> FieldMapping:
    """The default mapping, overridden by a JSON mapping file, then by `FIELD=SOURCE` pairs.

    `attributes` takes several sources (a comma-separated list, a JSON list, or repeated pairs);
    every other field one. `FIELD=` (nothing after `=`) stops reading that field.
    """
    sources = dict(FieldMapping.default().sources)
    explicit: set[str] = set()
    if mapping_file is not None:
        try:
            loaded = orjson.loads(Path(mapping_file).read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise CatalogImportError(f"cannot read the mapping file {mapping_file}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise CatalogImportError("the mapping file must hold a JSON object: {field: source}")
        for name, value in loaded.items():
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) for v in values):
                raise CatalogImportError(f"mapping for {name!r} must be a string or a list")
            _mapping_set(sources, explicit, name, values)
    cli_attributes: list[str] = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep:
            raise CatalogImportError(f"--map expects FIELD=SOURCE, got {pair!r}")
        values = [v.strip() for v in value.split(",")] if value.strip() else []
        if name == "attributes" and values:
            # Repeated --map attributes=... pairs add up; the first one replaces the default.
            cli_attributes.extend(values)
            values = cli_attributes
        _mapping_set(sources, explicit, name, values)
    for name in REQUIRED:
        if not sources[name]:
            raise CatalogImportError(f"{name} must be mapped to a source field")
    return FieldMapping(sources, frozenset(explicit))


def _mapping_set(
    sources: dict[str, tuple[str, ...]], explicit: set[str], name: str, values: list[str]
) -> None:
    if name not in FIELDS:
        raise CatalogImportError(f"unknown field {name!r} in the mapping; fields: {FIELDS}")
    values = [v for v in values if v]
    if name != "attributes" and len(values) > 1:
        raise CatalogImportError(f"{name} takes one source field, got {values}")
    sources[name] = tuple(values)
    explicit.add(name)
