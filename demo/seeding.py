"""Demo seed: a reproducible grocery catalog with stores and stock, bulk-loaded into Postgres."""

import bisect
import io
import random
import re
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TextIO

import orjson
from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from tqdm import tqdm

from catalog.models import Category, Product
from catalog.signals import products_bulk_changed
from demo.seed_vocabulary import (
    CATEGORIES,
    NEIGHBOURHOODS,
    PACKS,
    CategorySpec,
    ProductLine,
)
from inventory.cache import store_inventory_version_bump_on_commit
from inventory.models import Inventory, Store

DEFAULT_PRODUCTS = 1_000
DEFAULT_STORES = 20
# Each store stocks a random share of the catalog, but never fewer than this many products.
STORE_SHARE = (0.45, 0.80)
MIN_ROWS_PER_STORE = 300
ZERO_STOCK_SHARE = 0.10
MEAN_QUANTITY = 45
MAX_QUANTITY = 500
# Products are spread over the last year so "newest" sorting has something to sort.
CREATED_WITHIN = timedelta(days=365)
PRODUCT_BATCH = 5_000
# Every app whose rows hang off the catalog; a reseed empties them all.
RESET_APPS = ("catalog", "inventory", "ordering")
SKU_PREFIX = "SEED-"
# Popularity (units sold) is Pareto-distributed, as sales are: shape 1.16 gives the 80/20 rule,
# so most products sell a few units and a few sell thousands.
POPULARITY_SHAPE = 1.16
POPULARITY_SCALE = 10

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class SeedResult:
    seed: int
    categories: int = 0
    products: int = 0
    stores: int = 0
    inventory_rows: int = 0
    zero_stock_rows: int = 0
    seconds: float = 0.0
    # Set when `only_if_empty` found an existing catalog and left it alone.
    skipped: bool = False
    existing_products: int = 0


@dataclass(frozen=True)
class ProductDraft:
    category_index: int
    title: str
    description: str
    price: Decimal
    age: timedelta
    brand: str
    attributes: dict[str, str | int]
    popularity: float


# Price factors: each brand and variant has a fixed premium; every product a little jitter.
BRAND_FACTOR = (0.85, 1.2)
VARIANT_FACTOR = (0.95, 1.15)
JITTER = (0.97, 1.03)
_MAX_FACTOR = BRAND_FACTOR[1] * VARIANT_FACTOR[1] * JITTER[1]


def _pack_discount(pack: int) -> float:
    return 1.0 if pack == 1 else 0.97 if pack <= 3 else 0.95 if pack <= 6 else 0.92


class _Tier:
    """All brand x variant x (size, pack) combinations of one tier, numbered densely."""

    def __init__(self, spec: CategorySpec, options: list[list[tuple[str, int, int]]]) -> None:
        self.spec = spec
        self.options = options  # per line: (size label, base price, pack count)
        self.offsets: list[int] = []
        self.size = 0
        for line, line_options in zip(spec.lines, options, strict=True):
            self.offsets.append(self.size)
            self.size += len(line.brands) * len(line.variants) * len(line_options)

    def decode(self, number: int) -> tuple[ProductLine, str, str, tuple[str, int, int]]:
        line_index = bisect.bisect_right(self.offsets, number) - 1
        line, line_options = self.spec.lines[line_index], self.options[line_index]
        rest, option_index = divmod(number - self.offsets[line_index], len(line_options))
        brand_index, variant_index = divmod(rest, len(line.variants))
        return (
            line,
            line.brands[brand_index],
            line.variants[variant_index],
            line_options[option_index],
        )


class _CategorySpace:
    """Every title a category can make: single packs first, then multi-packs."""

    def __init__(self, spec: CategorySpec) -> None:
        self.spec = spec
        high = float(spec.price_range[1])
        self.singles = _Tier(
            spec, [[(size, base, 1) for size, base in line.sizes] for line in spec.lines]
        )
        self.multis = _Tier(
            spec,
            [
                [
                    (size, base, pack)
                    for size, base in line.sizes
                    for pack in PACKS
                    if base * pack * _pack_discount(pack) * _MAX_FACTOR <= high
                ]
                for line in spec.lines
            ],
        )
        self.capacity = self.singles.size + self.multis.size

    def pick(self, count: int, rng: random.Random) -> list[int]:
        """`count` combination numbers: distinct while the space lasts, singles preferred."""
        singles = self.singles.size
        if count <= singles:
            return rng.sample(range(singles), count)
        if count <= self.capacity:
            return list(range(singles)) + rng.sample(range(singles, self.capacity), count - singles)
        return list(range(self.capacity)) + rng.choices(
            range(self.capacity), k=count - self.capacity
        )

    def draft(self, number: int, category_index: int, rng: random.Random) -> ProductDraft:
        if number < self.singles.size:
            line, brand, variant, (size, base, pack) = self.singles.decode(number)
        else:
            line, brand, variant, (size, base, pack) = self.multis.decode(
                number - self.singles.size
            )
        core = _SPACES.sub(" ", line.pattern.format(brand=brand, variant=variant, name=line.name))
        title = f"{core.strip()} {size}" + (f" (Pack of {pack})" if pack > 1 else "")
        attributes: dict[str, str | int] = {"size": size}
        if pack > 1:
            attributes["pack"] = pack
        return ProductDraft(
            category_index=category_index,
            title=title,
            description=_description(self.spec, line.blurb, brand, size, pack, rng),
            price=_price(self.spec, base, brand, variant, pack, rng),
            age=timedelta(seconds=rng.randrange(int(CREATED_WITHIN.total_seconds()))),
            brand=brand,
            attributes=attributes,
            popularity=_popularity(title),
        )


def _popularity(title: str) -> float:
    """Units sold: skewed, and the same for a title in every run. Drawn from the title's hash,
    not from the seed's generator, so adding it changed no seeded title, price or stock."""
    uniform = (zlib.crc32(title.encode()) + 0.5) / 2**32
    return float(round(POPULARITY_SCALE * (uniform ** (-1 / POPULARITY_SHAPE) - 1)))


def _stable_factor(word: str, bounds: tuple[float, float]) -> float:
    """A per-word price factor that is the same in every run (unlike hash())."""
    low, high = bounds
    return low + (high - low) * (zlib.crc32(word.encode()) % 1000) / 999


def _price(
    spec: CategorySpec, base: int, brand: str, variant: str, pack: int, rng: random.Random
) -> Decimal:
    rupees = (
        base
        * _stable_factor(brand, BRAND_FACTOR)
        * _stable_factor(variant, VARIANT_FACTOR)
        * pack
        * _pack_discount(pack)
        * rng.uniform(*JITTER)
    )
    low, high = spec.price_range
    # Packs are only offered while they fit the range, so this clamp is a safety net.
    return min(max(Decimal(round(rupees)), low), high).quantize(Decimal("0.01"))


_BRAND_SENTENCES = (
    "From {brand}, a name households across India trust.",
    "Quality assured by {brand}.",
    "{brand} quality you can count on.",
    "Made by {brand} to the same high standard every time.",
)
_SIZE_SENTENCES = (
    "Net quantity: {size}{pack}.",
    "Comes in a convenient {size} pack{pack}.",
    "Pack size: {size}{pack}.",
)


def _description(
    spec: CategorySpec, blurb: str, brand: str, size: str, pack: int, rng: random.Random
) -> str:
    pack_text = f", sold as a pack of {pack}" if pack > 1 else ""
    sentences = [
        blurb,
        rng.choice(_BRAND_SENTENCES).format(brand=brand),
        rng.choice(_SIZE_SENTENCES).format(size=size, pack=pack_text),
        *rng.sample(spec.closers, 2),
    ]
    return " ".join(sentences)


def _allocate(total: int, specs: tuple[CategorySpec, ...], capacities: list[int]) -> list[int]:
    """Share `total` products among categories by weight, moving overflow to roomier ones."""
    counts = [0] * len(specs)
    remaining = total
    open_ = [i for i in range(len(specs)) if capacities[i] > 0]
    while remaining and open_:
        shares = _largest_remainder(remaining, [specs[i].weight for i in open_])
        for i, share in zip(open_, shares, strict=True):
            given = min(share, capacities[i] - counts[i])
            counts[i] += given
            remaining -= given
        open_ = [i for i in open_ if counts[i] < capacities[i]]
    # The vocabulary is used up: repeat titles, still in proportion to the weights.
    if remaining:
        for i, share in enumerate(_largest_remainder(remaining, [s.weight for s in specs])):
            counts[i] += share
    return counts


def _largest_remainder(total: int, weights: list[int]) -> list[int]:
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def catalog_drafts(*, products: int, rng: random.Random) -> list[ProductDraft]:
    """The products to insert, in insertion (and so id) order; no database access."""
    spaces = [_CategorySpace(spec) for spec in CATEGORIES]
    counts = _allocate(products, CATEGORIES, [space.capacity for space in spaces])
    drafts = [
        space.draft(number, index, rng)
        for index, (space, count) in enumerate(zip(spaces, counts, strict=True))
        for number in space.pick(count, rng)
    ]
    # Interleave categories so ids do not run category by category.
    rng.shuffle(drafts)
    return drafts


def store_names(count: int) -> list[str]:
    """Aisle <neighbourhood>, numbered once every neighbourhood has a store."""
    names = []
    for i in range(count):
        round_, index = divmod(i, len(NEIGHBOURHOODS))
        suffix = f" {round_ + 1}" if round_ else ""
        names.append(f"Aisle {NEIGHBOURHOODS[index]}{suffix}")
    return names


def _quantity(rng: random.Random) -> int:
    if rng.random() < ZERO_STOCK_SHARE:
        return 0
    return min(MAX_QUANTITY, 1 + int(rng.expovariate(1 / MEAN_QUANTITY)))


def _reset_tables() -> None:
    tables = [
        _quote(model._meta.db_table)
        for label in RESET_APPS
        for model in apps.get_app_config(label).get_models()
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


@contextmanager
def _without_foreign_keys(*models: type[Model]) -> Iterator[None]:
    """Drop the tables' foreign keys for a bulk load and re-add them, verbatim, afterwards.

    Postgres's own bulk-load advice: one validating join when a key is re-added is far
    cheaper than a check per inserted row (most of the COPY time at 100,000 products).
    Only ever used inside the seeding transaction, so a failure restores them by rolling back.
    """
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
            " JOIN pg_class t ON t.oid = c.conrelid"
            " WHERE c.contype = 'f' AND t.relname = ANY(%s) ORDER BY t.relname, c.conname",
            [tables],
        )
        keys = cursor.fetchall()
        for table, name, _ in keys:
            cursor.execute(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_quote(name)}")
    yield
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(
                f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}"
            )


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _bar(stream: TextIO | None, desc: str, total: int, unit: str) -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, file=stream, disable=stream is None)


def _copy_products(
    drafts: list[ProductDraft], categories: list[Category], now: datetime, stream: TextIO | None
) -> list[int]:
    """COPY the products into the freshly emptied table; returns their ids in draft order."""
    table = _quote(Product._meta.db_table)
    columns = (
        "title, description, price, category_id, created_at, updated_at, sku, brand, attributes,"
        " popularity, source"
    )
    with connection.cursor() as cursor:
        with (
            _bar(stream, "products", len(drafts), "product") as bar,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for number, draft in enumerate(drafts, 1):
                copy.write_row(
                    (
                        draft.title,
                        draft.description,
                        draft.price,
                        categories[draft.category_index].pk,
                        now - draft.age,
                        now,
                        # Numbered in insertion order: the same seed gives every product the same
                        # sku (and the same id, as identities restart).
                        f"{SKU_PREFIX}{number:07d}",
                        draft.brand,
                        orjson.dumps(draft.attributes).decode(),
                        draft.popularity,
                        "",
                    )
                )
                if number % PRODUCT_BATCH == 0 or number == len(drafts):
                    bar.update(number - bar.n)
        # The table was emptied in this transaction, and COPY takes ids in row order: every row
        # is ours, and id order is draft order.
        cursor.execute(f"SELECT id FROM {table} ORDER BY id")  # noqa: S608 - our table name
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) != len(drafts):
        raise RuntimeError(f"copied {len(drafts)} products, found {len(ids)}")
    return ids


def _copy_inventory(
    store_ids: list[int], product_ids: list[int], rng: random.Random, stream: TextIO | None
) -> tuple[int, int]:
    """COPY each store's stock rows; returns (rows, zero-quantity rows)."""
    stamp = timezone.now().isoformat()
    rows = zeros = 0
    table = _quote(Inventory._meta.db_table)
    sql = f"COPY {table} (store_id, product_id, quantity, updated_at) FROM STDIN"
    with (
        _bar(stream, "inventory", len(store_ids), "store") as bar,
        connection.cursor() as cursor,
        cursor.copy(sql) as copy,
    ):
        for store_id in store_ids:
            share = rng.uniform(*STORE_SHARE)
            stocked = min(
                len(product_ids), max(MIN_ROWS_PER_STORE, round(share * len(product_ids)))
            )
            # Writing preformatted text: 1.2M rows took 1.5-2.0 s against 2.5-3.2 s with write_row.
            buffer = io.StringIO()
            for index in sorted(rng.sample(range(len(product_ids)), stocked)):
                quantity = _quantity(rng)
                zeros += quantity == 0
                buffer.write(f"{store_id}\t{product_ids[index]}\t{quantity}\t{stamp}\n")
            copy.write(buffer.getvalue())
            rows += stocked
            bar.update(1)
    return rows, zeros


def catalog_seed(
    *,
    products: int = DEFAULT_PRODUCTS,
    stores: int = DEFAULT_STORES,
    seed: int,
    only_if_empty: bool = False,
    progress: TextIO | None = None,
) -> SeedResult:
    """Replace the catalog, stores, stock and orders with a generated grocery catalog.

    Everything happens in one transaction: the catalog, inventory and ordering tables are
    truncated (identities restarted, so the same seed gives the same ids), then refilled, and
    every old and new product id is announced with `products_bulk_changed` (the search index
    outbox records them in the same transaction); after commit the stores' cached inventory
    listings are invalidated. With `only_if_empty`, an existing catalog is left untouched.
    Progress bars go to `progress` when given.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    with transaction.atomic():
        # TRUNCATE and ALTER TABLE refuse tables with pending deferred FK checks (earlier
        # writes in an enclosing transaction, as in tests): run those checks now.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if only_if_empty and (existing := Product.objects.count()):
            return SeedResult(seed=seed, skipped=True, existing_products=existing)
        old_product_ids = list(Product.objects.values_list("id", flat=True))
        old_store_ids = set(Store.objects.values_list("id", flat=True))
        _reset_tables()

        drafts = catalog_drafts(products=products, rng=rng)
        now = timezone.now()
        categories = Category.objects.bulk_create(
            Category(name=spec.name, slug=spec.slug, created_at=now - CREATED_WITHIN)
            for spec in CATEGORIES
        )
        with _without_foreign_keys(Product, Inventory):
            product_ids = _copy_products(drafts, categories, now, progress)
            store_ids = [
                store.pk
                for store in Store.objects.bulk_create(
                    Store(name=name) for name in store_names(stores)
                )
            ]
            rows, zeros = _copy_inventory(store_ids, product_ids, rng, progress)

        # Bulk writes send no signals: retire every cached listing page of the old and new
        # stores (ids are reused) once the new data is committed, and announce every product
        # that existed before or exists now, so the index rewrites or deletes each document.
        for store_id in sorted(old_store_ids | set(store_ids)):
            store_inventory_version_bump_on_commit(store_id)
        products_bulk_changed.send(sender=Product, product_ids=[*old_product_ids, *product_ids])

        # Fresh statistics so the first queries after a bulk load get sensible plans.
        with connection.cursor() as cursor:
            for model in (Category, Product, Store, Inventory):
                cursor.execute(f"ANALYZE {_quote(model._meta.db_table)}")

    return SeedResult(
        seed=seed,
        categories=len(categories),
        products=len(product_ids),
        stores=len(store_ids),
        inventory_rows=rows,
        zero_stock_rows=zeros,
        seconds=time.perf_counter() - started,
    )
