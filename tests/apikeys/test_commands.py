"""create_api_key, revoke_api_key and ensure_dev_api_keys (what `make run` prints)."""

import stat
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apikeys.models import ApiKey
from apikeys.scopes import Scope
from tests.apikeys.helpers import assert_error, auth
from tests.factories import StoreFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keys_required")]


def run(command: str, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_api_key_prints_the_key_once_and_it_works(api_client):
    store = StoreFactory()
    out, err = run(
        "create_api_key", "--name", "pos", "--scopes", "stores:read", "--stores", str(store.id)
    )
    key = out.strip()
    row = ApiKey.objects.get()
    assert key.startswith(f"{row.prefix}.")
    assert (row.name, row.scopes, row.store_ids) == ("pos", ["stores:read"], [store.id])
    assert "shown only now" in err
    response = api_client.get(f"/stores/{store.id}/inventory/", headers=auth(key))
    assert response.status_code == 200


def test_create_api_key_with_several_scopes_and_an_expiry():
    out, _ = run(
        "create_api_key",
        "--name",
        "shop",
        "--scopes",
        "search, orders:write",
        "--expires-in-days",
        "30",
        "-v",
        "0",
    )
    row = ApiKey.objects.get()
    assert row.scopes == ["search", "orders:write"]
    assert row.store_ids == []
    assert timedelta(days=29, hours=23) < row.expiry_date - timezone.now() <= timedelta(days=30)
    assert out.count("\n") == 1  # -v 0: the key alone, for scripts


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scopes", "search,admin"], "Unknown scope"),
        (["--scopes", ","], "none given"),
        (["--scopes", "stores:read", "--stores", "1,x"], "store ids"),
        (["--scopes", "stores:read", "--stores", "999999"], "No such store"),
        (["--scopes", "search", "--expires-in-days", "0"], "1 or more"),
    ],
)
def test_create_api_key_refuses_bad_input_and_creates_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        run("create_api_key", "--name", "x", *args)
    assert not ApiKey.objects.exists()


@pytest.mark.usefixtures("product_index")
def test_revoke_api_key_by_prefix_refuses_the_key_at_once(api_client):
    key = run("create_api_key", "--name", "web", "--scopes", "search")[0].strip()
    assert api_client.get("/api/search/suggest/?q=mil", headers=auth(key)).status_code == 200
    out, _ = run("revoke_api_key", "--prefix", key.split(".")[0])
    assert "Revoked 1" in out
    response = api_client.get("/api/search/suggest/?q=mil", headers=auth(key))
    assert_error(response, 401, "authentication_failed")


def test_revoke_api_key_by_name_revokes_every_key_of_that_name(make_key):
    make_key(Scope.SEARCH, name="old")
    make_key(Scope.SEARCH, name="old")
    keep, _ = make_key(Scope.SEARCH, name="keep")
    assert "Revoked 2" in run("revoke_api_key", "--name", "old")[0]
    assert set(ApiKey.objects.filter(revoked=False)) == {keep}
    with pytest.raises(CommandError, match="No API key"):
        run("revoke_api_key", "--name", "nobody")


@pytest.fixture
def dev_file(tmp_path):
    return tmp_path / "cache" / "dev-api-keys.txt"


@pytest.mark.usefixtures("product_index")
def test_ensure_dev_api_keys_creates_one_working_key_per_scope(api_client, dev_file, settings):
    settings.PRODUCTION = False
    out, _ = run("ensure_dev_api_keys", "--file", str(dev_file))
    rows = ApiKey.objects.filter(revoked=False)
    assert sorted((row.name, tuple(row.scopes)) for row in rows) == [
        ("dev-orders", ("orders:write",)),
        ("dev-search", ("search",)),
        ("dev-stores", ("stores:read",)),
    ]
    assert stat.S_IMODE(dev_file.stat().st_mode) == 0o600
    lines = dev_file.read_text().splitlines()
    search_key = next(line.split()[2] for line in lines if line.startswith("dev-search\t"))
    assert search_key in out
    response = api_client.get("/api/search/suggest/?q=mil", headers=auth(search_key))
    assert response.status_code == 200


def test_ensure_dev_api_keys_reuses_its_keys_on_the_next_run(dev_file, settings):
    settings.PRODUCTION = False
    first, _ = run("ensure_dev_api_keys", "--file", str(dev_file))
    second, _ = run("ensure_dev_api_keys", "--file", str(dev_file))
    assert first == second
    assert ApiKey.objects.count() == 3


def test_ensure_dev_api_keys_replaces_a_key_that_no_longer_works(dev_file, settings):
    settings.PRODUCTION = False
    run("ensure_dev_api_keys", "--file", str(dev_file))
    ApiKey.objects.filter(name="dev-orders").update(revoked=True)
    before = dev_file.read_text()
    run("ensure_dev_api_keys", "--file", str(dev_file))
    after = dev_file.read_text()
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert [line.split()[0] for line in changed] == ["dev-orders"]
    assert ApiKey.objects.filter(revoked=False).count() == 3


def test_ensure_dev_api_keys_refuses_to_run_in_production(dev_file, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        run("ensure_dev_api_keys", "--file", str(dev_file))
    assert not ApiKey.objects.exists()
    assert not dev_file.exists()
