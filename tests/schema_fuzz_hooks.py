"""Schemathesis hooks for tests/test_schema_fuzz.py: point cases at the seeded rows.

Random ids almost never name a real store or product, so without these every order would be a
404 or a 400. The fuzzer still sends its random ids too; these hooks add known-good cases and
steer a share of generated ones onto seeded ids. Loaded by `st` through SCHEMATHESIS_HOOKS.
"""

import os
from typing import Any

import schemathesis
from hypothesis import strategies as st


def _ids(name: str) -> list[int]:
    return [int(value) for value in os.environ.get(name, "").split(",") if value]


STORE_IDS = _ids("FUZZ_STORE_IDS")
PRODUCT_IDS = _ids("FUZZ_PRODUCT_IDS")


def _path(context: Any) -> str:
    return context.operation.path if context.operation is not None else ""


@schemathesis.hook
def before_add_examples(context: Any, examples: list) -> None:
    """Known-good requests per operation, sent before any generated one."""
    operation = context.operation
    if operation is None or not STORE_IDS or not PRODUCT_IDS:
        return
    path, method = operation.path, operation.method.upper()
    hot, cold = STORE_IDS[0], STORE_IDS[1]
    if path == "/orders/" and method == "POST":
        lines = [{"product_id": pid, "quantity_requested": 1} for pid in PRODUCT_IDS[:3]]
        examples += [
            operation.Case(body={"store_id": hot, "items": lines}),  # confirmed
            operation.Case(body={"store_id": cold, "items": lines}),  # rejected: not stocked
            operation.Case(
                body={"store_id": hot, "items": lines[:1]}, headers={"Idempotency-Key": "fuzz-1"}
            ),
            operation.Case(  # same key, different body: a conflict
                body={"store_id": hot, "items": lines[1:2]}, headers={"Idempotency-Key": "fuzz-1"}
            ),
        ]
    elif path.startswith("/stores/{store_id}/") and method == "GET":
        examples += [
            operation.Case(path_parameters={"store_id": store_id}) for store_id in STORE_IDS
        ]
        examples.append(
            operation.Case(path_parameters={"store_id": hot}, query={"page": 99, "page_size": 1})
        )
    elif path.endswith("/search/products/") and method == "GET":
        examples += [
            operation.Case(query={}),
            operation.Case(query={"q": "milk", "store_id": hot, "in_stock": "true"}),
            operation.Case(
                query={"q": "bread", "sort": "price", "min_price": "1", "max_price": "9"}
            ),
            operation.Case(query={"category": "dairy", "sort": "newest", "page_size": 2}),
        ]
    elif path.endswith("/search/suggest/") and method == "GET":
        examples += [
            operation.Case(query={"q": "mil"}),
            operation.Case(query={"q": "mil", "store_id": hot}),
            operation.Case(query={"q": "cr"}),
        ]


def _seeded_body(body: Any) -> Any:
    if not (isinstance(body, dict) and isinstance(body.get("items"), list)):
        return st.just(body)
    items = [item for item in body["items"] if isinstance(item, dict)]
    return st.builds(
        lambda store_id, product_ids: {
            **body,
            "store_id": store_id,
            "items": [
                {**item, "product_id": pid} for item, pid in zip(items, product_ids, strict=False)
            ],
        },
        st.sampled_from(STORE_IDS),
        st.lists(
            st.sampled_from(PRODUCT_IDS), min_size=len(items), max_size=len(items), unique=False
        ),
    )


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> Any:
    if _path(context) != "/orders/" or not STORE_IDS:
        return st.just(body)
    return st.one_of(st.just(body), _seeded_body(body))


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    if not isinstance(path_parameters, dict) or "store_id" not in path_parameters or not STORE_IDS:
        return st.just(path_parameters)
    return st.one_of(
        st.just(path_parameters),
        st.sampled_from(STORE_IDS).map(lambda store_id: {**path_parameters, "store_id": store_id}),
    )
