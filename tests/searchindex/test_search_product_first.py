"""GET /api/search/products/: compounds either way, the product before its accessories, and
products without what the query asks to be without (docs/relevance.md)."""

import pytest

from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/search/products/"


def titles(api_client, q: str) -> list[str]:
    response = api_client.get(URL, {"q": q})
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


@pytest.fixture
def indexed(index_products):
    def index(*product_titles: str) -> None:
        for title in product_titles:
            ProductFactory(title=title, description="")
        index_products()

    return index


def test_a_compound_written_apart_finds_the_title_that_writes_it_joined_first(api_client, indexed):
    indexed("Bosch Dishwasher", "Dish Rack", "Washer Hose", "Dish Soap and Washer Pods")
    assert titles(api_client, "dish washer")[0] == "Bosch Dishwasher"


def test_a_compound_written_joined_still_finds_the_title_that_writes_it_apart(api_client, indexed):
    indexed("Cotton T Shirt", "Cotton Shirt")
    assert titles(api_client, "tshirt")[0] == "Cotton T Shirt"


def test_the_product_ranks_above_accessories_named_for_it(api_client, indexed):
    indexed(
        "Guitar Stand for Acoustic and Electric Guitars, Guitar Holder",
        "Yamaha Acoustic Guitar",
        "Guitar Capo for Acoustic Guitars",
    )
    assert titles(api_client, "guitar")[0] == "Yamaha Acoustic Guitar"


def test_bands_compatible_with_a_tracker_rank_below_the_tracker(api_client, indexed):
    indexed(
        "Silicone Bands Compatible with Fitbit Charge 3, Fitbit Charge 3 SE",
        "Fitbit Charge 3 Fitness Activity Tracker",
    )
    assert titles(api_client, "fitbit charge 3")[0] == "Fitbit Charge 3 Fitness Activity Tracker"


def test_a_product_holding_what_the_query_is_without_ranks_last(api_client, indexed):
    indexed("Kids Water Bottle with Straw Lid", "Kids Water Bottle", "Water Bottle, No Straw")
    ranked = titles(api_client, "kids water bottle without straw")
    assert ranked[-1] == "Kids Water Bottle with Straw Lid"
    assert set(ranked) == {
        "Kids Water Bottle with Straw Lid",
        "Kids Water Bottle",
        "Water Bottle, No Straw",
    }


def test_without_a_word_the_query_also_wants_demotes_nothing(api_client, indexed):
    indexed("DeWalt Tool Case", "DeWalt Tool Case with Tools")
    # "tools" is what the shopper searches among: both stay, in the usual order.
    assert set(titles(api_client, "dewalt tool cases without tools")) == {
        "DeWalt Tool Case",
        "DeWalt Tool Case with Tools",
    }
