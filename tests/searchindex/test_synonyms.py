"""Synonyms from the admin: seeded rows, validation, and a change reaching a live index."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError

from searchindex.client import ALIAS, alias_indices
from searchindex.models import Synonym
from searchindex.outbox import outbox_drain
from searchindex.rebuild import index_rebuild
from searchindex.synonyms import DELIVERY_MESSAGE, live_synonym_rules, synonym_rules
from searchindex.tasks import synonyms_push, synonyms_sweep
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/search/products/"
ADMIN_ADD = "/admin/searchindex/synonym/add/"
SEED = importlib.import_module("searchindex.migrations.0003_synonyms_seed")


def titles(api_client, q: str) -> list[str]:
    response = api_client.get(URL, {"q": q})
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


@pytest.fixture
def jaggery(index_products) -> None:
    """A live index holding one product that no seeded synonym reaches by "gur"."""
    ProductFactory(title="Organic Jaggery")
    index_products()


# --- the rows ----------------------------------------------------------------------------------


def test_data_migration_seeds_the_rules_the_file_held():
    Synonym.objects.all().delete()
    SEED.seed(django_apps, None)

    rules = synonym_rules()
    assert len(rules) == 18
    assert rules[0] == "curd, yogurt, yoghurt, dahi"
    assert rules[-1] == "ketchup, tomato sauce"
    assert all(row.enabled and not row.maps_to for row in Synonym.objects.all())

    SEED.unseed(django_apps, None)
    assert not Synonym.objects.exists()


def test_a_new_index_carries_only_the_enabled_rules(product_index):
    Synonym.objects.filter(terms__startswith="curd").update(enabled=False)
    Synonym.objects.create(terms="tomato sauce, ketchup", maps_to="ketchup")
    index = alias_indices()[0]
    assert live_synonym_rules(index) == SEED.RULES  # created before these changes

    index_rebuild()

    rules = live_synonym_rules(alias_indices()[0])
    assert rules is not None
    assert "curd, yogurt, yoghurt, dahi" not in rules
    assert rules[-1] == "tomato sauce, ketchup => ketchup"


def test_a_rule_saved_around_validation_is_left_out_rather_than_breaking_the_index(
    seeded_synonyms,
):
    Synonym.objects.create(terms="gur => jaggery")  # create() skips full_clean
    assert synonym_rules() == SEED.RULES


@pytest.mark.parametrize(
    ("terms", "maps_to", "field"),
    [
        ("curd,, yogurt", "", "terms"),
        ("curd", "", "terms"),
        ("curd => yogurt", "", "terms"),
        ("curd, yo\\gurt", "", "terms"),
        ("#curd, yogurt", "", "terms"),
        ("curd, " + "y" * 51, "", "terms"),
        ("curd", "yogurt,", "maps_to"),
        ("curd", "=>", "maps_to"),
    ],
)
def test_invalid_rules_are_refused_by_model_validation(terms, maps_to, field):
    with pytest.raises(ValidationError) as refused:
        Synonym(terms=terms, maps_to=maps_to).full_clean()
    assert field in refused.value.message_dict


def test_validation_writes_the_terms_canonically():
    synonym = Synonym(terms="  Tomato   Sauce ,Ketchup", maps_to=" KETCHUP ")
    synonym.full_clean()
    assert str(synonym) == "tomato sauce, ketchup => ketchup"


# --- the admin ---------------------------------------------------------------------------------


def test_admin_refuses_an_invalid_rule_and_stores_nothing(admin_client):
    before = Synonym.objects.count()
    response = admin_client.post(ADMIN_ADD, {"terms": "gur => jaggery", "maps_to": ""})
    assert response.status_code == 200  # the form again, with its errors
    assert "write a one-way mapping" in response.content.decode()
    assert Synonym.objects.count() == before


def test_admin_save_says_how_the_change_reaches_search(admin_client, jaggery):
    response = admin_client.post(
        ADMIN_ADD, {"terms": "gur, jaggery", "maps_to": "", "enabled": "on"}, follow=True
    )
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert DELIVERY_MESSAGE in shown
    assert "within a minute" in DELIVERY_MESSAGE


# --- reaching a live index -------------------------------------------------------------------


def test_a_saved_rule_reaches_the_live_index_without_a_rebuild(
    api_client, jaggery, django_capture_on_commit_callbacks
):
    before = alias_indices()
    assert titles(api_client, "gur") == []

    with django_capture_on_commit_callbacks(execute=True):
        Synonym.objects.create(terms="gur, jaggery")

    assert titles(api_client, "gur") == ["Organic Jaggery"]
    assert titles(api_client, "curd") == []  # seeded rules still apply: nothing else matches
    after = alias_indices()
    assert after != before  # swapped to a clone, which holds every document
    assert api_client.get(URL).json()["count"] == 1


def test_disabling_a_rule_removes_it_from_the_live_index(api_client, jaggery):
    # The push is called as its after-commit publish would (that wiring is tested above): the
    # test's transaction never commits, and a publish already waiting on it is not repeated.
    synonym = Synonym.objects.create(terms="gur, jaggery")
    synonyms_push()
    assert titles(api_client, "gur") == ["Organic Jaggery"]

    synonym.enabled = False
    synonym.save()
    assert synonyms_push()["changed"]

    assert titles(api_client, "gur") == []
    rules = live_synonym_rules(alias_indices()[0])
    assert rules is not None
    assert "gur, jaggery" not in rules


def test_the_sweep_applies_a_change_whose_push_never_ran(api_client, jaggery, es):
    Synonym.objects.create(terms="gur, jaggery")  # no commit here, so no push was sent
    assert titles(api_client, "gur") == []

    synonyms_sweep()

    assert titles(api_client, "gur") == ["Organic Jaggery"]
    live = alias_indices()
    assert len(live) == 1
    assert es.indices.get(index=f"{ALIAS}-*", expand_wildcards="open").keys() == set(live)


def test_the_index_takes_writes_again_after_the_swap(jaggery, es):
    Synonym.objects.create(terms="gur, jaggery")
    assert synonyms_push()["changed"]

    product = ProductFactory(title="Palm Jaggery")
    assert outbox_drain().applied == 1

    es.indices.refresh(index=ALIAS)
    assert es.get(index=ALIAS, id=product.pk)["_source"]["title"] == "Palm Jaggery"
