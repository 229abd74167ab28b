"""Reading records from a catalogue's lines: JSON Lines, CSV/TSV with a header, ES bulk bodies."""

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from catalog.exceptions import CatalogImportError
from catalog.importing.files import CatalogFile
from catalog.importing.mapping import FieldMapping

_BULK_ACTIONS = ("index", "create", "update", "delete")


@dataclass(slots=True)
class Record:
    """One source record: its first line's number, raw text, parsed fields or why they failed."""

    line: int
    raw: bytes | str
    data: dict[str, Any] | None = None
    error: str | None = None

    def text(self) -> str:
        raw = self.raw.decode("utf-8", "replace") if isinstance(self.raw, bytes) else self.raw
        return raw.rstrip("\r\n")


def _json_records(lines: Iterable[bytes]) -> Iterator[Record]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Record(number, line, error=_json_error(exc))
            continue
        if not isinstance(data, dict):
            yield Record(number, line, error="not a JSON object")
        elif _bulk_action(data):
            yield Record(
                number, line, error="an Elasticsearch bulk action line: import with es-bulk"
            )
        else:
            yield Record(number, line, data)


def _bulk_records(lines: Iterable[bytes]) -> Iterator[Record]:
    """An ES bulk body: `{"index": {"_id": ...}}` then the document; `_id` readable as a field."""
    pending: tuple[int, str, Any] | None = None  # the action line waiting for its document
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            pending = None
            yield Record(number, line, error=_json_error(exc))
            continue
        action = _bulk_action(data)
        if action:
            if pending is not None:
                yield Record(pending[0], b"", error=f"a bulk {pending[1]!r} without a document")
            if action == "delete":
                pending = None
                yield Record(number, line, error="a bulk 'delete' action; only index/create")
            else:
                pending = (number, action, data[action].get("_id"))
            continue
        if pending is None:
            yield Record(number, line, error="a document without a bulk action line before it")
        elif pending[1] == "update":
            yield Record(number, line, error="a bulk 'update' document; only index/create")
        elif not isinstance(data, dict):
            yield Record(number, line, error="not a JSON object")
        else:
            if pending[2] is not None:
                data.setdefault("_id", pending[2])
            yield Record(number, line, data)
        pending = None
    if pending is not None:
        yield Record(pending[0], b"", error=f"a bulk {pending[1]!r} without a document")


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
) -> Iterator[Record]:
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
            yield Record(start, "".join(consumed), error=f"not valid CSV: {exc}")
            consumed.clear()
            start = reader.line_num + 1
            continue
        text, line, end = "".join(consumed), start, reader.line_num
        consumed.clear()
        start = end + 1
        if not row:
            continue
        if any(number in bad_lines for number in range(line, end + 1)):
            yield Record(line, text, error="not valid UTF-8")
        elif len(row) != len(header):
            yield Record(
                line, text, error=f"not valid CSV: {len(row)} fields, the header has {len(header)}"
            )
        else:
            yield Record(line, text, dict(zip(header, row, strict=True)))


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


def records_read(file: CatalogFile, file_format: str, mapping: FieldMapping) -> Iterator[Record]:
    """The file's records, one at a time, in the given format."""
    lines = file.lines()
    if file_format == "jsonl":
        return _json_records(lines)
    if file_format == "es-bulk":
        return _bulk_records(lines)
    return _csv_records(
        lines,
        delimiter="\t" if file_format == "tsv" else ",",
        on_header=_csv_header_check(mapping),
    )
