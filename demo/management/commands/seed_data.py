"""`manage.py seed_data`: replace the catalog, stores and stock with a generated grocery catalog."""

import argparse
import secrets
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from demo.seeding import DEFAULT_PRODUCTS, DEFAULT_STORES, catalog_seed


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value!r}")
    return number


def _seed_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {value!r}") from None


class Command(BaseCommand):
    help = (
        "Seed a realistic Indian grocery catalog: categories, products, stores and per-store "
        "stock. RESETS by default: in one transaction it truncates every catalog, inventory "
        "and ordering table (orders included, ids restarted) and inserts fresh data, so "
        "re-running never duplicates. With --seed the result (titles, prices, stock, ids) is "
        "identical on every run. --if-empty does nothing when any product exists. Every old "
        "and new product is queued for the search index (its outbox, in the same transaction); "
        "rebuild_index is the fast way to index a whole new catalog."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--products",
            type=_positive_int,
            default=DEFAULT_PRODUCTS,
            help=f"number of products (default {DEFAULT_PRODUCTS})",
        )
        parser.add_argument(
            "--stores",
            type=_positive_int,
            default=DEFAULT_STORES,
            help=f"number of stores (default {DEFAULT_STORES})",
        )
        parser.add_argument(
            "--seed",
            type=_seed_int,
            default=None,
            help="random seed for a reproducible catalog (default: a random seed, printed)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="leave the database alone if it already has products (used by `make run`)",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bars (also off when not a tty)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed = options["seed"] if options["seed"] is not None else secrets.randbelow(2**31)
        # tqdm redraws in place, which Django's line-based OutputWrapper would break.
        show_progress = not options["no_progress"] and self.stderr.isatty()
        result = catalog_seed(
            products=options["products"],
            stores=options["stores"],
            seed=seed,
            only_if_empty=options["if_empty"],
            progress=sys.stderr if show_progress else None,
        )
        if result.skipped:
            self.stdout.write(
                f"The catalog already has {result.existing_products:,} products; "
                "left it alone (--if-empty)."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {result.categories} categories, {result.products:,} products, "
                f"{result.stores} stores and {result.inventory_rows:,} inventory rows "
                f"({result.zero_stock_rows:,} out of stock) in {result.seconds:.1f} s "
                f"(seed {result.seed})."
            )
        )
        self.stdout.write(
            "Every product is queued for the search index; a Celery worker drains the queue, or "
            "run `manage.py rebuild_index` to index the whole catalog at once."
        )
