"""Order writes: atomic, concurrency-safe, idempotent placement; confirmation bookkeeping."""

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from catalog.models import Product
from config.broker import publish_on_commit
from config.celery import app
from config.errors import InvalidParameters
from inventory.exceptions import StoreNotFound
from inventory.selectors import store_check_exists
from inventory.services import StockDeduction, inventory_deduct
from ordering.idempotency import (
    IdempotencyKey,
    PlacementResponse,
    idempotency_claim,
    idempotency_record,
    idempotency_replay,
)
from ordering.limits import MAX_LINES, MAX_QUANTITY, MIN_QUANTITY
from ordering.models import Order, OrderItem
from ordering.selectors import PRODUCT_FIELDS, order_references
from ordering.serializers import OrderOutputSerializer
from searchevents.publishing import ship_soon
from searchevents.query_ids import TokenError, query_id_verify

# Named, not imported: ordering.tasks imports this module to send what it names.
CONFIRMATION_TASK = "ordering.tasks.send_order_confirmation"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderLine:
    product_id: int
    quantity_requested: int
    query_id: str | None = None  # as the client sent it; kept only if it verifies


@dataclass(frozen=True)
class OrderPlacement:
    """What `order_place` did: the order with its lines in request order.

    `replay` is set when the request repeats an earlier one under the same Idempotency-Key: the
    order is that request's, and `replay` the response it got, to be sent again as it was.
    """

    order: Order
    lines: list[OrderItem]
    replay: PlacementResponse | None = None

    @property
    def replayed(self) -> bool:
        return self.replay is not None

    @property
    def rejected_lines(self) -> list[OrderItem]:
        return [line for line in self.lines if line.reject_reason]

    @property
    def total_items(self) -> int:
        return sum(line.quantity_requested for line in self.lines)


def placement_response(placement: OrderPlacement) -> PlacementResponse:
    """The response to a placement that was not a replay: 201 and the order."""
    return PlacementResponse(
        status_code=status.HTTP_201_CREATED, body=dict(OrderOutputSerializer(placement).data)
    )


def _lines_check(lines: Sequence[OrderLine]) -> None:
    """The contract's rules on lines (the API's serializer checks types and ranges first)."""
    if not lines:
        raise InvalidParameters(details={"items": ["This list may not be empty."]})
    if len(lines) > MAX_LINES:
        raise InvalidParameters(
            details={"items": [f"Ensure this field has no more than {MAX_LINES} elements."]}
        )
    seen: set[int] = set()
    errors: list[dict[str, list[str]]] = []
    for line in lines:
        line_errors = {}
        if not MIN_QUANTITY <= line.quantity_requested <= MAX_QUANTITY:
            line_errors["quantity_requested"] = [f"Must be from {MIN_QUANTITY} to {MAX_QUANTITY}."]
        if line.product_id in seen:
            line_errors["product_id"] = ["This product is already in the order."]
        seen.add(line.product_id)
        errors.append(line_errors)
    if any(errors):
        raise InvalidParameters(details={"items": errors})


def _products_get(lines: Sequence[OrderLine]) -> dict[int, Product]:
    return _products_check(lines, Product.objects.only(*PRODUCT_FIELDS).in_bulk(_ids(lines)))


def _ids(lines: Sequence[OrderLine]) -> list[int]:
    return [line.product_id for line in lines]


def _products_check(lines: Sequence[OrderLine], products: dict[int, Product]) -> dict[int, Product]:
    """`products` if it holds every line's product, else the contract's 400 naming the others."""
    if len(products) != len(lines):
        raise InvalidParameters(
            details={
                "items": [
                    {} if line.product_id in products else {"product_id": ["Unknown product."]}
                    for line in lines
                ]
            }
        )
    return products


def _request_hash(store_id: int, lines: Sequence[OrderLine]) -> str:
    """A fingerprint of the request's meaning: `"2"` and `2`, or spacing, do not change it."""
    canonical = json.dumps(
        {"store_id": store_id, "items": [[x.product_id, x.quantity_requested] for x in lines]},
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replayed(*, idempotency_key: IdempotencyKey, request_hash: str) -> OrderPlacement | None:
    replay = idempotency_replay(key=idempotency_key, request_hash=request_hash)
    if replay is None:
        return None
    lines = list(replay.order.items.select_related("product").order_by("id"))
    return OrderPlacement(order=replay.order, lines=lines, replay=replay.response)


def _attributions(lines: Sequence[OrderLine], caller: str | None) -> dict[int, str]:
    """product id -> the line's query_id, for the lines whose query_id verifies for `caller`.

    An HMAC check per line, no lookup, before the transaction: a bad query_id costs the order
    nothing and only leaves its line unattributed.
    """
    if caller is None:
        return {}
    return {
        line.product_id: line.query_id
        for line in lines
        if line.query_id is not None
        and not isinstance(query_id_verify(line.query_id, caller=caller), TokenError)
    }


def order_place(
    *,
    store_id: int,
    lines: Sequence[OrderLine],
    idempotency_key: IdempotencyKey | None = None,
    caller: str | None = None,
) -> OrderPlacement:
    """Place an order: CONFIRMED with every line deducted, or REJECTED with nothing deducted.

    Both outcomes are stored. Raises before touching anything on invalid input (unknown store,
    unknown product, bad lines) and `IdempotencyConflict` when the key was used with another
    request; a repeat of the key's request places nothing and answers with its replay. A
    confirmed order sends `send_order_confirmation` after commit.
    """
    lines = list(lines)
    _lines_check(lines)
    request_hash = _request_hash(store_id, lines)
    if idempotency_key is not None:
        replayed = _replayed(idempotency_key=idempotency_key, request_hash=request_hash)
        if replayed is not None:
            return replayed
    # The store and the products in one statement; a missing store is reported first.
    store_found, products = order_references(store_id=store_id, product_ids=_ids(lines))
    if not store_found:
        raise StoreNotFound(f"Store {store_id} does not exist.")
    products = _products_check(lines, products)
    attributions = _attributions(lines, caller)
    try:
        return _order_place_locked(
            store_id=store_id,
            lines=lines,
            products=products,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            attributions=attributions,
        )
    except IntegrityError:
        # Either a concurrent request with the same key committed first (answer with its
        # response), or the store or a product was deleted since they were checked (foreign keys
        # are checked at COMMIT): say which, as validation would have.
        if idempotency_key is not None:
            replayed = _replayed(idempotency_key=idempotency_key, request_hash=request_hash)
            if replayed is not None:
                return replayed
        store_check_exists(store_id=store_id)
        _products_get(lines)
        raise


@transaction.atomic
def _order_place_locked(
    *,
    store_id: int,
    lines: list[OrderLine],
    products: dict[int, Product],
    idempotency_key: IdempotencyKey | None,
    request_hash: str,
    attributions: dict[int, str],
) -> OrderPlacement:
    claim = None
    if idempotency_key is not None:
        # First statement: a concurrent twin blocks here, before it holds any stock lock.
        claim = idempotency_claim(key=idempotency_key, request_hash=request_hash)

    # The order and its lines are written before the stock rows are locked: hot rows stay locked
    # only for the lock, the deduction and the commit, which bounds throughput on a hot product.
    # Attributed lines carry their query_id in the same INSERTs: conversions are derived from
    # them after commit (searchevents), adding no statement here.
    order = Order.objects.create(
        store_id=store_id, status=Order.Status.CONFIRMED, conversions_pending=bool(attributions)
    )
    items = OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                product=products[line.product_id],
                quantity_requested=line.quantity_requested,
                unit_price=products[line.product_id].price,
                query_id=attributions.get(line.product_id),
            )
            for line in lines
        ]
    )
    placement = OrderPlacement(order=order, lines=items)

    # The response a key records is rendered before the lock as the likely outcome, and again
    # only if the order is rejected: everything done between the lock and the commit is time the
    # hot rows stay locked. Without a key the view renders it, after the commit.
    likely = placement_response(placement) if claim is not None else None
    deduction = inventory_deduct(
        store_id=store_id, quantities={x.product_id: x.quantity_requested for x in lines}
    )
    if not deduction.deducted:
        _order_reject(order, items, deduction)
        likely = None

    if claim is not None:
        idempotency_record(claim, order=order, response=likely or placement_response(placement))
    if order.status == Order.Status.CONFIRMED:
        # If the broker is down the order stays unsent and `send_pending_order_confirmations`
        # picks it up.
        publish_on_commit(app.signature(CONFIRMATION_TASK), order.pk)
        if attributions:
            # If it never runs, the searchevents sweep finds the order by its pending flag.
            ship_soon()
    return placement


def _order_reject(order: Order, items: list[OrderItem], deduction: StockDeduction) -> None:
    """Mark the order REJECTED and each short line with its reason and what was available."""
    order.status = Order.Status.REJECTED
    order.save(update_fields=["status", "updated_at"])
    rejected = []
    for item in items:
        shortage = deduction.shortages.get(item.product_id)
        if shortage is not None:
            item.quantity_available = shortage.quantity_available
            item.reject_reason = (
                OrderItem.RejectReason.INSUFFICIENT_STOCK
                if shortage.stocked
                else OrderItem.RejectReason.NOT_STOCKED
            )
            rejected.append(item)
    OrderItem.objects.bulk_update(rejected, ["quantity_available", "reject_reason"])


def order_confirmation_deliver(*, order: Order) -> None:
    """Deliver the confirmation. Aisle has no customer contact yet, so delivery is a log line."""
    logger.info(
        "order confirmation sent",
        extra={
            "event": "order_confirmation_sent",
            "order_id": order.pk,
            "store_id": order.store_id,
        },
    )


def order_confirmation_send(*, order_id: int) -> bool:
    """Send a confirmed order's confirmation once; True if this call sent it.

    The order row is locked so two concurrent runs cannot both send; a run after a successful one
    finds `confirmation_sent_at` set and does nothing. A delivery failure rolls back and raises,
    so the task retries.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status != Order.Status.CONFIRMED:
            logger.warning(
                "order confirmation skipped",
                extra={"event": "order_confirmation_skipped", "order_id": order_id},
            )
            return False
        if order.confirmation_sent_at is not None:
            return False
        order_confirmation_deliver(order=order)
        order.confirmation_sent_at = timezone.now()
        order.save(update_fields=["confirmation_sent_at", "updated_at"])
        return True
