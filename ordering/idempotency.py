"""Idempotency-Key: the first response to a keyed placement, recorded with it and replayed.

The placing transaction claims the key with its first statement and records the response before
it commits, so a committed key always has its response: a concurrent twin waits on the claim and
then replays it. The response is stored as the JSON first sent, so a replay is the same body even
after a product is renamed. Which records a key matches is said once, by `IdempotencyKey.lookup`.
"""

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router

from config.retention import created_before_purge
from ordering.exceptions import IdempotencyConflict
from ordering.models import IdempotencyRecord, Order


@dataclass(frozen=True)
class IdempotencyKey:
    """A caller's Idempotency-Key: what its records are found by.

    Keys are a namespace per caller, so nobody can claim, replay or probe another caller's key.
    """

    caller: str
    value: str

    def lookup(self) -> dict[str, Any]:
        """The record fields that identify this key (and are set when it is claimed)."""
        return {"caller": self.caller, "key": self.value}


@dataclass(frozen=True)
class PlacementResponse:
    """The answer to a placement: what the view sends, and what a key records and replays.

    Rendered by the service (`ordering.services.placement_response`); stored here as given.
    """

    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Replay:
    """A keyed request answered before: its order, and the response it got then."""

    order: Order
    response: PlacementResponse


def idempotency_replay(*, key: IdempotencyKey, request_hash: str) -> Replay | None:
    """The response recorded under `key`, or None when the key is new.

    Raises `IdempotencyConflict` when the key was used with another request.
    """
    if not _recorded(key):  # almost every key is new: no ORM query built for those
        return None
    record = IdempotencyRecord.objects.select_related("order").filter(**key.lookup()).first()
    if record is None:
        return None
    # The order and the status are recorded together (idempotency_record): both or neither.
    if (
        record.request_hash != request_hash
        or record.response_status is None
        or record.order is None
    ):
        raise IdempotencyConflict()
    return Replay(
        order=record.order,
        response=PlacementResponse(
            status_code=record.response_status, body=json.loads(record.response_body)
        ),
    )


@functools.cache
def _recorded_sql(fields: tuple[str, ...]) -> str:
    meta = IdempotencyRecord._meta
    columns = {field.name: field.column for field in meta.concrete_fields}
    where = " AND ".join(f'"{columns[name]}" = %s' for name in fields)
    # Names come from the model, never from input.
    return f'SELECT 1 FROM "{meta.db_table}" WHERE {where} LIMIT 1'  # noqa: S608


def _recorded(key: IdempotencyKey) -> bool:
    """Whether a record matches `key` now (`IdempotencyKey.lookup`), in fixed SQL.

    A record claimed after this look-up is still caught by the claim's unique constraint.
    """
    lookup = key.lookup()
    with connections[router.db_for_read(IdempotencyRecord)].cursor() as cursor:
        cursor.execute(_recorded_sql(tuple(lookup)), list(lookup.values()))
        return cursor.fetchone() is not None


def idempotency_claim(*, key: IdempotencyKey, request_hash: str) -> IdempotencyRecord:
    """Claim `key` inside the placing transaction, before any stock lock is taken.

    The key is unique: a concurrent request with the same key waits here for this transaction,
    then fails with `IntegrityError` and replays what this one recorded.
    """
    return IdempotencyRecord.objects.create(**key.lookup(), request_hash=request_hash)


def idempotency_record(
    claim: IdempotencyRecord, *, order: Order, response: PlacementResponse
) -> None:
    """Record the response to the claimed request, in the transaction that placed `order`."""
    IdempotencyRecord.objects.filter(pk=claim.pk).update(
        order=order,
        response_status=response.status_code,
        response_body=json.dumps(response.body, cls=DjangoJSONEncoder),
    )


def idempotency_records_purge(*, older_than: datetime, batch_size: int = 5000) -> int:
    """Delete the idempotency records created before `older_than`, in short batches; how many
    went. A key whose record is gone is new again: a request with it places a new order.
    """
    return created_before_purge(IdempotencyRecord, older_than=older_than, batch_size=batch_size)
