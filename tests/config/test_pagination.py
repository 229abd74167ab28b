"""The one pagination: its parameters, page keys and links, 404 past the end; every list uses it."""

from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from catalog.models import Product
from config.errors import InvalidParameters, NotFound
from config.pagination import PageRequest, page_size_pagination
from inventory.models import Inventory, Store
from ordering.models import Order
from tests.config.test_errors import assert_envelope
from tests.factories import CategoryFactory, StoreFactory

Pagination = page_size_pagination(20, 100)
Windowed = page_size_pagination(20, 100, max_result_window=1000)


def request_for(query: str = "") -> Request:
    return Request(APIRequestFactory().get(f"/things/?{query}"))


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", PageRequest(number=1, size=20)),
        ("page=&page_size=", PageRequest(number=1, size=20)),
        ("page=3&page_size=7", PageRequest(number=3, size=7)),
        ("page_size=100", PageRequest(number=1, size=100)),
        ("page_size=101", PageRequest(number=1, size=100)),  # above the cap: the cap, no error
        ("page_size=5000", PageRequest(number=1, size=100)),
    ],
)
def test_the_page_asked_for_with_the_views_default_and_cap(query, expected):
    assert Pagination().page_requested(request_for(query)) == expected


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=two", "page"),
        ("page=1.5", "page"),
        ("page_size=0", "page_size"),
        ("page_size=ten", "page_size"),
        ("page=x&page_size=y", "page_size"),
    ],
)
def test_a_page_parameter_that_is_not_a_whole_number_from_1_is_a_400_naming_it(query, named):
    with pytest.raises(InvalidParameters) as raised:
        Pagination().page_requested(request_for(query))

    assert list(raised.value.details) == [named]


def test_a_window_refuses_pages_that_reach_past_it_and_allows_the_last_one():
    assert Windowed().page_requested(request_for("page=10&page_size=100")).number == 10
    assert Windowed().page_requested(request_for("page=1000&page_size=1")).number == 1000

    with pytest.raises(InvalidParameters) as raised:
        Windowed().page_requested(request_for("page=11&page_size=100"))

    assert raised.value.details == {"page": ["page x page_size may be at most 1000."]}
    assert raised.value.message == "Results beyond the 1,000th cannot be paged; narrow the search."


def test_the_body_has_the_page_keys_and_links_that_keep_the_other_parameters():
    request = request_for("q=milk&page=2&page_size=10")
    page = Pagination().page_requested(request)

    body = Pagination().page_body(request, page, count=35, results=["row"])

    assert list(body) == ["count", "next", "previous", "results"]
    assert body["count"] == 35
    assert body["results"] == ["row"]
    assert query_of(body["next"]) == {"q": ["milk"], "page": ["3"], "page_size": ["10"]}
    # The link to page 1 leaves `page` out.
    assert query_of(body["previous"]) == {"q": ["milk"], "page_size": ["10"]}


@pytest.mark.parametrize(
    ("number", "count", "has_next", "has_previous"),
    [(1, 0, False, False), (1, 10, False, False), (1, 11, True, False), (2, 11, False, True)],
)
def test_next_and_previous_exist_only_where_there_is_such_a_page(
    number, count, has_next, has_previous
):
    request = request_for(f"page={number}&page_size=10")
    page = PageRequest(number=number, size=10)

    body = Pagination().page_body(request, page, count=count, results=[])

    assert (body["next"] is not None) == has_next
    assert (body["previous"] is not None) == has_previous


@pytest.mark.parametrize(("number", "count"), [(2, 0), (2, 10), (3, 20)])
def test_a_page_past_the_end_is_not_found(number, count):
    with pytest.raises(NotFound):
        Pagination().page_body(
            request_for(), PageRequest(number=number, size=10), count=count, results=[]
        )


@pytest.mark.django_db
def test_a_queryset_page_is_its_count_and_its_slice_and_404_past_the_end():
    stores = StoreFactory.create_batch(5)
    queryset = Store.objects.order_by("id")

    assert PageRequest(number=2, size=2).rows(queryset) == (5, stores[2:4])
    assert PageRequest(number=3, size=2).rows(queryset) == (5, stores[4:])
    assert PageRequest(number=1, size=2).rows(Store.objects.none()) == (0, [])
    with pytest.raises(NotFound):
        PageRequest(number=4, size=2).rows(queryset)


def test_the_schema_parameters_say_the_views_default_cap_and_window():
    described = {p.name: p.description for p in Windowed.schema_parameters()}
    listed = {
        p["name"]: p["description"] for p in Pagination().get_schema_operation_parameters(None)
    }

    assert described["page_size"] == (
        "Rows per page (default 20, at most 100); page x page_size may not pass 1,000."
    )
    assert listed["page_size"] == "Rows per page (default 20, at most 100)."
    assert listed["page"] == described["page"] == "Page number, from 1."


# Every list endpoint pages the same way (search's own tests cover it against Elasticsearch).


def orders_make(store: Store, n: int) -> None:
    Order.objects.bulk_create([Order(store=store, status=Order.Status.CONFIRMED) for _ in range(n)])


def inventory_make(store: Store, n: int) -> None:
    category = CategoryFactory()
    products = Product.objects.bulk_create(
        [Product(title=f"P{i}", price="1.00", category=category) for i in range(n)]
    )
    Inventory.objects.bulk_create([Inventory(store=store, product=p, quantity=1) for p in products])


LISTS = {
    "orders": ("/stores/{store_id}/orders/", 20, 100, orders_make),
    "inventory": ("/stores/{store_id}/inventory/", 100, 1000, inventory_make),
}


@pytest.fixture(params=sorted(LISTS))
def listing(request):
    """A store, the URL of the list under test, its default and cap, and a way to add rows."""
    path, default, cap, make = LISTS[request.param]
    store = StoreFactory()
    return path.format(store_id=store.id), default, cap, lambda n: make(store, n)


@pytest.mark.django_db
def test_every_list_pages_with_the_same_rules(api_client, listing):
    url, _, _, make = listing
    make(3)

    second = api_client.get(url, {"page": 2, "page_size": 2}).json()
    assert second["count"] == 3
    assert len(second["results"]) == 1
    assert second["next"] is None
    assert query_of(second["previous"]) == {"page_size": ["2"]}
    assert_envelope(api_client.get(url, {"page": 3, "page_size": 2}), 404, "not_found")
    for bad in ({"page": "0"}, {"page": "two"}, {"page_size": "0"}, {"page_size": "1.5"}):
        error = assert_envelope(api_client.get(url, bad), 400, "validation_error")
        assert list(error["details"]) == list(bad)


@pytest.mark.django_db
def test_every_list_has_its_own_default_and_answers_above_its_cap_with_the_cap(api_client, listing):
    url, default, cap, make = listing
    make(cap + 1)

    assert len(api_client.get(url).json()["results"]) == default
    capped = api_client.get(url, {"page_size": cap + 1}).json()
    assert len(capped["results"]) == cap
    assert query_of(capped["next"]) == {"page": ["2"], "page_size": [str(cap + 1)]}
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    path = urlsplit(url).path.split("/")
    path[2] = "{store_id}"
    parameters = {p["name"]: p for p in schema["paths"]["/".join(path)]["get"]["parameters"]}
    assert f"(default {default}, at most {cap})" in parameters["page_size"]["description"]
