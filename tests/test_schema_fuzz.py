"""Schema fuzzing: every operation in our own /api/schema/, on a live server with seeded data.

The CI run is bounded (FUZZ_MAX_EXAMPLES per operation, default 15, and the coverage phase for
the keyed caller only); `make fuzz` raises it, runs every phase for both callers and sets
FUZZ_MIN_CASES so a short run cannot pass for a long one.
"""

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch.dsl.connections import connections

from tests.factories import CategoryFactory, InventoryFactory, ProductFactory, StoreFactory

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
MIN_CASES = int(os.environ.get("FUZZ_MIN_CASES", "0"))
SEED = int(os.environ.get("FUZZ_SEED", "20260"))
# Two concurrent clients: the live server is threaded, and on 2 cores the run takes 60% as long.
FUZZ_WORKERS = int(os.environ.get("FUZZ_WORKERS", "2"))

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]

# live_server serves from another thread, so the seeded rows must be committed. Not marked slow:
# the short run (well under a minute) is the CI version of `make fuzz`.
pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def fuzz_index() -> Iterator[None]:
    """An empty products index behind its (test-prefixed) alias, before any row is written."""
    from searchindex.client import ALIAS
    from searchindex.rebuild import index_create

    es = connections.get_connection()

    def drop_indices() -> None:
        # By name: Elasticsearch 8 refuses wildcard deletes (action.destructive_requires_name).
        names = list(es.indices.get(index=f"{ALIAS}*", allow_no_indices=True))
        if names:
            es.indices.delete(index=",".join(names))

    drop_indices()
    concrete = f"{ALIAS}-fuzz"
    index_create(name=concrete)
    es.indices.put_alias(index=concrete, name=ALIAS)
    yield
    drop_indices()


@pytest.fixture
def fuzz_data(fuzz_index) -> dict[str, list[int]]:
    """A small catalog: a well-stocked store, a sparse one, an empty one; ids for the hooks."""
    from searchindex.documents import ProductDocument, products_for_indexing

    dairy = CategoryFactory(name="Dairy", slug="dairy")
    bakery = CategoryFactory(name="Bakery", slug="bakery")
    CategoryFactory(name="Empty", slug="empty")
    products = [
        ProductFactory(title="Milk", category=dairy, price="1.20"),
        ProductFactory(title="Almond Milk", category=dairy, price="2.50"),
        ProductFactory(title="Milkshake Mix", category=dairy, price="3.10"),
        ProductFactory(title="Sourdough Bread", category=bakery, price="4.00"),
        ProductFactory(title="Crème Brûlée", category=bakery, price="5.75"),
    ]
    stocked, sparse, empty = StoreFactory.create_batch(3)
    for product in products:
        InventoryFactory(store=stocked, product=product, quantity=10_000)
    InventoryFactory(store=sparse, product=products[3], quantity=1)
    InventoryFactory(store=sparse, product=products[4], quantity=0)
    # Whatever the index sync did on commit, the index now matches Postgres.
    ProductDocument().update(products_for_indexing().order_by("id"), refresh=True)
    return {
        "FUZZ_STORE_IDS": [stocked.id, sparse.id, empty.id],
        "FUZZ_PRODUCT_IDS": [product.id for product in products],
    }


@pytest.fixture
def unthrottled(settings) -> None:
    """Fuzzing is a burst from one client: raise every rate so 429s do not hide other answers."""
    rates = dict.fromkeys(settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}), "100000/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    for name in ("SEARCH_THROTTLE_RATE", "SUGGEST_THROTTLE_RATE"):
        setattr(settings, name, "100000/min")


@pytest.fixture
def quiet_request_log() -> Iterator[None]:
    """Thousands of expected 4xx lines would bury the report; 5xx (ERROR) still get through."""
    request_logger = logging.getLogger("django.request")
    level = request_logger.level
    request_logger.setLevel(logging.ERROR)
    yield
    request_logger.setLevel(level)


@pytest.fixture(params=["anonymous", "api-key"])
def caller_headers(request, settings) -> list[str]:
    """Development's anonymous caller; production's policy with a key of every scope."""
    if request.param == "anonymous":
        settings.API_KEYS_REQUIRED = False
        return []
    from apikeys.scopes import Scope
    from apikeys.services import api_key_create

    settings.API_KEYS_REQUIRED = True
    _, key = api_key_create(name="fuzz", scopes=Scope.values)
    return [f"--header=X-Api-Key: {key}"]


def phases(caller_headers: list[str]) -> str:
    """Every phase with a key (production's policy). The anonymous caller skips the coverage
    phase, whose boundary inputs are the same for both callers and most of a short run's time,
    except in `make fuzz` (FUZZ_MIN_CASES set)."""
    if caller_headers or MIN_CASES:
        return "examples,coverage,fuzzing"
    return "examples,fuzzing"


@pytest.mark.usefixtures("unthrottled", "quiet_request_log")
def test_every_operation_answers_within_its_schema(
    live_server, fuzz_data, caller_headers, tmp_path
):
    report = tmp_path / "report.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SCHEMATHESIS_HOOKS": "tests.schema_fuzz_hooks",
        **{name: ",".join(map(str, ids)) for name, ids in fuzz_data.items()},
    }
    result = subprocess.run(  # noqa: S603 - the venv's own `st`, fixed arguments
        [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{live_server.url}/api/schema/?format=json",
            f"--checks={','.join(CHECKS)}",
            f"--max-examples={MAX_EXAMPLES}",
            f"--seed={SEED}",
            f"--phases={phases(caller_headers)}",
            f"--workers={FUZZ_WORKERS}",
            "--request-timeout=30",
            "--report=json",
            f"--report-json-path={report}",
            *caller_headers,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout[-30000:] + result.stderr[-5000:]
    assert result.returncode == 0, output
    summary = json.loads(report.read_text())
    generated = summary["test_cases"]["generated"]
    print(result.stdout[result.stdout.find("SUMMARY") :])
    print(f"fuzz: {generated} cases over {summary['operations']['tested']} operations")
    assert summary["operations"]["errored"] == 0, output
    assert generated >= MIN_CASES, f"only {generated} cases; asked for {MIN_CASES}"
    # The known-good orders went through: the caller was let in, not refused on every request.
    from ordering.models import Order

    assert Order.objects.exists(), output
