"""`import_catalog`: streaming JSON Lines/CSV/ES bulk (plain, gzip, zip), upserts by sku, all or
nothing, rejects, --delete-missing, the price rule, and changes reaching the index."""

import gzip
import json
import zipfile
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from elasticsearch import NotFoundError

from catalog.importing import FieldMapping, ImportOptions, catalog_import, mapping_build
from catalog.management.commands.import_catalog import _import_with_progress
from catalog.models import Category, Product
from inventory.models import Inventory
from ordering.models import Order, OrderItem
from searchindex.client import ALIAS
from searchindex.models import PendingIndexUpdate
from tests.factories import CategoryFactory, ProductFactory, StoreFactory

FIXTURES = Path(__file__).parent / "fixtures"
ESCI_SLICE = FIXTURES / "esci_slice.ndjson"
ESCI_OPTIONS = (
    "--format=es-bulk",
    "--map=sku=asin",
    "--map=popularity=rating_count",
    "--map=attributes=bullet_points,color",
    "--default-price=0",
)


def product_line(sku: str, title: str = "", **fields) -> dict:
    return {"sku": sku, "title": title or f"Product {sku}", "price": "10.00", **fields}


def write_jsonl(path: Path, *items: dict | str) -> Path:
    text = "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in items)
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_catalog", str(path), *args, "--no-progress", stdout=out, stderr=out)
    return out.getvalue()


def failure(path: Path, *args: str) -> str:
    with pytest.raises(CommandError) as caught:
        run(path, *args)
    return str(caught.value)


def rows() -> list[tuple]:
    return list(
        Product.objects.order_by("sku").values_list(
            "sku", "title", "price", "category__name", "brand", "popularity", "source"
        )
    )


def all_attributes() -> list[dict]:
    return list(Product.objects.values_list("attributes", flat=True))


def pending_products() -> set[int]:
    return set(
        PendingIndexUpdate.objects.filter(model="catalog.product").values_list(
            "object_pk", flat=True
        )
    )


# --- reading and mapping ----------------------------------------------------------------------


@pytest.mark.django_db
def test_jsonl_import_creates_products_with_every_mapped_field(tmp_path):
    path = write_jsonl(
        tmp_path / "acme.jsonl",
        {
            "id": "A-1",
            "name": "Cotton Bath Towel",
            "body": "Soft and thick.",
            "maker": "Acme",
            "cat": "Home > Kitchen > Towels",
            "cost": 12.5,
            "sold": 340,
            "bullets": ["100% cotton", "Machine washable"],
            "specs": {"colour": "Blue", "width_cm": 70},
            "ignored": "never read",
        },
    )

    out = run(
        path,
        "--map=sku=id",
        "--map=title=name",
        "--map=description=body",
        "--map=brand=maker",
        "--map=category=cat",
        "--map=price=cost",
        "--map=popularity=sold",
        "--map=attributes=bullets,specs",
    )

    product = Product.objects.get(sku="A-1")
    assert (product.title, product.description, product.brand) == (
        "Cotton Bath Towel",
        "Soft and thick.",
        "Acme",
    )
    assert product.price == Decimal("12.50")
    assert product.popularity == 340
    assert (product.category.name, product.category.slug) == ("Towels", "towels")
    assert product.attributes == {
        "category_path": "Home > Kitchen > Towels",
        "bullets": ["100% cotton", "Machine washable"],
        "colour": "Blue",
        "width_cm": 70,
    }
    assert product.source == "acme"
    assert "1 created, 0 updated, 0 unchanged, 0 deleted, 0 rejected" in out
    assert pending_products() == {product.pk}


@pytest.mark.django_db
def test_default_mapping_reads_same_named_fields_and_missing_optional_ones_default(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", {"sku": "S1", "title": "Plain", "price": 3})

    run(path)

    product = Product.objects.get(sku="S1")
    assert (product.description, product.brand, product.attributes, product.popularity) == (
        "",
        "",
        {},
        0,
    )
    assert product.category.name == "Uncategorised"


@pytest.mark.django_db
def test_category_is_matched_by_slug_or_name_before_one_is_created(tmp_path):
    dairy = CategoryFactory(name="Dairy", slug="dairy")
    tea = CategoryFactory(name="Tea & Coffee", slug="hot-drinks")
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        product_line("S1", category="Food > DAIRY"),
        product_line("S2", category=["Food", "tea & coffee"]),
        product_line("S3", category="Food > Bakery"),
        product_line("S4", category="Bakery"),
    )

    run(path)

    by_sku = dict(Product.objects.values_list("sku", "category_id"))
    bakery = Category.objects.get(slug="bakery")
    assert by_sku == {"S1": dairy.pk, "S2": tea.pk, "S3": bakery.pk, "S4": bakery.pk}
    assert bakery.name == "Bakery"


@pytest.mark.django_db
def test_mapping_file_is_read_and_the_command_line_overrides_it(tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"sku": "code", "title": "label", "attributes": ["a", "b"]}))

    built = mapping_build(pairs=["title=name"], mapping_file=mapping)

    assert built.sources["sku"] == ("code",)
    assert built.sources["title"] == ("name",)
    assert built.sources["attributes"] == ("a", "b")


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["colour=c"], "unknown field 'colour'"),
        (["title"], "FIELD=SOURCE"),
        (["sku="], "sku must be mapped"),
        (["price=a,b"], "price takes one source field"),
    ],
)
def test_a_bad_mapping_is_refused(pairs, message):
    with pytest.raises(Exception, match=message):
        mapping_build(pairs=pairs)


@pytest.mark.django_db
def test_dotted_source_reaches_into_nested_json(tmp_path):
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        {"sku": "S1", "title": "Nested", "offer": {"price": {"amount": "7.25"}}},
    )

    run(path, "--map=price=offer.price.amount")

    assert Product.objects.get(sku="S1").price == Decimal("7.25")


# --- formats and compression ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("wrapper", ["gzip", "zip"])
def test_compressed_input_is_read(tmp_path, wrapper):
    text = "".join(json.dumps(product_line(f"S{n}")) + "\n" for n in range(3))
    if wrapper == "gzip":
        path = tmp_path / "feed.jsonl.gz"
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path = tmp_path / "feed.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("export/products.jsonl", text)

    out = run(path)

    assert sorted(Product.objects.values_list("sku", flat=True), key=str) == ["S0", "S1", "S2"]
    assert "source 'feed'" in out


@pytest.mark.django_db
def test_zip_with_several_files_is_refused(tmp_path):
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.jsonl", "{}\n")
        archive.writestr("b.jsonl", "{}\n")

    assert "holds 2 files" in failure(path)


@pytest.mark.django_db
def test_csv_with_header_and_quoted_multiline_field_is_imported(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text(
        "\ufeffsku,title,price,category,description,colour\n"
        'C1,Steel Bottle,249.00,Home > Bottles,"Keeps water cold,\nall day",Silver\n'
        "C2,Glass Jar,,Home > Jars,,\n",
        encoding="utf-8",
    )

    out = run(path, "--map=attributes=colour", "--default-price=99")

    assert rows() == [
        ("C1", "Steel Bottle", Decimal("249.00"), "Bottles", "", 0, "feed"),
        ("C2", "Glass Jar", Decimal("99.00"), "Jars", "", 0, "feed"),
    ]
    bottle = Product.objects.get(sku="C1")
    assert bottle.description == "Keeps water cold,\nall day"
    assert bottle.attributes == {"category_path": "Home > Bottles", "colour": "Silver"}
    assert "2 created" in out


@pytest.mark.django_db
def test_csv_bad_rows_are_reported_by_their_first_line(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_bytes(
        b"sku,title,price\n"
        b'C1,"Two\nlines",1\n'  # lines 2-3
        b"C2,Too,many,fields\n"  # line 4
        b"C3,Bad \xff bytes,1\n"  # line 5
        b"C4,Fine,2\n"
    )

    message = failure(path)

    assert "line 4: not valid CSV: 4 fields, the header has 3" in message
    assert "line 5: not valid UTF-8" in message
    assert "line 2" not in message
    assert Product.objects.count() == 0


@pytest.mark.django_db
def test_csv_column_named_in_the_mapping_must_exist(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text("sku,title,price\nC1,Thing,1\n")

    assert "'cost', which is not a column" in failure(path, "--map=price=cost")


@pytest.mark.django_db
def test_tsv_is_read_tab_separated(tmp_path):
    path = tmp_path / "feed.tsv"
    path.write_text("sku\ttitle\tprice\nT1\tTab, separated\t5\n")

    run(path)

    assert Product.objects.get(sku="T1").title == "Tab, separated"


@pytest.mark.django_db
def test_unknown_extension_is_read_as_json_when_it_starts_with_a_brace(tmp_path):
    path = write_jsonl(tmp_path / "export.txt", product_line("S1"))

    run(path)

    assert Product.objects.filter(sku="S1").exists()


@pytest.mark.django_db
def test_es_bulk_file_read_as_plain_json_lines_points_to_the_option(tmp_path):
    path = tmp_path / "bulk.ndjson"
    path.write_text(ESCI_SLICE.read_text().split("\n", 2)[0] + "\n")

    assert "line 1: an Elasticsearch bulk action line: import with es-bulk" in failure(path)


@pytest.mark.django_db
def test_es_bulk_action_id_is_readable_and_unsupported_actions_are_reported(tmp_path):
    path = write_jsonl(
        tmp_path / "bulk.ndjson",
        {"index": {"_index": "shop", "_id": "X1"}},
        {"title": "From the action id", "price": 2},
        {"delete": {"_index": "shop", "_id": "X2"}},
        {"title": "An orphan document", "price": 2},
    )

    message = failure(path, "--format=es-bulk", "--map=sku=_id")

    assert "line 3: a bulk 'delete' action; only index/create" in message
    assert "line 4: a document without a bulk action line before it" in message
    run(path, "--format=es-bulk", "--map=sku=_id", "--skip-invalid", f"--rejects={tmp_path / 'r'}")
    assert Product.objects.get(sku="X1").title == "From the action id"


@pytest.mark.django_db
def test_esci_slice_imports_in_full_without_the_leaking_query_ids(tmp_path):
    out = run(ESCI_SLICE, *ESCI_OPTIONS)

    assert "Imported 6 lines" in out
    assert "6 created" in out
    assert "0 rejected" in out
    connect4 = Product.objects.get(sku="B00D8STBHY")
    assert connect4.price == Decimal("9.88")
    assert connect4.brand == "Hasbro Gaming"
    assert connect4.popularity == 64329
    assert connect4.category.name == "Board Games"
    assert "color" in connect4.attributes
    assert "bullet_points" in connect4.attributes
    gift_card = Product.objects.get(sku="B06ZY43PDR")
    assert gift_card.price == Decimal("0.00")  # no price in the file: --default-price
    no_category = Product.objects.get(sku="B08RMYL5YK")
    assert no_category.category.name == "Uncategorised"
    assert not any("query_id" in attributes for attributes in all_attributes())


# --- upserts ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reimporting_the_same_file_writes_nothing_and_queues_nothing(tmp_path):
    run(ESCI_SLICE, *ESCI_OPTIONS)
    before = list(Product.objects.order_by("id").values_list("id", "updated_at"))
    PendingIndexUpdate.objects.all().delete()

    out = run(ESCI_SLICE, *ESCI_OPTIONS)

    assert "0 created, 0 updated, 6 unchanged" in out
    assert list(Product.objects.order_by("id").values_list("id", "updated_at")) == before
    assert PendingIndexUpdate.objects.count() == 0


@pytest.mark.django_db
def test_a_changed_line_updates_only_that_product(tmp_path):
    first = write_jsonl(
        tmp_path / "feed.jsonl", product_line("S1", "Old"), product_line("S2", "Same")
    )
    run(first)
    same = Product.objects.get(sku="S2")
    PendingIndexUpdate.objects.all().delete()

    write_jsonl(
        first,
        product_line("S1", "New", brand="Acme", popularity=5),
        product_line("S2", "Same"),
    )
    out = run(first)

    changed = Product.objects.get(sku="S1")
    assert (changed.title, changed.brand, changed.popularity) == ("New", "Acme", 5)
    assert Product.objects.get(sku="S2").updated_at == same.updated_at
    assert "0 created, 1 updated, 1 unchanged" in out
    assert pending_products() == {changed.pk}


@pytest.mark.django_db
def test_a_sku_known_from_another_source_is_taken_over(tmp_path):
    ProductFactory(sku="S1", title="Made here", source="")
    path = write_jsonl(tmp_path / "acme.jsonl", product_line("S1", "From Acme"))

    run(path)

    assert rows() == [("S1", "From Acme", Decimal("10.00"), "Uncategorised", "", 0, "acme")]


# --- the price rule ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_product_without_price_is_invalid_unless_a_default_price_is_given(tmp_path):
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        {"sku": "S1", "title": "Priced", "price": 4},
        {"sku": "S2", "title": "Unpriced"},
        {"sku": "S3", "title": "Null price", "price": None},
    )

    message = failure(path)
    assert "line 2: no price, and no --default-price for new products" in message
    assert "line 3: no price" in message
    assert Product.objects.count() == 0

    run(path, "--default-price=0")
    assert dict(Product.objects.values_list("sku", "price")) == {
        "S1": Decimal("4.00"),
        "S2": Decimal("0.00"),
        "S3": Decimal("0.00"),
    }


@pytest.mark.django_db
def test_a_line_without_price_keeps_the_price_of_a_known_product(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", product_line("S1", "Milk", price="45.00"))
    run(path)
    write_jsonl(path, {"sku": "S1", "title": "Milk 1 L"})

    out = run(path)

    product = Product.objects.get(sku="S1")
    assert (product.title, product.price) == ("Milk 1 L", Decimal("45.00"))
    assert "1 updated" in out


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"sku": "B1", "title": "Broken",', "not valid JSON"),
        ('["not", "an", "object"]', "not a JSON object"),
        ('{"title": "No sku", "price": 1}', "no sku (field 'sku')"),
        ('{"sku": "B1", "price": 1}', "no title (field 'title')"),
        ('{"sku": "B1", "title": "   ", "price": 1}', "no title"),
        ('{"sku": "B1", "title": "T", "price": "abc"}', "price is not a number: 'abc'"),
        ('{"sku": "B1", "title": "T", "price": true}', "price is not a number: True"),
        ('{"sku": "B1", "title": "T", "price": -1}', "price is negative"),
        ('{"sku": "B1", "title": "T", "price": "NaN"}', "price is not a number"),
        ('{"sku": "B1", "title": "T", "price": 1.005}', "price has more than 2 decimal places"),
        ('{"sku": "B1", "title": "T", "price": 1e9}', "price is larger than"),
        ('{"sku": "B1", "title": "T", "price": 1, "popularity": -3}', "popularity is negative"),
        ('{"sku": "B1", "title": "T", "price": 1, "popularity": "lots"}', "popularity is not"),
        ('{"sku": "B1", "title": "' + "x" * 501 + '", "price": 1}', "title is longer than 500"),
        ('{"sku": "' + "s" * 101 + '", "title": "T", "price": 1}', "sku is longer than 100"),
        ('{"sku": "B1", "title": "T", "price": 1, "brand": "' + "b" * 101 + '"}', "brand is"),
        ('{"sku": "B1", "title": "T", "price": 1, "category": "' + "c" * 101 + '"}', "category"),
        (
            '{"sku": "B1", "title": "T", "price": 1, "category": "!!!"}',
            "category '!!!' has no letters",
        ),
        ('{"sku": "B1", "title": {"en": "T"}, "price": 1}', "title must be text, got dict"),
        ('{"sku": "B1", "title": "T\\u0000", "price": 1}', "title contains a NUL character"),
    ],
)
def test_each_kind_of_bad_line_is_reported_with_its_number_and_nothing_is_written(
    tmp_path, line, reason
):
    existing = ProductFactory(sku="OLD", title="Stored before", source="feed")
    path = tmp_path / "feed.jsonl"
    path.write_text(
        json.dumps(product_line("G1")) + "\n\n" + line + "\n" + json.dumps(product_line("G2"))
    )

    message = failure(path)

    assert "1 of 3 lines are invalid; nothing was imported" in message
    assert f"line 3: {reason}" in message
    assert list(Product.objects.values_list("sku", "title")) == [("OLD", "Stored before")]
    assert not PendingIndexUpdate.objects.exclude(object_pk=existing.pk).exists()


@pytest.mark.django_db
def test_repeated_skus_are_reported_against_their_first_line(tmp_path):
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        product_line("S1", "First"),
        product_line("S2"),
        product_line("S1", "Second"),
        product_line("S1", "Third"),
    )

    message = failure(path)

    assert "line 3: sku 'S1' repeats line 1" in message
    assert "line 4: sku 'S1' repeats line 1" in message
    assert Product.objects.count() == 0


@pytest.mark.django_db
def test_a_line_with_several_problems_lists_them_all(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", {"title": "T", "price": "x", "popularity": -1})

    message = failure(path)

    assert "line 1: no sku (field 'sku'); price is not a number: 'x'; popularity is negative" in (
        message
    )


@pytest.mark.django_db
def test_a_bad_file_changes_nothing_already_stored(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", product_line("S1", "Kept", price="5.00"))
    run(path)
    stored = rows()
    write_jsonl(path, product_line("S1", "Changed", price="6.00"), {"sku": "S2"})

    assert "line 2: no title" in failure(path)
    assert rows() == stored
    assert Category.objects.count() == 1


@pytest.mark.django_db
def test_problems_are_listed_up_to_a_limit_then_counted(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", *[{"sku": f"S{n}"} for n in range(60)])

    message = failure(path)

    assert "60 of 60 lines are invalid" in message
    assert "line 50: no title" in message
    assert "line 51:" not in message
    assert "... and 10 more" in message


@pytest.mark.django_db
def test_skip_invalid_imports_the_valid_lines_and_writes_the_rejected_ones(tmp_path):
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        product_line("S1"),
        "not json",
        {"sku": "S3", "title": "No price"},
        product_line("S4"),
        product_line("S1", "Again"),
    )
    rejects = tmp_path / "rejects.jsonl"

    out = run(path, "--skip-invalid", f"--rejects={rejects}")

    assert sorted(Product.objects.values_list("sku", flat=True), key=str) == ["S1", "S4"]
    assert Product.objects.get(sku="S1").title == "Product S1"
    assert "2 created" in out
    assert "3 rejected" in out
    written = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in written] == [2, 3, 5]
    assert written[0]["reasons"][0].startswith("not valid JSON")
    assert written[1]["reasons"] == ["no price, and no --default-price for new products"]
    assert written[2]["reasons"] == ["sku 'S1' repeats line 1"]
    assert written[0]["text"] == "not json"
    assert json.loads(written[1]["text"]) == {"sku": "S3", "title": "No price"}


@pytest.mark.django_db
def test_skip_invalid_needs_a_rejects_path(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", product_line("S1"))

    assert "--rejects" in failure(path, "--skip-invalid")


@pytest.mark.django_db
def test_rejects_file_lists_every_problem_of_a_failed_import_too(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", *[{"sku": f"S{n}"} for n in range(60)])
    rejects = tmp_path / "rejects.jsonl"

    failure(path, f"--rejects={rejects}")

    assert len(rejects.read_text().splitlines()) == 60


@pytest.mark.django_db
def test_missing_and_unreadable_files_are_a_command_error(tmp_path):
    assert "cannot read" in failure(tmp_path / "absent.jsonl")
    corrupt = tmp_path / "feed.jsonl.gz"
    packed = gzip.compress(b"".join(b'{"sku": "S%d"}\n' % n for n in range(5_000)))
    corrupt.write_bytes(packed[: len(packed) // 2])
    assert "cannot read" in failure(corrupt)


# --- --delete-missing -------------------------------------------------------------------------


@pytest.mark.django_db
def test_delete_missing_removes_only_this_sources_products_the_file_dropped(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", *[product_line(f"S{n}") for n in range(4)])
    run(path, "--source=acme")
    other = ProductFactory(sku="OTHER", source="globex")
    local = ProductFactory()
    ordered = Product.objects.get(sku="S3")
    order = Order.objects.create(store=StoreFactory(), status=Order.Status.CONFIRMED)
    OrderItem.objects.create(order=order, product=ordered, quantity_requested=1)
    stocked = Product.objects.get(sku="S2")
    Inventory.objects.create(store=order.store, product=stocked, quantity=4)
    dropped = set(Product.objects.filter(sku__in=["S1", "S2"]).values_list("id", flat=True))
    PendingIndexUpdate.objects.all().delete()
    write_jsonl(path, product_line("S0"))

    out = run(path, "--source=acme", "--delete-missing")

    assert set(Product.objects.values_list("sku", flat=True)) == {"S0", "S3", "OTHER", None}
    assert Product.objects.filter(pk__in=[other.pk, local.pk]).count() == 2
    assert "2 deleted" in out
    assert "Kept 1 products the file no longer lists: orders refer to them" in out
    assert not Inventory.objects.filter(product_id=stocked.pk).exists()
    assert pending_products() == dropped


@pytest.mark.django_db
def test_delete_missing_needs_an_explicit_source(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", product_line("S1"))

    assert "--delete-missing needs --source" in failure(path, "--delete-missing")


@pytest.mark.django_db
def test_delete_missing_keeps_products_whose_lines_were_rejected(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", product_line("S1"), product_line("S2"))
    run(path, "--source=acme")
    write_jsonl(path, product_line("S1"), {"sku": "S2", "title": "T", "price": "bad"})

    run(path, "--source=acme", "--delete-missing", "--skip-invalid", f"--rejects={tmp_path / 'r'}")

    assert set(Product.objects.values_list("sku", flat=True)) == {"S1", "S2"}


@pytest.mark.django_db
def test_delete_missing_deletes_nothing_when_a_rejected_line_has_no_readable_sku(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", product_line("S1"), product_line("S2"))
    run(path, "--source=acme")
    write_jsonl(path, product_line("S1"), "garbage")

    out = run(
        path, "--source=acme", "--delete-missing", "--skip-invalid", f"--rejects={tmp_path / 'r'}"
    )

    assert set(Product.objects.values_list("sku", flat=True)) == {"S1", "S2"}
    assert "Deleted nothing: 1 rejected lines have no readable sku" in out


# --- the model --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_products_without_sku_coexist_and_a_sku_is_unique():
    ProductFactory()
    ProductFactory()
    ProductFactory(sku="S1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(sku="S1")


@pytest.mark.django_db
def test_postgres_refuses_a_negative_popularity():
    product = ProductFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(popularity=-1)


@pytest.mark.django_db
def test_rows_inserted_by_raw_sql_get_the_new_fields_from_database_defaults():
    category = CategoryFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_product (title, description, price, category_id, created_at,"
            " updated_at) VALUES ('Raw', '', 1, %s, now(), now()) RETURNING id",
            [category.pk],
        )
        pk = cursor.fetchone()[0]
    product = Product.objects.get(pk=pk)
    assert (product.sku, product.brand, product.attributes, product.popularity) == (None, "", {}, 0)
    assert product.source == ""


def test_default_mapping_reads_each_field_from_its_own_name():
    assert FieldMapping.default().sources["sku"] == ("sku",)
    assert mapping_build().sources == FieldMapping.default().sources


# --- the index --------------------------------------------------------------------------------


# Any, not `dict | None`: tests index the document directly, and a None fails them either way.
def indexed(es, pk: int) -> Any:
    """The product's indexed document, or None when it is not in the index."""
    es.indices.refresh(index=ALIAS)
    try:
        return es.get(index=ALIAS, id=pk)["_source"]
    except NotFoundError:
        return None


@pytest.mark.django_db(transaction=True)
def test_imported_and_changed_products_reach_the_index_through_the_outbox(
    es, product_index, tmp_path
):
    run(ESCI_SLICE, *ESCI_OPTIONS)
    connect4 = Product.objects.get(sku="B00D8STBHY")
    assert indexed(es, connect4.pk)["title"].startswith("Hasbro Gaming CONNECT 4")
    assert es.count(index=ALIAS)["count"] == 6

    changed = tmp_path / "esci.ndjson"
    changed.write_text(
        ESCI_SLICE.read_text().replace("CONNECT 4 - Classic", "CONNECT FOUR - Classic")
    )
    out = run(changed, *ESCI_OPTIONS, "--source=esci_slice")

    assert "1 updated, 5 unchanged" in out
    assert "CONNECT FOUR" in indexed(es, connect4.pk)["title"]
    assert PendingIndexUpdate.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_rebuild_option_rebuilds_the_index_after_the_import(es, product_index, tmp_path):
    out = run(ESCI_SLICE, *ESCI_OPTIONS, "--rebuild")

    assert "6 created" in out
    es.indices.refresh(index=ALIAS)
    assert es.count(index=ALIAS)["count"] == 6
    assert list(es.indices.get_alias(name=ALIAS)) != [f"{ALIAS}-test"]


@pytest.mark.django_db
def test_json_line_with_invalid_utf8_is_reported(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(b'{"sku": "S1", "title": "Caf\xe9", "price": 1}\n')

    assert "line 1: not valid UTF-8" in failure(path)


@pytest.mark.django_db(transaction=True)
def test_deleted_products_leave_the_index(es, product_index, tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", product_line("S1"), product_line("S2"))
    run(path, "--source=acme")
    gone = Product.objects.get(sku="S2").pk
    assert indexed(es, gone) is not None

    write_jsonl(path, product_line("S1"))
    run(path, "--source=acme", "--delete-missing")

    assert indexed(es, gone) is None


@pytest.mark.django_db(transaction=True)
def test_a_failed_import_leaves_the_index_and_the_outbox_alone(es, product_index, tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", product_line("S1"), {"sku": "S2"})

    failure(path)

    assert es.count(index=ALIAS)["count"] == 0
    assert PendingIndexUpdate.objects.count() == 0
    assert Category.objects.count() == 0


@pytest.mark.django_db
def test_service_reports_counts_and_problems_without_the_command(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", product_line("S1"), {"sku": "S2"})

    result = catalog_import(path=path, options=ImportOptions(source="api", skip_invalid=True))

    assert (result.created, result.rejected, result.source) == (1, 1, "api")
    assert [str(problem) for problem in result.problems] == ["line 2: no title (field 'title')"]


@pytest.mark.django_db
def test_the_service_reports_progress_in_bytes_up_to_the_file_size(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", *(product_line(f"S{n}") for n in range(5)))
    calls: list[tuple[int, int]] = []

    catalog_import(
        path=path,
        options=ImportOptions(batch_size=2),
        progress=lambda done, total: calls.append((done, total)),
    )

    size = path.stat().st_size
    assert len(calls) == 3  # after each full batch of 2, then once at the end
    assert all(total == size and 0 < done <= size for done, total in calls)
    assert calls[-1] == (size, size)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.django_db
def test_the_command_draws_the_progress_bar_to_the_end(tmp_path, capsys):
    path = write_jsonl(tmp_path / "feed.jsonl", product_line("S1"), product_line("S2"))

    result = _import_with_progress(path, ImportOptions(), show=True)

    assert result.created == 2
    assert "import: 100%" in capsys.readouterr().err
