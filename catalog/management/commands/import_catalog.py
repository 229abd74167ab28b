"""`manage.py import_catalog FILE`: load a retailer's catalogue file, upserting products by sku."""

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.exceptions import CatalogImportError, CatalogImportInvalid
from catalog.importing import (
    DEFAULT_BATCH,
    DEFAULT_CATEGORY,
    FIELDS,
    FORMATS,
    ImportOptions,
    ImportResult,
    catalog_import,
    mapping_build,
)


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"must be a number, got {value!r}") from None


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value!r}")
    return number


def _import_with_progress(path: Path, options: ImportOptions, *, show: bool) -> ImportResult:
    """The import, with a progress bar in bytes on stderr when `show`."""
    if not show:
        return catalog_import(path=path, options=options)
    with tqdm(desc="import", unit="B", unit_scale=True, file=sys.stderr) as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return catalog_import(path=path, options=options, progress=advance)


class Command(BaseCommand):
    help = (
        "Import a catalogue file (JSON Lines, CSV/TSV with a header row, or an Elasticsearch "
        "bulk body; plain, .gz or .zip) into the catalog, upserting products by sku in one "
        "transaction. Re-importing an unchanged file writes nothing. ALL OR NOTHING by default: "
        "any invalid line (bad JSON/CSV, no sku or title, bad price, repeated sku, over-long "
        "field, an image_url that is not an absolute http(s) URL) is reported with its line "
        "number, nothing is written and the exit status is 1. "
        "Changed products reach the search index through its outbox."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the catalogue file")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default=None,
            help="jsonl, csv, tsv or es-bulk (default: from the file name, else JSON if it "
            "starts with '{'). es-bulk skips the action lines; their _id is readable as '_id'",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=SOURCE",
            help=f"read FIELD ({', '.join(FIELDS)}) from the SOURCE field or column (a dotted "
            "path reaches into nested JSON). attributes takes a comma-separated list. "
            "Repeatable; overrides --mapping. Default: each field from the same-named one "
            "(image_url from image_url, else image)",
        )
        parser.add_argument(
            "--mapping",
            type=Path,
            default=None,
            metavar="FILE.json",
            help='a JSON object {"field": "source", "attributes": ["a", "b"]}',
        )
        parser.add_argument(
            "--source",
            default=None,
            help="name of this catalogue source (default: the file name without extensions); "
            "required with --delete-missing",
        )
        parser.add_argument(
            "--default-price",
            type=_decimal,
            default=None,
            metavar="AMOUNT",
            help="price of a NEW product whose line has none (without it such a line is "
            "invalid); an existing product whose line has no price keeps its price",
        )
        parser.add_argument(
            "--default-category",
            default=DEFAULT_CATEGORY,
            metavar="NAME",
            help=f"category of a line without one (default {DEFAULT_CATEGORY!r})",
        )
        parser.add_argument(
            "--category-separator",
            default=">",
            metavar="SEP",
            help="separator of a category path given as text (default '>'); the leaf is used",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the valid lines and write the invalid ones to --rejects",
        )
        parser.add_argument(
            "--rejects",
            type=Path,
            default=None,
            metavar="PATH",
            help="write every invalid line, with its line number and reasons, to PATH as JSON "
            "Lines (required with --skip-invalid)",
        )
        parser.add_argument(
            "--delete-missing",
            action="store_true",
            help="delete products of --source whose sku the file no longer lists (products "
            "that orders refer to are kept and counted)",
        )
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="run rebuild_index after the import (fastest for a whole new catalogue)",
        )
        parser.add_argument(
            "--batch-size",
            type=_positive_int,
            default=DEFAULT_BATCH,
            help=f"products per database round trip (default {DEFAULT_BATCH})",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar (also off when not a tty)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["skip_invalid"] and options["rejects"] is None:
            raise CommandError("--skip-invalid needs --rejects PATH for the rejected lines")
        # tqdm redraws in place, which Django's line-based OutputWrapper would break.
        show_progress = not options["no_progress"] and self.stderr.isatty()
        try:
            import_options = ImportOptions(
                mapping=mapping_build(pairs=options["map"], mapping_file=options["mapping"]),
                file_format=options["format"],
                source=options["source"],
                default_price=options["default_price"],
                default_category=options["default_category"],
                category_separator=options["category_separator"],
                skip_invalid=options["skip_invalid"],
                rejects_path=options["rejects"],
                delete_missing=options["delete_missing"],
                batch_size=options["batch_size"],
            )
            result = _import_with_progress(options["file"], import_options, show=show_progress)
        except CatalogImportInvalid as exc:
            lines = [exc.message, *(f"  {problem}" for problem in exc.problems)]
            if exc.rejected > len(exc.problems):
                lines.append(f"  ... and {exc.rejected - len(exc.problems):,} more")
            if options["rejects"] is not None:
                lines.append(f"Every invalid line is in {options['rejects']}.")
            raise CommandError("\n".join(lines)) from exc
        except CatalogImportError as exc:
            raise CommandError(exc.message) from exc

        summary = (
            f"Imported {result.records:,} lines from source {result.source!r} in "
            f"{result.seconds:.1f} s: {result.created:,} created, {result.updated:,} updated, "
            f"{result.unchanged:,} unchanged, {result.deleted:,} deleted, "
            f"{result.rejected:,} rejected; {result.categories_created:,} new categories."
        )
        self.stdout.write(self.style.SUCCESS(summary))
        if result.kept:
            self.stdout.write(
                f"Kept {result.kept:,} products the file no longer lists: orders refer to them."
            )
        if result.deletions_skipped:
            self.stdout.write(self.style.WARNING(f"Deleted nothing: {result.deletions_skipped}."))
        if result.rejected:
            self.stdout.write(
                self.style.WARNING(
                    f"{result.rejected:,} invalid lines were skipped; first ones:\n"
                    + "\n".join(f"  {problem}" for problem in result.problems[:10])
                    + f"\nEvery invalid line is in {options['rejects']}."
                )
            )
        if options["rebuild"]:
            call_command("rebuild_index", stdout=self.stdout, stderr=self.stderr)
        else:
            self.stdout.write(
                "Changed products are queued for the search index; a Celery worker applies them "
                "(or run `manage.py rebuild_index`)."
            )
