"""`catalog_import`: stream a file's records, validate each, upsert them in one transaction."""

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection, transaction

from catalog.exceptions import CatalogImportInvalid
from catalog.importing.files import CatalogFile, source_from_path
from catalog.importing.formats import records_read
from catalog.importing.lines import LineParser, Row
from catalog.importing.options import ImportOptions, source_check
from catalog.importing.results import ImportProblem, ImportResult, ProblemLog
from catalog.importing.writing import Writer

# Called with (bytes read, file size) after each batch and once at the end.
ProgressCallback = Callable[[int, int], None]

# Postgres advisory lock taken for the import's transaction: one import at a time, so two imports
# touching the same skus in different orders can never deadlock or race --delete-missing.
_LOCK_CLASS = 0x494D5054  # "IMPT"
_LOCK_KEY = 1


def catalog_import(
    *,
    path: Path | str,
    options: ImportOptions | None = None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import a catalogue file, upserting products by sku, in one transaction.

    All or nothing unless `options.skip_invalid`: any invalid line raises `CatalogImportInvalid`
    (the first `problem_limit` problems, by line) and nothing is written. With `skip_invalid` the
    valid lines are imported. Either way every rejected line goes to `rejects_path` when given.
    An unchanged product is not written and not re-indexed; created and changed ones reach the
    search index through the outbox, in this transaction. Memory stays bounded by the batch size,
    except for the set of skus seen (needed to catch repeats and for `delete_missing`).
    """
    started = time.perf_counter()
    path = Path(path)
    options = options or ImportOptions()
    source = options.source if options.source is not None else source_from_path(path)
    source_check(source)

    result = ImportResult(source=source)
    parser = LineParser(options.mapping, options.default_category, options.category_separator)
    writer = Writer(source=source, default_price=options.default_price, result=result)
    seen: dict[str, int] = {}  # sku -> the line it first appeared on
    unreadable_skus = 0  # rejected lines whose sku could not be read
    file = CatalogFile(path)
    with contextlib.ExitStack() as stack:
        stack.callback(file.close)
        rejects = (
            stack.enter_context(open(options.rejects_path, "wb"))  # noqa: SIM115 - the stack closes it
            if options.rejects_path is not None
            else None
        )
        problems = ProblemLog(options.problem_limit, rejects)
        records = records_read(file, options.file_format or file.detect_format(), options.mapping)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, _LOCK_KEY])
            batch: list[Row] = []
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
                if len(batch) >= options.batch_size:
                    _flush(writer, batch, problems, skip_invalid=options.skip_invalid)
                    batch = []
                    if progress is not None:
                        progress(file.position(), file.size)
            _flush(writer, batch, problems, skip_invalid=options.skip_invalid)
            if progress is not None:
                progress(file.size, file.size)
            result.rejected = problems.count
            result.problems = problems.kept
            if problems.count and not options.skip_invalid:
                # Raised inside the atomic block: every write of this import rolls back.
                raise CatalogImportInvalid(
                    problems=problems.kept, rejected=problems.count, records=result.records
                )
            if options.delete_missing:
                if unreadable_skus:
                    result.deletions_skipped = (
                        f"{unreadable_skus:,} rejected lines have no readable sku, so any "
                        "product could still be in the file"
                    )
                else:
                    writer.delete_missing(seen)
    result.seconds = time.perf_counter() - started
    return result


def _flush(writer: Writer, batch: list[Row], problems: ProblemLog, *, skip_invalid: bool) -> None:
    # All or nothing: after the first problem, keep validating but stop writing.
    write = skip_invalid or not problems.count
    for problem, record in writer.flush(batch, write=write):
        problems.add(problem, record.text())
    problems.settle()
