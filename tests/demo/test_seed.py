"""`seed_data` fills Postgres with a realistic, reproducible catalog and can be re-run."""

import random
import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q

from catalog.models import Category, Product
from demo.seed_vocabulary import CATEGORIES, PACKS
from demo.seeding import catalog_drafts, catalog_seed
from inventory.models import Inventory, Store
from ordering.models import Order, OrderItem
from searchindex.models import PendingIndexUpdate
from tests.factories import InventoryFactory, ProductFactory

SPECS = {spec.slug: spec for spec in CATEGORIES}
BRANDS = {brand for spec in CATEGORIES for line in spec.lines for brand in line.brands}
SIZES = {size for spec in CATEGORIES for line in spec.lines for size, _ in line.sizes}
PACK_SUFFIX = re.compile(r" \(Pack of (\d+)\)$")


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_data", *args, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot() -> tuple[list[tuple], list[tuple], list[tuple]]:
    products = list(
        Product.objects.order_by("id").values_list(
            "id",
            "title",
            "price",
            "category__slug",
            "description",
            "sku",
            "brand",
            "attributes",
            "popularity",
        )
    )
    stores = list(Store.objects.order_by("id").values_list("id", "name"))
    stock = list(
        Inventory.objects.order_by("id").values_list("id", "store_id", "product_id", "quantity")
    )
    return products, stores, stock


def foreign_keys() -> set[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
            " JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'f'"
            " AND t.relname IN ('catalog_product', 'inventory_inventory')"
        )
        return set(cursor.fetchall())


def looks_like_brand_product_size(title: str) -> bool:
    match = PACK_SUFFIX.search(title)
    if match and int(match.group(1)) not in PACKS:
        return False
    core = PACK_SUFFIX.sub("", title)
    has_brand = any(core.startswith(brand + " ") for brand in BRANDS)
    size = next((size for size in SIZES if core.endswith(" " + size)), None)
    # Something names the product between the brand and the size.
    return has_brand and size is not None and len(core.split()) >= 3


@pytest.mark.django_db
def test_default_seed_meets_the_promised_minimums():
    output = seed("--seed", "7")

    categories = list(Category.objects.all())
    assert len(categories) >= 10
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c.slug) for c in categories)
    assert Product.objects.count() == 1000
    assert Store.objects.count() == 20
    assert all(name.startswith("Aisle ") for name in Store.objects.values_list("name", flat=True))
    assert Store.objects.filter(name="Aisle Koramangala").exists()

    per_store = Store.objects.annotate(
        rows=Count("inventory"), zeros=Count("inventory", filter=Q(inventory__quantity=0))
    )
    assert all(store.rows >= 300 for store in per_store)
    total = Inventory.objects.count()
    zeros = Inventory.objects.filter(quantity=0).count()
    assert 0.05 <= zeros / total <= 0.15
    assert all(store.zeros > 0 for store in per_store)

    products = list(Product.objects.select_related("category"))
    assert {p.category.slug for p in products} == set(SPECS)
    for product in products:
        low, high = SPECS[product.category.slug].price_range
        assert low <= product.price <= high, product
        assert product.price.as_tuple().exponent == -2
        assert looks_like_brand_product_size(product.title), product.title
        assert product.title.split()[0] in product.description
    assert len({p.title for p in products}) == 1000
    assert "Seeded 15 categories, 1,000 products, 20 stores" in output


@pytest.mark.django_db
def test_seed_fills_sku_brand_attributes_and_a_skewed_popularity():
    seed("--products", "1000", "--stores", "1", "--seed", "11")
    products = list(Product.objects.order_by("id"))

    assert [p.sku for p in products] == [f"SEED-{n:07d}" for n in range(1, 1001)]
    for product in products:
        assert product.brand in BRANDS
        assert product.title.startswith(product.brand + " "), product.title
        size = product.attributes["size"]
        assert size in SIZES
        assert PACK_SUFFIX.sub("", product.title).endswith(" " + size)
        pack = PACK_SUFFIX.search(product.title)
        assert product.attributes.get("pack") == (int(pack.group(1)) if pack else None)
        assert product.popularity >= 0
    # Sales are skewed: the best-selling fifth sells most of the units, the median few.
    sales = sorted((p.popularity for p in products), reverse=True)
    assert sum(sales[:200]) > 0.6 * sum(sales)
    assert sales[500] < sum(sales) / len(sales)


@pytest.mark.django_db
def test_titles_read_like_the_examples_in_the_issue():
    seed("--products", "1000", "--stores", "1", "--seed", "3")
    titles = list(Product.objects.values_list("title", flat=True))

    assert any(re.fullmatch(r"(Amul|Nandini|Mother Dairy) \w+ Milk \d+ ml", t) for t in titles)
    assert any(re.fullmatch(r"Britannia [\w ]+ Bread \d+ g", t) for t in titles)
    assert not any(PACK_SUFFIX.search(t) for t in titles)  # singles last 10,000+ products


@pytest.mark.django_db
def test_same_seed_gives_identical_titles_prices_stock_and_ids():
    seed("--products", "60", "--stores", "3", "--seed", "42")
    first = snapshot()
    seed("--products", "60", "--stores", "3", "--seed", "42")

    assert snapshot() == first
    assert len(first[0]) == 60
    seed("--products", "60", "--stores", "3", "--seed", "43")
    assert snapshot()[0] != first[0]


@pytest.mark.django_db
def test_rerun_resets_catalog_stock_and_orders_instead_of_duplicating():
    seed("--products", "50", "--stores", "3", "--seed", "1")
    store, product = Store.objects.first(), Product.objects.first()
    assert store is not None
    assert product is not None
    order = Order.objects.create(store=store, status=Order.Status.CONFIRMED)
    OrderItem.objects.create(order=order, product=product, quantity_requested=1)

    seed("--products", "50", "--stores", "3", "--seed", "2")

    assert Product.objects.count() == 50
    assert sorted(Product.objects.values_list("id", flat=True)) == list(range(1, 51))
    assert sorted(Store.objects.values_list("id", flat=True)) == [1, 2, 3]
    assert Category.objects.count() == len(CATEGORIES)
    assert not Order.objects.exists()
    assert not OrderItem.objects.exists()
    pairs = Counter(Inventory.objects.values_list("store_id", "product_id"))
    assert max(pairs.values()) == 1


@pytest.mark.django_db
def test_if_empty_leaves_an_existing_catalog_alone():
    row = InventoryFactory(product=ProductFactory(title="Grandma's Pickle 1 jar"), quantity=3)

    output = seed("--if-empty", "--products", "50", "--stores", "3")

    assert list(Product.objects.values_list("title", flat=True)) == ["Grandma's Pickle 1 jar"]
    assert list(Inventory.objects.values_list("id", "quantity")) == [(row.id, 3)]
    assert "left it alone" in output


@pytest.mark.django_db
def test_if_empty_seeds_an_empty_database():
    seed("--if-empty", "--products", "50", "--stores", "3", "--seed", "5")

    assert Product.objects.count() == 50
    assert Store.objects.count() == 3


@pytest.mark.django_db
def test_small_custom_sizes_stock_the_whole_catalog_in_every_store():
    seed("--products", "50", "--stores", "3", "--seed", "9")

    assert Product.objects.count() == 50
    assert list(Store.objects.values_list("name", flat=True)) == [
        "Aisle Koramangala",
        "Aisle Indiranagar",
        "Aisle HSR Layout",
    ]
    # Fewer products than the 300-row floor: every store stocks all of them.
    rows = Inventory.objects.values("store").annotate(n=Count("id"))
    assert sorted(r["n"] for r in rows) == [50, 50, 50]
    assert Category.objects.count() == len(CATEGORIES)


@pytest.mark.django_db
def test_foreign_keys_are_back_and_enforced_after_seeding():
    before = foreign_keys()
    seed("--products", "20", "--stores", "2", "--seed", "4")

    assert foreign_keys() == before
    assert len(before) == 3
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(IntegrityError), transaction.atomic():
            cursor.execute(
                "INSERT INTO inventory_inventory (store_id, product_id, quantity, updated_at)"
                " VALUES (1, 999999, 1, now())"
            )


@pytest.mark.django_db
def test_reseeding_retires_cached_store_inventory_pages(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        seed("--products", "30", "--stores", "2", "--seed", "1")
    before = api_client.get("/stores/1/inventory/").json()["results"]

    with django_capture_on_commit_callbacks(execute=True):
        seed("--products", "30", "--stores", "2", "--seed", "2")
    after = api_client.get("/stores/1/inventory/").json()["results"]

    stored = {
        row.product.title: row.quantity
        for row in Inventory.objects.filter(store_id=1).select_related("product")
    }
    assert {row["product_title"]: row["quantity"] for row in after} == stored
    assert after != before


@pytest.mark.django_db
@pytest.mark.parametrize("args", [["--products", "0"], ["--stores", "-1"], ["--seed", "x"]])
def test_invalid_arguments_are_refused_and_nothing_changes(args):
    ProductFactory(title="Kept")

    with pytest.raises(CommandError):
        seed(*args)

    assert list(Product.objects.values_list("title", flat=True)) == ["Kept"]


def queued_product_ids() -> set[int]:
    """Product ids waiting in the search index outbox."""
    rows = PendingIndexUpdate.objects.filter(model="catalog.product")
    return set(rows.values_list("object_pk", flat=True))


@pytest.mark.django_db
def test_seed_service_queues_every_old_and_new_product_for_the_index_by_itself():
    catalog_seed(products=30, stores=2, seed=1)
    PendingIndexUpdate.objects.all().delete()

    # Called directly, not through the command: the service announces its own changes.
    catalog_seed(products=20, stores=2, seed=2)

    # Ids 21-30 are gone (identities restart), so their documents must be deleted too.
    assert set(Product.objects.values_list("id", flat=True)) == set(range(1, 21))
    assert queued_product_ids() == set(range(1, 31))


@pytest.mark.django_db
def test_seed_rolled_back_by_its_caller_leaves_the_old_catalog_and_no_outbox_rows():
    catalog_seed(products=10, stores=1, seed=1)
    PendingIndexUpdate.objects.all().delete()
    before = snapshot()
    queued_inside: list[set[int]] = []

    def seed_then_fail() -> None:
        with transaction.atomic():
            catalog_seed(products=20, stores=2, seed=2)
            queued_inside.append(queued_product_ids())
            raise RuntimeError("the caller's transaction fails after the seed")

    with pytest.raises(RuntimeError):
        seed_then_fail()

    assert queued_inside == [set(range(1, 21))]
    assert snapshot() == before
    assert queued_product_ids() == set()


@pytest.mark.django_db
def test_seed_service_skipping_an_existing_catalog_queues_nothing():
    ProductFactory(title="Kept")
    PendingIndexUpdate.objects.all().delete()

    result = catalog_seed(products=20, stores=2, seed=1, only_if_empty=True)

    assert result.skipped
    assert queued_product_ids() == set()


def test_titles_stay_distinct_and_prices_in_range_at_100_000_products():
    drafts = catalog_drafts(products=100_000, rng=random.Random(1))

    assert len({draft.title for draft in drafts}) == 100_000
    for draft in drafts:
        low, high = CATEGORIES[draft.category_index].price_range
        assert low <= draft.price <= high, draft
    packs = sum(bool(PACK_SUFFIX.search(draft.title)) for draft in drafts)
    assert 0 < packs < 100_000
