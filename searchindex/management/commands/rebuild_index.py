"""`manage.py rebuild_index`: a fresh product index behind the alias, or `--check` for drift."""

import argparse
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.models import Product
from searchindex.client import ALIAS
from searchindex.drift import DriftReport, index_drift
from searchindex.exceptions import RebuildError
from searchindex.rebuild import REBUILD_CHUNK, REBUILD_THREADS, index_rebuild


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Build a new timestamped product index from Postgres with parallel bulk requests, replay "
        "every change committed meanwhile, merge it into one segment, swap the alias in one "
        "atomic step and delete older indices (keep some with --keep). Searches keep answering "
        "from the old index until the swap; if Elasticsearch fails the rebuild, the alias is left "
        "alone, the new index deleted, and the exit status is 1. With --check (or --dry-run) "
        "nothing is written: the index is compared with Postgres (counts and a sample of "
        "documents, or every one with --full) and the exit status is 1 if they drift."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--keep",
            type=_non_negative_int,
            default=0,
            help="previous indices to keep after the swap, newest first (default 0)",
        )
        parser.add_argument(
            "--check",
            "--dry-run",
            action="store_true",
            dest="check",
            help="compare the index with Postgres and report drift instead of rebuilding",
        )
        parser.add_argument(
            "--full", action="store_true", help="with --check: compare every document"
        )
        parser.add_argument(
            "--sample",
            type=_non_negative_int,
            default=500,
            help="with --check: documents to compare (default 500)",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=REBUILD_CHUNK,
            help=f"documents per bulk request (default {REBUILD_CHUNK:,}; requests also stop at "
            "ELASTICSEARCH_BULK_MAX_BYTES)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=REBUILD_THREADS,
            help=f"bulk requests in flight at once (default {REBUILD_THREADS})",
        )
        parser.add_argument(
            "--forcemerge",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="merge the new index into one segment before the swap "
            "(default: ELASTICSEARCH_REBUILD_FORCEMERGE)",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar (also off when not a tty)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            self._check(sample=None if options["full"] else options["sample"])
            return

        total = Product.objects.count()
        show_progress = not options["no_progress"] and self.stderr.isatty()
        bar = tqdm(
            total=total, unit="doc", desc="Indexing", file=sys.stderr, disable=not show_progress
        )
        started = time.perf_counter()
        try:
            result = index_rebuild(
                keep=options["keep"],
                progress=bar.update,
                chunk_size=options["chunk_size"],
                thread_count=options["threads"],
                forcemerge=options["forcemerge"],
            )
        except RebuildError as exc:
            # One line, no traceback: what failed, how the alias stands, what to do.
            raise CommandError(f"rebuild_index: {exc}") from exc
        finally:
            bar.close()
        seconds = time.perf_counter() - started
        rate = result.documents / seconds if seconds else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"Indexed {result.documents:,} products into {result.index} in {seconds:.1f} s "
                f"({rate:,.0f} docs/s); replayed {result.replayed:,} changes made meanwhile; "
                f"alias {ALIAS!r} now points at it."
            )
        )
        if result.previous:
            self.stdout.write(f"Previous index: {', '.join(result.previous)}")
        if result.deleted:
            self.stdout.write(f"Deleted: {', '.join(result.deleted)}")

    def _check(self, *, sample: int | None) -> None:
        report = index_drift(sample=sample)
        self._report(report)
        if not report.ok:
            raise CommandError("The index has drifted from Postgres; run rebuild_index.")

    def _report(self, report: DriftReport) -> None:
        write = self.stdout.write
        write(f"Alias {ALIAS!r} → {', '.join(report.index) or 'nothing (no index built yet)'}")
        write(f"Products in Postgres: {report.postgres_count:,}; documents: {report.index_count:,}")
        write(f"Compared {report.checked:,} documents")
        pending = f"Pending outbox rows: {report.pending:,}"
        if report.oldest_pending_seconds is not None:
            pending += f" (oldest {report.oldest_pending_seconds:.1f} s)"
        write(pending)
        for label, ids in (("Missing", report.missing), ("Unexpected", report.unexpected)):
            if ids:
                write(f"{label} documents ({len(ids):,}): {_head(ids)}")
        if report.stale:
            write(f"Stale documents ({len(report.stale):,}):")
            for pk, fields in list(report.stale.items())[:20]:
                write(f"  {pk}: {', '.join(fields)}")
        write(self.style.SUCCESS("No drift.") if report.ok else self.style.ERROR("Drift found."))


def _head(ids: list[int], limit: int = 20) -> str:
    shown = ", ".join(str(pk) for pk in ids[:limit])
    return shown + (f", … (+{len(ids) - limit:,})" if len(ids) > limit else "")
