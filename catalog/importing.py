"""Catalogue import: stream a retailer's file, validate every line, upsert products by `sku`.

Formats: JSON Lines, CSV/TSV with a header row, and Elasticsearch bulk bodies (an action line, then
a document line), each plain, gzip or zip (one file inside); compression is told by magic bytes,
the format by the file name or `file_format`. Lines are read and written in batches inside ONE
transaction, so memory stays bounded (except for the set of skus seen, needed to catch repeats
and for `delete_missing`) and a failed import leaves nothing behind.
"""

import contextlib
import csv
import functools
import gzip
import math
import os
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO

import orjson
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from catalog.exceptions import CatalogImportError, CatalogImportInvalid
from catalog.models import Category, Product
from catalog.signals import products_bulk_changed

FIELDS = ("sku", "title", "description", "brand", "category", "price", "attributes", "popularity")
REQUIRED = ("sku", "title")
FORMATS = ("jsonl", "csv", "tsv", "es-bulk")
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".ldjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
}
_WRAPPERS = (".gz", ".gzip", ".zip")
_BULK_ACTIONS = ("index", "create", "update", "delete")

DEFAULT_CATEGORY = "Uncategorised"
DEFAULT_BATCH = 2_000
PROBLEM_LIMIT = 50
CATEGORY_PATH_ATTRIBUTE = "category_path"

_SKU_MAX = Product._meta.get_field("sku").max_length
_TITLE_MAX = Product._meta.get_field("title").max_length
_BRAND_MAX = Product._meta.get_field("brand").max_length
_SOURCE_MAX = Product._meta.get_field("source").max_length
_CATEGORY_MAX = Category._meta.get_field("name").max_length
_SLUG_MAX = Category._meta.get_field("slug").max_length
_PRICE_MAX = Decimal("99999999.99")  # max_digits=10, decimal_places=2
_CENT = Decimal("0.01")
_BOM = b"\xef\xbb\xbf"
# Postgres advisory lock taken for the import's transaction: one import at a time, so two imports
# touching the same skus in different orders can never deadlock or race --delete-missing.
_LOCK_CLASS = 0x494D5054  # "IMPT"
_LOCK_KEY = 1
_MISSING: Any = object()
_NO_PRICE = "no price, and no --default-price for new products"

_PRODUCT_TABLE = Product._meta.db_table
_STAGE = "catalog_import_stage"
_STAGE_SQL = f"""
    CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (
        sku varchar, title varchar, description text, price numeric(10, 2), category_id bigint,
        brand varchar, attributes jsonb, popularity double precision
    ) ON COMMIT DROP
"""
_COPY_SQL = (
    f"COPY {_STAGE} (sku, title, description, price, category_id, brand, attributes, popularity)"
    " FROM STDIN"
)
# `xmax = 0` holds for a row this statement inserted, not for one it updated: Postgres's own
# way of telling the two apart in an upsert's RETURNING.
_UPSERT_SQL = f"""
    INSERT INTO {_PRODUCT_TABLE} AS p (sku, title, description, price, category_id, brand,
                                       attributes, popularity, source, created_at, updated_at)
    SELECT sku, title, description, price, category_id, brand, attributes, popularity,
           %(source)s, %(now)s, %(now)s
    FROM {_STAGE}
    ON CONFLICT (sku) DO UPDATE SET
        title = EXCLUDED.title, description = EXCLUDED.description, price = EXCLUDED.price,
        category_id = EXCLUDED.category_id, brand = EXCLUDED.brand,
        attributes = EXCLUDED.attributes, popularity = EXCLUDED.popularity,
        source = EXCLUDED.source, updated_at = EXCLUDED.updated_at
    WHERE (p.title, p.description, p.price, p.category_id, p.brand, p.attributes, p.popularity,
           p.source)
        IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.description, EXCLUDED.price,
                          EXCLUDED.category_id, EXCLUDED.brand, EXCLUDED.attributes,
                          EXCLUDED.popularity, EXCLUDED.source)
    RETURNING p.id, p.xmax = 0
"""  # noqa: S608 - table names are ours, values are parameters


# --- the mapping ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldMapping:
    """Aisle field -> the source fields it is read from (several only for `attributes`).

    A source name is a field (JSON key, CSV column) or a dotted path into nested JSON objects
    (`offers.price`). An empty tuple means the field is not read. `explicit` names the fields
    the caller mapped: a CSV header must have those columns.
    """

    sources: Mapping[str, tuple[str, ...]]
    explicit: frozenset[str] = frozenset()

    @classmethod
    def default(cls) -> "FieldMapping":
        return cls({name: (name,) for name in FIELDS})

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


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    line: int
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"line {self.line}: {'; '.join(self.reasons)}"


@dataclass
class ImportResult:
    source: str
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    kept: int = 0  # products --delete-missing found stale but kept, because orders refer to them
    rejected: int = 0
    categories_created: int = 0
    seconds: float = 0.0
    problems: list[ImportProblem] = field(default_factory=list)  # the first PROBLEM_LIMIT
    deletions_skipped: str = ""  # why --delete-missing deleted nothing, when it had to hold back


# --- reading ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Record:
    """One source record: its first line's number, raw text, parsed fields or why they failed."""

    line: int
    raw: bytes | str
    data: dict[str, Any] | None = None
    error: str | None = None

    def text(self) -> str:
        raw = self.raw.decode("utf-8", "replace") if isinstance(self.raw, bytes) else self.raw
        return raw.rstrip("\r\n")


class _Input:
    """The file opened for reading: the decompressed byte stream, its name, progress in bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stack = contextlib.ExitStack()
        try:
            raw = self._stack.enter_context(open(path, "rb"))  # noqa: SIM115 - closed by close()
            self.size = os.fstat(raw.fileno()).st_size
            magic = raw.read(4)
            raw.seek(0)
            self.name = path.name
            self.stream: IO[bytes]
            if magic[:2] == b"\x1f\x8b":
                self.stream = self._stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
                self.name = _strip_suffix(path.name)
            elif magic == b"PK\x03\x04":
                archive = self._stack.enter_context(zipfile.ZipFile(raw))
                members = [
                    info
                    for info in archive.infolist()
                    if not info.is_dir() and not info.filename.startswith("__MACOSX/")
                ]
                if len(members) != 1:
                    raise CatalogImportError(
                        f"{path.name} holds {len(members)} files; a catalogue zip holds one"
                    )
                self.stream = self._stack.enter_context(archive.open(members[0]))
                self.name = Path(members[0].filename).name
            else:
                self.stream = raw
        except CatalogImportError:
            self.close()
            raise
        except (OSError, zipfile.BadZipFile) as exc:
            self.close()
            raise CatalogImportError(f"cannot read {path}: {exc}") from exc
        self._raw = raw

    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._stack.close()

    def lines(self) -> Iterator[bytes]:
        """The stream's lines; a corrupt archive mid-way is a whole-file error, not a bad line."""
        try:
            for number, line in enumerate(self.stream, 1):
                yield line.removeprefix(_BOM) if number == 1 else line
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
            raise CatalogImportError(f"cannot read {self.path}: {exc}") from exc

    def detect_format(self) -> str:
        suffix = Path(self.name).suffix.lower()
        if suffix in _EXTENSIONS:
            return _EXTENSIONS[suffix]
        peek = getattr(self.stream, "peek", None)
        head = peek(64).removeprefix(_BOM).lstrip() if peek else b""
        if head.startswith(b"{"):
            return "jsonl"
        raise CatalogImportError(
            f"cannot tell the format of {self.name}; give one of {', '.join(FORMATS)}"
        )


def _strip_suffix(name: str) -> str:
    for suffix in _WRAPPERS:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def source_from_path(path: Path) -> str:
    """`feeds/acme-2024.jsonl.gz` -> `acme-2024`: the name without compression and format."""
    name = _strip_suffix(Path(path).name)
    stem, suffix = os.path.splitext(name)
    return stem if suffix.lower() in _EXTENSIONS else name


def _json_records(lines: Iterable[bytes]) -> Iterator[_Record]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield _Record(number, line, error=_json_error(exc))
            continue
        if not isinstance(data, dict):
            yield _Record(number, line, error="not a JSON object")
        elif _bulk_action(data):
            yield _Record(
                number, line, error="an Elasticsearch bulk action line: import with es-bulk"
            )
        else:
            yield _Record(number, line, data)


def _bulk_records(lines: Iterable[bytes]) -> Iterator[_Record]:
    """An ES bulk body: `{"index": {"_id": ...}}` then the document; `_id` readable as a field."""
    pending: tuple[int, str, Any] | None = None  # the action line waiting for its document
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            pending = None
            yield _Record(number, line, error=_json_error(exc))
            continue
        action = _bulk_action(data)
        if action:
            if pending is not None:
                yield _Record(pending[0], b"", error=f"a bulk {pending[1]!r} without a document")
            if action == "delete":
                pending = None
                yield _Record(number, line, error="a bulk 'delete' action; only index/create")
            else:
                pending = (number, action, data[action].get("_id"))
            continue
        if pending is None:
            yield _Record(number, line, error="a document without a bulk action line before it")
        elif pending[1] == "update":
            yield _Record(number, line, error="a bulk 'update' document; only index/create")
        elif not isinstance(data, dict):
            yield _Record(number, line, error="not a JSON object")
        else:
            if pending[2] is not None:
                data.setdefault("_id", pending[2])
            yield _Record(number, line, data)
        pending = None
    if pending is not None:
        yield _Record(pending[0], b"", error=f"a bulk {pending[1]!r} without a document")


def _bulk_action(data: Any) -> str | None:
    if isinstance(data, dict) and len(data) == 1:
        ((key, value),) = data.items()
        if key in _BULK_ACTIONS and isinstance(value, dict):
            return key
    return None


def _json_error(exc: orjson.JSONDecodeError) -> str:
    if "UTF-8" in exc.msg:
        return "not valid UTF-8"
    return f"not valid JSON: {exc.msg} at column {exc.colno}"


def _csv_records(
    lines: Iterable[bytes], *, delimiter: str, on_header: Callable[[list[str]], None]
) -> Iterator[_Record]:
    """Header-row CSV; a record spanning lines (quoted newlines) is numbered by its first line."""
    bad_lines: set[int] = set()
    consumed: list[str] = []  # the lines csv has read since the last record

    def decoded() -> Iterator[str]:
        for number, raw in enumerate(lines, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("utf-8", "replace")
                bad_lines.add(number)
            consumed.append(text)
            yield text

    # Descriptions can outgrow csv's 128 KiB default; a line still has to fit in memory.
    csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))
    reader = csv.reader(decoded(), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise CatalogImportError(f"the header row is not valid CSV: {exc}") from exc
    if bad_lines:
        raise CatalogImportError("the header row is not valid UTF-8")
    on_header(header)
    consumed.clear()
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield _Record(start, "".join(consumed), error=f"not valid CSV: {exc}")
            consumed.clear()
            start = reader.line_num + 1
            continue
        text, line, end = "".join(consumed), start, reader.line_num
        consumed.clear()
        start = end + 1
        if not row:
            continue
        if any(number in bad_lines for number in range(line, end + 1)):
            yield _Record(line, text, error="not valid UTF-8")
        elif len(row) != len(header):
            yield _Record(
                line, text, error=f"not valid CSV: {len(row)} fields, the header has {len(header)}"
            )
        else:
            yield _Record(line, text, dict(zip(header, row, strict=True)))


def _csv_header_check(mapping: FieldMapping) -> Callable[[list[str]], None]:
    def check(header: list[str]) -> None:
        if len(set(header)) != len(header) or "" in header:
            raise CatalogImportError(f"the header row has empty or repeated names: {header}")
        for name in sorted(mapping.explicit):
            for source in mapping.sources[name]:
                if source not in header:
                    raise CatalogImportError(
                        f"{name} is mapped to {source!r}, which is not a column: {header}"
                    )

    return check


# --- one line into a product ------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    record: _Record
    sku: str
    title: str
    description: str
    brand: str
    category_slug: str
    category_name: str
    price: Decimal | None
    attributes: dict[str, Any]
    popularity: float


class _Invalid(Exception):
    """One field's problem; the parser collects them all before rejecting the line."""


def _lookup(data: dict[str, Any], source: str | None) -> Any:
    if source is None:
        return _MISSING
    if source in data:
        value = data[source]
    elif "." in source:
        value = data
        for part in source.split("."):
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
    else:
        return _MISSING
    if value is None or value == "" or value == [] or value == {}:
        return _MISSING
    return value


def _text(value: Any, name: str, max_length: int | None, *, one_line: bool) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    elif not one_line and isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = "\n".join(v.strip() for v in value if v.strip())
    else:
        raise _Invalid(f"{name} must be text, got {type(value).__name__}")
    text = " ".join(text.split()) if one_line else text.strip()
    if "\x00" in text:
        raise _Invalid(f"{name} contains a NUL character")
    if max_length is not None and len(text) > max_length:
        raise _Invalid(f"{name} is longer than {max_length} characters ({len(text)})")
    return text


def _price(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Invalid(f"price is not a number: {value!r}")
    try:
        # str(float) is the shortest repr, so 29.97 stays 29.97 rather than its binary expansion.
        price = Decimal(str(value).strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise _Invalid(f"price is not a number: {_clip(value)}") from None
    if not price.is_finite():
        raise _Invalid(f"price is not a number: {_clip(value)}")
    if price < 0:
        raise _Invalid(f"price is negative: {_clip(value)}")
    if price > _PRICE_MAX:
        raise _Invalid(f"price is larger than {_PRICE_MAX}: {_clip(value)}")
    if price != price.quantize(_CENT):
        raise _Invalid(f"price has more than 2 decimal places: {_clip(value)}")
    return price.quantize(_CENT)


def _popularity(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Invalid(f"popularity is not a number: {_clip(value)}")
    try:
        number = float(value)
    except ValueError:
        raise _Invalid(f"popularity is not a number: {_clip(value)}") from None
    if not math.isfinite(number):
        raise _Invalid(f"popularity is not a number: {_clip(value)}")
    if number < 0:
        raise _Invalid(f"popularity is negative: {_clip(value)}")
    return number


def _category(value: Any, separator: str) -> tuple[str, list[str]]:
    """(leaf name, path parts): `A > B > C` or ["A", "B", "C"] both give leaf "C"."""
    if isinstance(value, str):
        parts = value.split(separator)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = value
    else:
        raise _Invalid(f"category must be text or a list of text, got {type(value).__name__}")
    parts = [" ".join(part.split()) for part in parts]
    parts = [part for part in parts if part]
    if not parts:
        return "", []
    leaf = parts[-1]
    if "\x00" in leaf:
        raise _Invalid("category contains a NUL character")
    if len(leaf) > _CATEGORY_MAX:
        raise _Invalid(f"category is longer than {_CATEGORY_MAX} characters ({len(leaf)})")
    return leaf, parts


def _attribute_value(value: Any, name: str) -> Any:
    """A string (stripped), number or boolean, or a list of them; nested objects become JSON."""
    if isinstance(value, str):
        if "\x00" in value:
            raise _Invalid(f"attribute {name!r} contains a NUL character")
        return value.strip() or _MISSING
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list):
        items = [_attribute_value(item, name) for item in value if not isinstance(item, list)]
        items = [item for item in items if item is not _MISSING]
        return items or _MISSING
    if value is None:
        return _MISSING
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _attributes(data: dict[str, Any], sources: tuple[str, ...]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for source in sources:
        value = _lookup(data, source)
        if value is _MISSING:
            continue
        pairs = value.items() if isinstance(value, dict) else [(source, value)]
        for name, item in pairs:
            if "\x00" in name:
                raise _Invalid("an attribute name contains a NUL character")
            normalised = _attribute_value(item, name)
            if normalised is not _MISSING:
                attributes[name] = normalised
    return attributes


@functools.lru_cache(maxsize=8_192)
def _slug(name: str) -> str:
    # Catalogues repeat a few thousand category names; slugify is regex work on each call.
    return slugify(name, allow_unicode=True)[:_SLUG_MAX]


def _clip(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Parser:
    def __init__(self, mapping: FieldMapping, default_category: str, separator: str) -> None:
        self.mapping = mapping
        self.separator = separator
        self.default_category = default_category

    def sku(self, data: dict[str, Any]) -> str | None:
        """The line's sku if readable, even when the rest of the line is not."""
        value = _lookup(data, self.mapping.source("sku"))
        try:
            return None if value is _MISSING else _text(value, "sku", _SKU_MAX, one_line=False)
        except _Invalid:
            return None

    def parse(self, record: _Record, data: dict[str, Any]) -> tuple[_Row | None, list[str]]:
        reasons: list[str] = []
        mapping = self.mapping

        def read(name: str, convert: Callable[[Any], Any], default: Any) -> Any:
            value = _lookup(data, mapping.source(name))
            if value is _MISSING:
                if name in REQUIRED:
                    reasons.append(f"no {name} (field {mapping.source(name)!r})")
                return default
            try:
                return convert(value)
            except _Invalid as exc:
                reasons.append(str(exc))
                return default

        sku = read("sku", lambda v: _text(v, "sku", _SKU_MAX, one_line=False), "")
        title = read("title", lambda v: _text(v, "title", _TITLE_MAX, one_line=True), "")
        if not reasons and not (sku and title):  # a value of only spaces
            reasons.append("no sku" if not sku else "no title")
        description = read(
            "description", lambda v: _text(v, "description", None, one_line=False), ""
        )
        brand = read("brand", lambda v: _text(v, "brand", _BRAND_MAX, one_line=True), "")
        leaf, path = read("category", lambda v: _category(v, self.separator), ("", []))
        price = read("price", _price, None)
        popularity = read("popularity", _popularity, 0.0)
        try:
            attributes = _attributes(data, mapping.sources.get("attributes", ()))
        except _Invalid as exc:
            reasons.append(str(exc))
            attributes = {}
        name = leaf or self.default_category
        slug = _slug(name)
        if not slug:
            reasons.append(f"category {name!r} has no letters or digits to make a slug from")
        if reasons:
            return None, reasons
        if len(path) > 1:
            attributes = {CATEGORY_PATH_ATTRIBUTE: " > ".join(path), **attributes}
        return (
            _Row(
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
            ),
            [],
        )


# --- writing ----------------------------------------------------------------------------------


class _Writer:
    """Upserts batches of parsed rows; leaves unchanged products alone; records every change.

    Each batch is COPied into a temporary staging table, then moved with one
    INSERT ... ON CONFLICT (sku) DO UPDATE ... WHERE <any column differs>: Postgres skips the
    unchanged rows itself, and RETURNING names exactly the products created or changed. (The
    ORM's bulk_create quotes every value in Python: four times slower on the ESCI file.)
    """

    def __init__(self, *, source: str, default_price: Decimal | None, result: ImportResult) -> None:
        self.source = source
        self.default_price = default_price
        self.result = result
        self.categories: dict[str, int] = {}  # slug -> id
        self._staged = False

    def flush(self, rows: list[_Row], *, write: bool) -> list[tuple[ImportProblem, _Record]]:
        """Write `rows` (unless `write` is False); returns the lines that lack a needed price."""
        if not rows:
            return []
        prices = self._prices(rows)
        problems = [
            (ImportProblem(row.record.line, (_NO_PRICE,)), row.record)
            for row, price in zip(rows, prices, strict=True)
            if price is None
        ]
        if not write:
            return problems
        self._categories_resolve(rows)
        with connection.cursor() as cursor:
            self._stage(cursor)
            with cursor.copy(_COPY_SQL) as copy:
                for row, price in zip(rows, prices, strict=True):
                    if price is None:
                        continue
                    copy.write_row(
                        (
                            row.sku,
                            row.title,
                            row.description,
                            price,
                            self.categories[row.category_slug],
                            row.brand,
                            orjson.dumps(row.attributes).decode(),
                            row.popularity,
                        )
                    )
            cursor.execute(_UPSERT_SQL, {"source": self.source, "now": timezone.now()})
            changed = cursor.fetchall()
        created = sum(1 for _, inserted in changed if inserted)
        self.result.created += created
        self.result.updated += len(changed) - created
        self.result.unchanged += len(rows) - len(problems) - len(changed)
        if changed:
            # Raw SQL fires no model signals: the index outbox learns of the changes from this one.
            products_bulk_changed.send(sender=Product, product_ids=[pk for pk, _ in changed])
        return problems

    def _prices(self, rows: list[_Row]) -> list[Decimal | None]:
        """Each row's price: a line without one keeps a known product's price; a new product
        takes the default price, or has none (an invalid line)."""
        unpriced = [row.sku for row in rows if row.price is None]
        known = (
            dict(Product.objects.filter(sku__in=unpriced).values_list("sku", "price"))
            if unpriced
            else {}
        )
        return [
            row.price if row.price is not None else known.get(row.sku, self.default_price)
            for row in rows
        ]

    def _stage(self, cursor: Any) -> None:
        if not self._staged:
            # ON COMMIT DROP: the table lives only as long as the import's transaction.
            cursor.execute(_STAGE_SQL)
            self._staged = True
        cursor.execute(f"TRUNCATE {_STAGE}")

    def _categories_resolve(self, rows: list[_Row]) -> None:
        """Match each new category by slug, then by case-insensitive name; create the rest."""
        wanted: dict[str, str] = {}
        for row in rows:
            if row.category_slug not in self.categories:
                wanted.setdefault(row.category_slug, row.category_name)
        if not wanted:
            return
        self._categories_match(wanted)
        missing = {slug: name for slug, name in wanted.items() if slug not in self.categories}
        if missing:
            Category.objects.bulk_create(
                [Category(name=name, slug=slug) for slug, name in missing.items()],
                ignore_conflicts=True,
            )
            self._categories_match(missing)
            self.result.categories_created += len(missing)
        unresolved = [name for slug, name in wanted.items() if slug not in self.categories]
        if unresolved:
            raise CatalogImportError(f"could not create the categories {unresolved}")

    def _categories_match(self, wanted: dict[str, str]) -> None:
        self.categories.update(
            Category.objects.filter(slug__in=list(wanted)).values_list("slug", "id")
        )
        by_name = {
            name.lower(): slug for slug, name in wanted.items() if slug not in self.categories
        }
        if by_name:
            for name, category_id in (
                Category.objects.annotate(lower_name=Lower("name"))
                .filter(lower_name__in=list(by_name))
                .values_list("lower_name", "id")
            ):
                self.categories[by_name[name]] = category_id

    def delete_missing(self, seen: Mapping[str, int]) -> None:
        """Delete this source's products the file no longer lists, unless orders refer to them."""
        stale = [
            pk
            for pk, sku in Product.objects.filter(source=self.source, sku__isnull=False)
            .values_list("id", "sku")
            .iterator(chunk_size=10_000)
            if sku not in seen
        ]
        for start in range(0, len(stale), 1_000):
            chunk = stale[start : start + 1_000]
            deletable = list(
                Product.objects.filter(id__in=chunk, order_items__isnull=True).values_list(
                    "id", flat=True
                )
            )
            # QuerySet.delete() sends post_delete per product, which writes the outbox rows.
            Product.objects.filter(id__in=deletable).delete()
            self.result.deleted += len(deletable)
            self.result.kept += len(chunk) - len(deletable)


# --- the service ------------------------------------------------------------------------------


class _Problems:
    """Every problem counted; the first `limit` by line number kept; each written to `rejects`."""

    def __init__(self, limit: int, rejects: BinaryIO | None) -> None:
        self.limit = limit
        self.rejects = rejects
        self.count = 0
        self.kept: list[ImportProblem] = []
        self._pending: list[tuple[ImportProblem, str]] = []

    def add(self, problem: ImportProblem, text: str) -> None:
        self.count += 1
        self._pending.append((problem, text))

    def settle(self) -> None:
        """Called after each batch: no later problem can have a smaller line number."""
        self._pending.sort(key=lambda item: item[0].line)
        for problem, text in self._pending:
            if len(self.kept) < self.limit:
                self.kept.append(problem)
            if self.rejects is not None:
                self.rejects.write(
                    orjson.dumps({"line": problem.line, "reasons": problem.reasons, "text": text})
                    + b"\n"
                )
        self._pending.clear()


def catalog_import(
    *,
    path: Path | str,
    mapping: FieldMapping | None = None,
    file_format: str | None = None,
    source: str | None = None,
    default_price: Decimal | None = None,
    default_category: str = DEFAULT_CATEGORY,
    category_separator: str = ">",
    skip_invalid: bool = False,
    rejects_path: Path | str | None = None,
    delete_missing: bool = False,
    batch_size: int = DEFAULT_BATCH,
    problem_limit: int = PROBLEM_LIMIT,
    progress: TextIO | None = None,
) -> ImportResult:
    """Import a catalogue file, upserting products by sku, in one transaction.

    All or nothing unless `skip_invalid`: any invalid line raises `CatalogImportInvalid` (the
    first `problem_limit` problems, by line) and nothing is written. With `skip_invalid` the valid
    lines are imported. Either way every rejected line goes to `rejects_path` (JSON Lines:
    line, reasons, text) when given. An unchanged product is not written and not re-indexed;
    created and changed ones reach the search index through the outbox, in this transaction.
    `delete_missing` deletes products of `source` whose sku the file no longer lists.
    """
    started = time.perf_counter()
    path = Path(path)
    mapping = mapping or FieldMapping.default()
    if file_format is not None and file_format not in FORMATS:
        raise CatalogImportError(f"unknown format {file_format!r}; one of {', '.join(FORMATS)}")
    if delete_missing and source is None:
        raise CatalogImportError("--delete-missing needs --source: it deletes only that source")
    source = source if source is not None else source_from_path(path)
    if not source.strip() or len(source) > _SOURCE_MAX:
        raise CatalogImportError(f"the source must be 1 to {_SOURCE_MAX} characters")
    if default_price is not None:
        try:
            default_price = _price(default_price)
        except _Invalid as exc:
            raise CatalogImportError(f"--default-price: {exc}") from None
    if batch_size < 1:
        raise CatalogImportError("the batch size must be at least 1")

    result = ImportResult(source=source)
    parser = _Parser(mapping, default_category, category_separator)
    writer = _Writer(source=source, default_price=default_price, result=result)
    seen: dict[str, int] = {}  # sku -> the line it first appeared on
    unreadable_skus = 0  # rejected lines whose sku could not be read
    source_input = _Input(path)
    with contextlib.ExitStack() as stack:
        stack.callback(source_input.close)
        rejects = (
            stack.enter_context(open(rejects_path, "wb"))  # noqa: SIM115 - closed by the stack
            if rejects_path is not None
            else None
        )
        problems = _Problems(problem_limit, rejects)
        fmt = file_format or source_input.detect_format()
        lines = source_input.lines()
        if fmt == "jsonl":
            records = _json_records(lines)
        elif fmt == "es-bulk":
            records = _bulk_records(lines)
        else:
            records = _csv_records(
                lines,
                delimiter="\t" if fmt == "tsv" else ",",
                on_header=_csv_header_check(mapping),
            )
        bar = stack.enter_context(
            tqdm(
                total=source_input.size,
                desc="import",
                unit="B",
                unit_scale=True,
                file=progress,
                disable=progress is None,
            )
        )
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, _LOCK_KEY])
            batch: list[_Row] = []
            position = 0
            for record in records:
                result.records += 1
                reasons: list[str]
                row = None
                sku = None
                if record.data is None:
                    reasons = [record.error or "unreadable"]
                else:
                    row, reasons = parser.parse(record, record.data)
                    sku = row.sku if row is not None else parser.sku(record.data)
                if sku is not None:
                    first = seen.setdefault(sku, record.line)
                    if first != record.line:
                        reasons.append(f"sku {sku!r} repeats line {first}")
                        row = None
                if row is None:
                    unreadable_skus += sku is None
                    problems.add(ImportProblem(record.line, tuple(reasons)), record.text())
                else:
                    batch.append(row)
                if len(batch) >= batch_size:
                    _flush(writer, batch, problems, skip_invalid=skip_invalid)
                    batch = []
                    now = source_input.position()
                    bar.update(now - position)
                    position = now
            _flush(writer, batch, problems, skip_invalid=skip_invalid)
            bar.update(source_input.size - position)
            result.rejected = problems.count
            result.problems = problems.kept
            if problems.count and not skip_invalid:
                # Raised inside the atomic block: every write of this import rolls back.
                raise CatalogImportInvalid(
                    problems=problems.kept, rejected=problems.count, records=result.records
                )
            if delete_missing:
                if unreadable_skus:
                    result.deletions_skipped = (
                        f"{unreadable_skus:,} rejected lines have no readable sku, so any "
                        "product could still be in the file"
                    )
                else:
                    writer.delete_missing(seen)
    result.seconds = time.perf_counter() - started
    return result


def _flush(writer: _Writer, batch: list[_Row], problems: _Problems, *, skip_invalid: bool) -> None:
    # All or nothing: after the first problem, keep validating but stop writing.
    write = skip_invalid or not problems.count
    for problem, record in writer.flush(batch, write=write):
        problems.add(problem, record.text())
    problems.settle()
