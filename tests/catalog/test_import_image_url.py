"""`import_catalog` and `Product.image_url`: read from `image_url` or `image`, absolute http(s)
URLs only, any other value makes its line invalid; the model and the admin hold the same rule."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from catalog.models import Product
from searchindex.models import PendingIndexUpdate
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def line(sku: str, **fields) -> dict:
    return {"sku": sku, "title": f"Product {sku}", "price": "10.00", **fields}


def write_jsonl(path: Path, *items: dict) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_catalog", str(path), *args, "--no-progress", stdout=out, stderr=out)
    return out.getvalue()


def failure(path: Path, *args: str) -> str:
    with pytest.raises(CommandError) as caught:
        run(path, *args)
    return str(caught.value)


def images() -> dict[str | None, str]:
    return dict(Product.objects.values_list("sku", "image_url"))


def test_image_url_is_read_from_image_url_else_image(tmp_path):
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        line("S1", image_url="https://cdn.example.com/p/1.jpg"),
        line("S2", image="http://img.example.org/2.png?w=400"),
        line("S3", image_url="https://cdn.example.com/3.jpg", image="https://other.example/3.jpg"),
        line("S4", image_url="", image="https://cdn.example.com/4.jpg"),
        line("S5"),
    )

    run(path)

    assert images() == {
        "S1": "https://cdn.example.com/p/1.jpg",
        "S2": "http://img.example.org/2.png?w=400",
        "S3": "https://cdn.example.com/3.jpg",
        "S4": "https://cdn.example.com/4.jpg",
        "S5": "",
    }


def test_csv_image_column_is_read(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text(
        "sku,title,price,image\n"
        "C1,Steel Bottle,249.00,  https://cdn.example.com/c1.jpg \n"
        "C2,Glass Jar,99.00,\n",
        encoding="utf-8",
    )

    run(path)

    assert images() == {"C1": "https://cdn.example.com/c1.jpg", "C2": ""}


def test_image_url_can_be_mapped_from_another_field(tmp_path):
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        line(
            "S1", media={"main": "https://cdn.example.com/m.jpg"}, image="https://x.example/i.jpg"
        ),
    )

    run(path, "--map=image_url=media.main")

    assert images() == {"S1": "https://cdn.example.com/m.jpg"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("/images/1.jpg", "image_url is not an absolute http(s) URL: '/images/1.jpg'"),
        ("cdn.example.com/1.jpg", "image_url is not an absolute http(s) URL"),
        ("//cdn.example.com/1.jpg", "image_url is not an absolute http(s) URL"),
        ("ftp://cdn.example.com/1.jpg", "image_url is not an absolute http(s) URL"),
        ("javascript:alert(1)", "image_url is not an absolute http(s) URL"),
        ("data:image/png;base64,iVBORw0KGgo=", "image_url is not an absolute http(s) URL"),
        ("https://", "image_url is not an absolute http(s) URL"),
        ("https://cdn example.com/1.jpg", "image_url is not a valid URL"),
        ("https://cdn.example.com/a b.jpg", "image_url is not a valid URL"),
        (42, "image_url must be text, got int"),
        (["https://cdn.example.com/1.jpg"], "image_url must be text, got list"),
        ("https://cdn.example.com/" + "a" * 2048, "image_url is longer than 2048 characters"),
    ],
)
def test_an_image_url_that_is_not_an_absolute_web_url_makes_its_line_invalid(
    tmp_path, value, reason
):
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        line("S1", image_url="https://cdn.example.com/ok.jpg"),
        line("S2", image_url=value),
    )

    message = failure(path)

    assert "1 of 2 lines are invalid; nothing was imported." in message
    assert f"line 2: {reason}" in message
    assert Product.objects.count() == 0


def test_a_bad_image_from_the_image_key_is_reported_too(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", line("S1", image="images/s1.jpg"))

    assert "line 1: image_url is not an absolute http(s) URL: 'images/s1.jpg'" in failure(path)


def test_skip_invalid_keeps_the_lines_with_good_urls_and_rejects_the_rest(tmp_path):
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        line("S1", image_url="HTTPS://CDN.example.com/1.jpg"),
        line("S2", image_url="file:///etc/passwd"),
    )
    rejects = tmp_path / "rejects.jsonl"

    run(path, "--skip-invalid", f"--rejects={rejects}")

    assert images() == {"S1": "HTTPS://CDN.example.com/1.jpg"}
    rejected = [json.loads(text) for text in rejects.read_text().splitlines()]
    assert [(r["line"], r["reasons"]) for r in rejected] == [
        (2, ["image_url is not an absolute http(s) URL: 'file:///etc/passwd'"])
    ]


def test_a_changed_image_url_updates_the_product_and_an_unchanged_one_writes_nothing(tmp_path):
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        line("S1", image_url="https://cdn.example.com/old.jpg"),
        line("S2", image_url="https://cdn.example.com/same.jpg"),
    )
    run(path)
    PendingIndexUpdate.objects.all().delete()

    write_jsonl(
        path,
        line("S1", image_url="https://cdn.example.com/new.jpg"),
        line("S2", image_url="https://cdn.example.com/same.jpg"),
    )
    out = run(path)

    assert "0 created, 1 updated, 1 unchanged" in out
    assert images()["S1"] == "https://cdn.example.com/new.jpg"
    changed = set(PendingIndexUpdate.objects.values_list("object_pk", flat=True))
    assert changed == {Product.objects.get(sku="S1").pk}


def test_the_model_accepts_only_absolute_http_urls():
    product = ProductFactory(image_url="https://cdn.example.com/p.jpg")
    product.full_clean()

    for bad in ("ftp://cdn.example.com/p.jpg", "/p.jpg", "javascript:alert(1)"):
        product.image_url = bad
        with pytest.raises(ValidationError) as caught:
            product.full_clean()
        assert "image_url" in caught.value.message_dict


def test_a_product_made_without_an_image_has_an_empty_image_url():
    assert ProductFactory().image_url == ""


def test_the_admin_product_page_shows_the_image_url(client):
    staff = get_user_model().objects.create_user(
        username="staff", password="pw-for-tests", is_staff=True, is_superuser=True
    )
    client.force_login(staff)
    product = ProductFactory(image_url="https://cdn.example.com/shown.jpg")

    page = client.get(f"/admin/catalog/product/{product.pk}/change/")

    assert page.status_code == 200
    assert 'name="image_url"' in page.content.decode()
    assert "https://cdn.example.com/shown.jpg" in page.content.decode()
