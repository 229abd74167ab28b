"""The index outbox: record changes in the writer's transaction, then drain them into the index."""

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django_elasticsearch_dsl.signals import post_index
from elasticsearch.helpers import bulk

from catalog.models import Product
from searchindex.cache import catalog_version_bump
from searchindex.client import ALIAS, drain_client
from searchindex.compat import batched
from searchindex.documents import ProductDocument, products_for_indexing
from searchindex.locks import DRAIN_LOCK, REBUILD_RUNNING_SQL, advisory_lock
from searchindex.models import IndexRebuild, IndexRebuildJournal, PendingIndexUpdate

PRODUCT = "catalog.product"
CATEGORY = "catalog.category"
TRACKED_MODELS = (PRODUCT, CATEGORY)

OUTBOX_SEQUENCE = "searchindex_outbox_seq"
DRAIN_BATCH = 500
BULK_CHUNK = 500
_UPSERT_CHUNK = 10_000
_ERROR_TEXT_LIMIT = 1_000


# --- recording changes (inside the caller's transaction) -----------------------------------------


def outbox_record(*, model: str, pks: Iterable[int]) -> int:
    """Record that these objects changed, in the caller's transaction; returns how many.

    Never talks to Elasticsearch or the broker, so it cannot fail for their sake, and a rolled-back
    transaction takes its rows with it. The caller enqueues the drain for after the commit
    (`searchindex.tasks.drain_after_commit`).
    """
    if model not in TRACKED_MODELS:
        raise ValueError(f"{model!r} is not indexed; expected one of {TRACKED_MODELS}")
    unique = sorted({int(pk) for pk in pks if pk is not None})
    if not unique:
        return 0
    table = PendingIndexUpdate._meta.db_table
    # Sorted input gives concurrent writers one lock order on shared rows.
    sql = f"""
        INSERT INTO {table} (model, object_pk, seq, changes, created_at, updated_at, attempts,
                             last_error)
        SELECT %s, pk, nextval('{OUTBOX_SEQUENCE}'), 1, now(), now(), 0, ''
        FROM unnest(%s::bigint[]) AS pk ORDER BY pk
        ON CONFLICT (model, object_pk) DO UPDATE
        SET seq = EXCLUDED.seq, changes = {table}.changes + 1, updated_at = EXCLUDED.updated_at
    """  # noqa: S608 - table and sequence names are ours, values are parameters
    with connection.cursor() as cursor:
        for chunk in batched(unique, _UPSERT_CHUNK):
            cursor.execute(sql, [model, chunk])
    return len(unique)


# --- draining -------------------------------------------------------------------------------


@dataclass
class DrainResult:
    applied: int = 0  # outbox rows Elasticsearch acknowledged, now deleted
    failed: int = 0  # rows whose documents Elasticsearch refused; left for the next drain
    documents: int = 0  # documents written or deleted
    skipped: bool = False  # another drain held the lock and will see our rows
    errors: list[str] = field(default_factory=list)


def outbox_drain(*, batch_size: int = DRAIN_BATCH) -> DrainResult:
    """Apply pending rows to the index in batches until none are left; safe to run anywhere.

    One drain runs at a time (an advisory lock, taken per batch so a rebuild can step in). A drain
    that finds the lock taken returns at once: the holder looks for new rows after releasing it.
    Raises on transport errors (Elasticsearch down), leaving every unapplied row in place.
    """
    result = DrainResult()
    try:
        _drain(result, batch_size)
    finally:
        if result.applied:
            # Cached suggestions were computed from the index; it has just changed.
            catalog_version_bump()
    return result


def _drain(result: DrainResult, batch_size: int) -> None:
    passed: list[int] = []  # seqs this drain will not revisit: refused, or busy in a writer's tx
    while True:
        with advisory_lock(DRAIN_LOCK, wait=False) as acquired:
            if not acquired:
                result.skipped = True
                return
            rows = list(
                PendingIndexUpdate.objects.exclude(seq__in=passed)
                .order_by("seq")
                .values("seq", "model", "object_pk")[:batch_size]
            )
            if rows:
                applied_before, failed_before = result.applied, result.failed
                passed.extend(_drain_batch(rows, result))
                if result.applied == applied_before and result.failed > failed_before:
                    # Nothing in a whole batch went through (no index behind the alias, say):
                    # the rest would fare no better. Retries and the sweep try again later.
                    return
        if rows:
            continue
        if not PendingIndexUpdate.objects.exclude(seq__in=passed).exists():
            return


def _drain_batch(rows: Sequence[Mapping[str, Any]], result: DrainResult) -> list[int]:
    """Apply one batch; returns the seqs to pass over for the rest of this drain."""
    products_of = products_of_rows(rows)
    all_pks = set().union(*products_of.values()) if products_of else set()
    refused, documents = documents_apply(all_pks, index=ALIAS, require_alias=True)
    result.documents += documents

    acked, failed = [], {}
    for row in rows:
        errors = [
            refused[pk] for pk in products_of[(row["model"], row["object_pk"])] if pk in refused
        ]
        if errors:
            failed[row["seq"]] = errors[0]
        else:
            acked.append(row["seq"])

    deleted = _delete_acknowledged(acked)
    result.applied += len(deleted)
    if failed:
        result.failed += len(failed)
        result.errors.extend(list(failed.values())[:5])
        _mark_failed(failed)
    # Acknowledged rows that were not deleted are locked by a writer (or re-changed, with a new
    # seq); either way the writer's own drain, or the check after this one, picks them up.
    return [seq for seq in acked if seq not in deleted] + list(failed)


def _delete_acknowledged(seqs: list[int]) -> set[int]:
    """Delete applied rows (skipping any a writer holds) and journal them for a running rebuild."""
    if not seqs:
        return set()
    table = PendingIndexUpdate._meta.db_table
    journal = IndexRebuildJournal._meta.db_table
    rebuilds = IndexRebuild._meta.db_table
    # A row a writer has locked is about to get a new seq; deleting it would lose that change.
    sql = f"""
        WITH deleted AS (
            DELETE FROM {table} WHERE id IN (
                SELECT id FROM {table} WHERE seq = ANY(%s) FOR UPDATE SKIP LOCKED
            )
            RETURNING seq, model, object_pk
        ), journaled AS (
            INSERT INTO {journal} (rebuild_id, model, object_pk)
            SELECT r.id, d.model, d.object_pk FROM deleted d CROSS JOIN {rebuilds} r
            WHERE r.state = %s AND {REBUILD_RUNNING_SQL}
        )
        SELECT seq FROM deleted
    """  # noqa: S608 - table names and the lock condition are ours, values are parameters
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [seqs, IndexRebuild.State.RUNNING])
        return {seq for (seq,) in cursor.fetchall()}


def _mark_failed(failed: dict[int, str]) -> None:
    by_error: dict[str, list[int]] = defaultdict(list)
    for seq, error in failed.items():
        by_error[error].append(seq)
    for error, seqs in by_error.items():
        PendingIndexUpdate.objects.filter(seq__in=seqs).update(
            attempts=F("attempts") + 1, last_error=error
        )


# --- applying changes to an index (the drain above, and a rebuild's journal replay) -----------


def products_of_rows(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, int], set[int]]:
    """The product ids each outbox (or journal) row stands for: itself, or a category's products."""
    products_of: dict[tuple[str, int], set[int]] = {}
    category_pks = set()
    for row in rows:
        key = (row["model"], row["object_pk"])
        if row["model"] == PRODUCT:
            products_of[key] = {row["object_pk"]}
        elif row["model"] == CATEGORY:
            products_of[key] = set()
            category_pks.add(row["object_pk"])
        else:
            products_of[key] = set()  # nothing we index; acknowledged and dropped
    if category_pks:
        pairs = Product.objects.filter(category_id__in=category_pks).values_list(
            "category_id", "id"
        )
        for category_id, product_id in pairs:
            products_of[(CATEGORY, category_id)].add(product_id)
    return products_of


def documents_apply(
    pks: set[int], *, index: str, require_alias: bool
) -> tuple[dict[int, str], int]:
    """Write each product's current document, or delete it if the product is gone.

    Returns the products Elasticsearch refused (id → reason) and how many documents were sent.
    """
    if not pks:
        return {}, 0
    doc = ProductDocument()
    found = list(products_for_indexing().filter(pk__in=pks).order_by("id"))
    missing = sorted(pks - {product.pk for product in found})

    def actions() -> Iterator[dict[str, Any]]:
        for action in doc.get_actions(found, "index"):
            action["_index"] = index
            yield action
        for pk in missing:
            yield {"_op_type": "delete", "_index": index, "_id": pk}

    extra = {"require_alias": True} if require_alias else {}
    # The bulk timeout, not the search client's, which a busy node can exceed on a batch.
    client = drain_client()
    sent = actions()
    response = bulk(
        client,
        sent,
        chunk_size=BULK_CHUNK,
        max_chunk_bytes=settings.ELASTICSEARCH_BULK_MAX_BYTES,
        raise_on_error=False,
        max_retries=2,  # streaming_bulk retries 429s (a busy node) with backoff
        initial_backoff=0.5,
        **extra,
    )
    # As Document.bulk would, which cannot take a client with its own timeout.
    post_index.send(sender=ProductDocument, instance=doc, actions=sent, response=response)
    # Without stats_only, the second item is the list of failed items, never a count.
    errors = cast(list[dict[str, Any]], response[1])
    refused: dict[int, str] = {}
    for error in errors:
        op_type, item = next(iter(error.items()))
        if op_type == "delete" and item.get("status") == 404 and item.get("result") == "not_found":
            continue  # already gone: that is what we wanted
        reason = item.get("error") or item.get("result") or item.get("status")
        refused[int(item["_id"])] = json.dumps(reason)[:_ERROR_TEXT_LIMIT]
    return refused, len(found) + len(missing)
