"""Seed the Synonym rows from the rules searchindex/synonyms.txt held until now."""

from django.db import migrations

# The file's lines, all equivalences ("a, b, c"); the file itself is gone, the rows replace it.
RULES = [
    "curd, yogurt, yoghurt, dahi",
    "soda, soft drink, cold drink, fizzy drink",
    "chips, crisps, wafers",
    "biscuit, cookie",
    "atta, wheat flour",
    "maida, refined flour",
    "besan, gram flour",
    "paneer, cottage cheese",
    "ghee, clarified butter",
    "brinjal, eggplant, aubergine",
    "ladyfinger, okra, bhindi",
    "capsicum, bell pepper",
    "coriander, cilantro, dhania",
    "detergent, washing powder",
    "shampoo, hair wash",
    "toothpaste, tooth paste",
    "noodles, maggi",
    "ketchup, tomato sauce",
]


def seed(apps, schema_editor) -> None:
    Synonym = apps.get_model("searchindex", "Synonym")
    Synonym.objects.bulk_create(Synonym(terms=terms) for terms in RULES)


def unseed(apps, schema_editor) -> None:
    apps.get_model("searchindex", "Synonym").objects.filter(terms__in=RULES, maps_to="").delete()


class Migration(migrations.Migration):
    dependencies = [("searchindex", "0002_synonym")]

    operations = [migrations.RunPython(seed, unseed)]
