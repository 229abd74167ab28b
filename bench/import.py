"""Import benchmark: `import_catalog` on a generated 100,000-line JSON Lines catalogue.

Four runs against the benchmark's own database, each timed end to end (read, validate, write,
outbox rows, commit):

  (a) first import into an empty catalogue: every line creates a product;
  (b) the same file again: nothing changes, nothing is written;
  (c) the file with every tenth price changed: 10% of the products are updated;
  (d) (c) gzip-compressed, unchanged since (c): the cost of decompression on a no-op import.

  .venv/bin/python bench/import.py [--lines 100000]

The database is `aisle_bench_import` (BENCH_IMPORT_DATABASE_URL), emptied before run (a). No
Celery worker runs: the outbox rows the import writes stay queued (the index is not part of the
timing), and the drain it would enqueue after commit goes to a closed port and is dropped.
"""

import argparse
import gzip
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import database_prepare, sized  # noqa: E402 - needs the repo on sys.path

DATABASE_URL = os.environ.get(
    "BENCH_IMPORT_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_import"
)
TARGET_SECONDS = 60
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # nothing listens: enqueues are dropped
        "CACHE_KEY_PREFIX": f"aisle-bench-import-{os.getpid()}",
        "ELASTICSEARCH_INDEX_PREFIX": "bench-import-",
        "DJANGO_DEBUG": "false",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "ERROR"),
    }
)

# Word lists read better as prose; SIM905 would have them as one-word-per-line literals.
WORDS = (  # noqa: SIM905
    "organic cotton steel glass bamboo ceramic wireless compact premium classic soft durable "
    "portable waterproof handmade natural travel kitchen garden office kids outdoor vintage "
    "modern eco large small light heavy quick fresh pure smart"
).split()
NOUNS = (  # noqa: SIM905
    "towel bottle jar lamp chair mug backpack charger blanket pan kettle speaker notebook "
    "pillow basket shoe jacket watch brush mat"
).split()
BRANDS = [f"Brand{n:03d}" for n in range(300)]
DEPARTMENTS = ["Home", "Kitchen", "Outdoors", "Office", "Fashion", "Electronics", "Toys"]


def catalogue_line(number: int, rng: random.Random, *, price_bump: bool = False) -> dict:
    noun = rng.choice(NOUNS)
    title = f"{rng.choice(BRANDS)} {' '.join(rng.sample(WORDS, 3))} {noun} {number}"
    price = round(rng.uniform(1, 500), 2) + (1 if price_bump else 0)
    return {
        "sku": f"BENCH-{number:07d}",
        "title": title,
        "description": " ".join(rng.choices(WORDS, k=30)),
        "brand": title.split()[0],
        "category": f"{rng.choice(DEPARTMENTS)} > {noun.title()}s > {rng.choice(WORDS).title()}",
        "price": None if number % 7 == 0 else round(price, 2),
        "bullet_points": [" ".join(rng.choices(WORDS, k=8)) for _ in range(3)],
        "specs": {"colour": rng.choice(["red", "blue", "black"]), "weight_g": rng.randint(1, 900)},
        "units_sold": rng.randint(0, 20_000),
    }


def catalogue_write(path: Path, lines: int, *, bump_every: int = 0) -> None:
    with path.open("wb") as out:
        for number in range(lines):
            rng = random.Random(number)  # the same line each time, unless bumped
            bump = bool(bump_every) and number % bump_every == 0
            out.write(orjson.dumps(catalogue_line(number, rng, price_bump=bump)) + b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=sized(100_000, 300))
    args = parser.parse_args()

    database_prepare(env={**os.environ, "DATABASE_URL": DATABASE_URL})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from catalog.models import Product

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE catalog_product, catalog_category, searchindex_pendingindexupdate "
            "RESTART IDENTITY CASCADE"
        )

    workdir = Path(tempfile.mkdtemp(prefix="aisle-bench-import-"))
    try:
        plain = workdir / "catalogue.jsonl"
        catalogue_write(plain, args.lines)
        size_mb = plain.stat().st_size / 1e6
        print(f"{args.lines:,} lines, {size_mb:.0f} MB of JSON Lines ({workdir})")
        options = [
            "--map=popularity=units_sold",
            "--map=attributes=bullet_points,specs",
            "--default-price=0",
            "--source=bench",
            "--no-progress",
        ]

        def timed(label: str, path: Path) -> float:
            out = StringIO()
            started = time.perf_counter()
            call_command("import_catalog", str(path), *options, stdout=out)
            seconds = time.perf_counter() - started
            summary = out.getvalue().splitlines()[0].split(": ", 1)[1]
            print(
                f"  {label:<34} {seconds:6.1f} s  {args.lines / seconds:8,.0f} lines/s  {summary}"
            )
            return seconds

        first = timed("(a) first import (all created)", plain)
        timed("(b) same file again (unchanged)", plain)
        catalogue_write(plain, args.lines, bump_every=10)
        timed("(c) every tenth price changed", plain)
        packed = workdir / "catalogue.jsonl.gz"
        with plain.open("rb") as source, gzip.open(packed, "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target)
        timed("(d) (c) gzipped, unchanged", packed)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  products stored: {Product.objects.count():,}; peak RSS {peak_mb:.0f} MB")
        verdict = "meets" if first < TARGET_SECONDS else "MISSES"
        print(f"  first import {first:.1f} s {verdict} the {TARGET_SECONDS} s target")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
