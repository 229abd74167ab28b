"""Index writes: the outbox (record, drain), bulk apply, zero-downtime rebuild and drift checks."""

import json
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import F
from django.utils import timezone
from elasticsearch import NotFoundError
from elasticsearch.dsl.connections import connections as es_connections
from elasticsearch.helpers import parallel_bulk, scan
from elasticsearch.serializer import JsonSerializer

from catalog.models import Product
from searchindex.cache import catalog_version_bump
from searchindex.documents import ALIAS, ProductDocument, products_for_indexing
from searchindex.models import IndexRebuild, IndexRebuildJournal, PendingIndexUpdate

logger = logging.getLogger(__name__)

PRODUCT = "catalog.product"
CATEGORY = "catalog.category"
TRACKED_MODELS = (PRODUCT, CATEGORY)

# Session-level advisory locks, so the guarantee holds across every worker process and host.
_LOCK_CLASS = 0x41534C45  # "ASLE"
DRAIN_LOCK = 1
REBUILD_LOCK = 2

OUTBOX_SEQUENCE = "searchindex_outbox_seq"
DRAIN_BATCH = 500
BULK_CHUNK = 500
REBUILD_CHUNK = 1_000
REBUILD_THREADS = 2
_UPSERT_CHUNK = 10_000
_ERROR_TEXT_LIMIT = 1_000


class RebuildError(Exception):
    """The rebuild could not finish; the alias still points at the previous index."""


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """itertools.batched, which arrives only in Python 3.12."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def es_client():
    """The current connection; looked up on each call so a reconfigured connection takes effect."""
    return es_connections.get_connection()


# --- recording changes (inside the caller's transaction) -----------------------------------------


def outbox_record(*, model: str, pks: Iterable[int]) -> int:
    """Record that these objects changed, in the caller's transaction; drain once it commits.

    Never talks to Elasticsearch or the broker, so it cannot fail for their sake, and a rolled-back
    transaction takes its rows with it.
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
    drain_after_commit()
    return len(unique)


def drain_after_commit() -> None:
    """Enqueue one drain when the current transaction commits (once, however many changes)."""
    if connection.in_atomic_block and any(
        func is _enqueue_drain for _, func, _ in connection.run_on_commit
    ):
        return
    transaction.on_commit(_enqueue_drain)


def _enqueue_drain() -> None:
    # The change is already committed and recorded; if the broker is down, the beat sweep (or the
    # next successful enqueue) drains it, so a publish failure must not fail the caller.
    from searchindex.tasks import enqueue_drain

    enqueue_drain()


# --- draining -------------------------------------------------------------------------------


@dataclass
class DrainResult:
    applied: int = 0  # outbox rows Elasticsearch acknowledged, now deleted
    failed: int = 0  # rows whose documents Elasticsearch refused; left for the next drain
    documents: int = 0  # documents written or deleted
    skipped: bool = False  # another drain held the lock and will see our rows
    errors: list[str] = field(default_factory=list)


@contextmanager
def advisory_lock(key: int, *, wait: bool, using: str = "default") -> Iterator[bool]:
    """A Postgres session lock (DRAIN_LOCK, REBUILD_LOCK); yields whether it was acquired."""
    conn = connections[using]
    with conn.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_LOCK_CLASS, key])
            acquired = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, key])
            acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with conn.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, key])
            except DatabaseError:
                # A broken connection has already released its session locks.
                logger.warning("searchindex: could not release advisory lock %s", key)


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


def _drain_batch(rows: list[dict[str, Any]], result: DrainResult) -> list[int]:
    """Apply one batch; returns the seqs to pass over for the rest of this drain."""
    products_of = _expand(rows)
    all_pks = set().union(*products_of.values()) if products_of else set()
    refused, documents = _apply(all_pks, index=ALIAS, require_alias=True)
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


def _expand(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, int], set[int]]:
    """The product ids each outbox row stands for: itself, or a category's products."""
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


def _apply(pks: set[int], *, index: str, require_alias: bool) -> tuple[dict[int, str], int]:
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
    _, errors = doc.bulk(
        actions(),
        chunk_size=BULK_CHUNK,
        raise_on_error=False,
        max_retries=2,  # streaming_bulk retries 429s (a busy node) with backoff
        initial_backoff=0.5,
        **extra,
    )
    refused: dict[int, str] = {}
    for error in errors:
        op_type, item = next(iter(error.items()))
        if op_type == "delete" and item.get("status") == 404 and item.get("result") == "not_found":
            continue  # already gone: that is what we wanted
        reason = item.get("error") or item.get("result") or item.get("status")
        refused[int(item["_id"])] = json.dumps(reason)[:_ERROR_TEXT_LIMIT]
    return refused, len(found) + len(missing)


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
            WHERE r.state = %s AND EXISTS (
                SELECT 1 FROM pg_locks l
                WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s
                  AND l.objid = %s AND l.objsubid = 2
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            )
        )
        SELECT seq FROM deleted
    """  # noqa: S608 - table names are ours, values are parameters
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [seqs, IndexRebuild.State.RUNNING, _LOCK_CLASS, REBUILD_LOCK])
        return {seq for (seq,) in cursor.fetchall()}


def _delete_seqs(seqs: list[int]) -> None:
    # One array parameter rather than an IN list: a reseed can leave 100,000 rows covered.
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {PendingIndexUpdate._meta.db_table} WHERE seq = ANY(%s)",  # noqa: S608
            [seqs],
        )


def _mark_failed(failed: dict[int, str]) -> None:
    by_error: dict[str, list[int]] = defaultdict(list)
    for seq, error in failed.items():
        by_error[error].append(seq)
    for error, seqs in by_error.items():
        PendingIndexUpdate.objects.filter(seq__in=seqs).update(
            attempts=F("attempts") + 1, last_error=error
        )


# --- building a new index -------------------------------------------------------------------


def index_name_new() -> str:
    return f"{ALIAS}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"


def index_create(*, name: str, bulk_load: bool = False) -> str:
    """Create a concrete index with the document's mappings; `bulk_load` turns refresh off."""
    index = ProductDocument._index.clone(name=name)
    if bulk_load:
        # No refreshes, replicas or per-request fsync while loading; _index_finish_load restores.
        index.settings(
            refresh_interval="-1", number_of_replicas=0, **{"translog.durability": "async"}
        )
    index.create()
    return name


def _index_finish_load(name: str) -> None:
    es_client().indices.put_settings(
        index=name,
        settings={
            "index": {
                "refresh_interval": settings.ELASTICSEARCH_REFRESH_INTERVAL,
                "number_of_replicas": settings.ELASTICSEARCH_REPLICAS,
                "translog.durability": "request",
            }
        },
    )
    es_client().indices.refresh(index=name)


def alias_indices() -> list[str]:
    """The concrete indices behind the products alias (none before the first build)."""
    try:
        return sorted(es_client().indices.get_alias(name=ALIAS).keys())
    except NotFoundError:
        return []


def alias_swap(*, index: str) -> list[str]:
    """Point the alias at `index` in one atomic request; returns the indices it left."""
    es = es_client()
    old = [name for name in alias_indices() if name != index]
    actions: list[dict[str, Any]] = [{"add": {"index": index, "alias": ALIAS}}]
    actions += [{"remove": {"index": name, "alias": ALIAS}} for name in old]
    if not old and es.indices.exists(index=ALIAS) and not es.indices.exists_alias(name=ALIAS):
        # A concrete index squatting on the alias name (an auto-created one) goes in the same step.
        actions.append({"remove_index": {"index": ALIAS}})
    es.indices.update_aliases(actions=actions)
    return old


def index_prune(*, keep: int) -> list[str]:
    """Delete previous product indices not behind the alias, keeping the `keep` newest."""
    es = es_client()
    live = set(alias_indices())
    found = es.indices.get(index=f"{ALIAS}-*", allow_no_indices=True, expand_wildcards="open")
    old = sorted(
        (name for name in found if name not in live),
        key=lambda name: int(found[name]["settings"]["index"]["creation_date"]),
        reverse=True,
    )
    doomed = old[keep:]
    for name in doomed:
        es.indices.delete(index=name, ignore_unavailable=True)
    return doomed


def _populate(
    name: str, *, progress: Callable[[int], None] | None, chunk_size: int, thread_count: int
) -> int:
    doc = ProductDocument()

    def actions() -> Iterator[dict[str, Any]]:
        # parallel_bulk pulls this generator on its own thread, which gets its own DB connection.
        try:
            for action in doc.get_actions(doc.get_indexing_queryset(), "index"):
                action["_index"] = name
                yield action
        finally:
            connections.close_all()

    indexed = 0
    for ok, item in parallel_bulk(
        es_client(), actions(), chunk_size=chunk_size, thread_count=thread_count
    ):
        if not ok:
            raise RebuildError(f"Elasticsearch refused a document: {item}")
        indexed += 1
        if progress and indexed % chunk_size == 0:
            progress(chunk_size)
    if progress and indexed % chunk_size:
        progress(indexed % chunk_size)
    return indexed


def _replay(rebuild: IndexRebuild, *, index: str, after: int) -> tuple[int, int]:
    """Re-apply every journaled change past `after` into `index`; returns (cursor, replayed)."""
    cursor, replayed = after, 0
    while True:
        entries = list(
            IndexRebuildJournal.objects.filter(rebuild=rebuild, id__gt=cursor)
            .order_by("id")
            .values("id", "model", "object_pk")[:DRAIN_BATCH]
        )
        if not entries:
            return cursor, replayed
        products_of = _expand(entries)
        pks = set().union(*products_of.values())
        refused, _ = _apply(pks, index=index, require_alias=False)
        if refused:
            raise RebuildError(f"Elasticsearch refused replayed documents: {refused}")
        cursor = entries[-1]["id"]
        replayed += len(pks)


@dataclass
class RebuildResult:
    index: str
    documents: int
    replayed: int
    previous: list[str]
    deleted: list[str]


def index_rebuild(
    *,
    keep: int = 0,
    progress: Callable[[int], None] | None = None,
    before_swap: Callable[[str], None] | None = None,
    chunk_size: int = REBUILD_CHUNK,
    thread_count: int = REBUILD_THREADS,
) -> RebuildResult:
    """Build a fresh index from Postgres, replay what changed meanwhile, then swap the alias.

    Searches keep using the old index until the swap. Drains keep applying changes to it and, while
    this runs, journal them; the journal is replayed into the new index, the last time holding the
    drain lock so nothing can slip between that replay and the swap.
    """
    with advisory_lock(REBUILD_LOCK, wait=False) as acquired:
        if not acquired:
            raise RebuildError("another rebuild_index is running")
        # Runs left "running" by a crashed process hold no lock; their journals are useless now.
        IndexRebuild.objects.filter(state=IndexRebuild.State.RUNNING).update(
            state=IndexRebuild.State.ABANDONED, finished_at=timezone.now()
        )
        IndexRebuildJournal.objects.exclude(rebuild__state=IndexRebuild.State.RUNNING).delete()
        name = index_name_new()
        rebuild = IndexRebuild.objects.create(index_name=name)
        # Rows pending now were committed before the snapshot `_populate` reads, so the new
        # index will hold their changes; if their seq is unchanged at the swap, they are done.
        covered = list(PendingIndexUpdate.objects.values_list("seq", flat=True))
        try:
            index_create(name=name, bulk_load=True)
            documents = _populate(
                name, progress=progress, chunk_size=chunk_size, thread_count=thread_count
            )
            _index_finish_load(name)
            cursor, replayed = _replay(rebuild, index=name, after=0)
            if before_swap:
                before_swap(name)
            cursor, more = _replay(rebuild, index=name, after=cursor)
            replayed += more
            with advisory_lock(DRAIN_LOCK, wait=True):
                cursor, more = _replay(rebuild, index=name, after=cursor)
                replayed += more
                es_client().indices.refresh(index=name)
                previous = alias_swap(index=name)
                _delete_seqs(covered)
                rebuild.state = IndexRebuild.State.DONE
                rebuild.finished_at = timezone.now()
                rebuild.documents = documents
                rebuild.replayed = replayed
                rebuild.save()
            IndexRebuildJournal.objects.filter(rebuild=rebuild).delete()
        except BaseException as exc:
            IndexRebuild.objects.filter(pk=rebuild.pk).update(
                state=IndexRebuild.State.FAILED, finished_at=timezone.now(), error=repr(exc)[:1000]
            )
            IndexRebuildJournal.objects.filter(rebuild=rebuild).delete()
            if name not in alias_indices():
                es_client().indices.delete(index=name, ignore_unavailable=True)
            raise
    catalog_version_bump()
    deleted = index_prune(keep=keep)
    # Drains that found the lock taken during the swap left their rows for us.
    try:
        outbox_drain()
    except Exception:  # noqa: BLE001 - the sweep retries; the rebuild itself is complete
        logger.warning("searchindex: drain after rebuild failed", exc_info=True)
    return RebuildResult(
        index=name, documents=documents, replayed=replayed, previous=previous, deleted=deleted
    )


# --- comparing the index with Postgres ------------------------------------------------------


@dataclass
class DriftReport:
    postgres_count: int
    index_count: int
    checked: int
    missing: list[int] = field(default_factory=list)  # in Postgres, not in the index
    unexpected: list[int] = field(default_factory=list)  # in the index, not in Postgres
    stale: dict[int, list[str]] = field(default_factory=dict)  # id → fields that differ
    pending: int = 0
    oldest_pending_seconds: float | None = None
    index: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.postgres_count == self.index_count
            and not self.missing
            and not self.unexpected
            and not self.stale
        )


def _normalised(source: dict[str, Any], serializer: JsonSerializer) -> dict[str, Any]:
    return json.loads(serializer.dumps(source))


def index_drift(*, sample: int | None = 200, seed: int | None = None) -> DriftReport:
    """Compare the index with Postgres: counts, then every document (`sample=None`) or a sample."""
    es = es_client()
    live = alias_indices()
    if not live:
        return DriftReport(postgres_count=Product.objects.count(), index_count=0, checked=0)
    es.indices.refresh(index=ALIAS)
    report = DriftReport(
        postgres_count=Product.objects.count(),
        index_count=es.count(index=ALIAS)["count"],
        checked=0,
        index=live,
    )
    oldest = PendingIndexUpdate.objects.order_by("created_at").values_list("created_at", flat=True)
    report.pending = PendingIndexUpdate.objects.count()
    if report.pending:
        report.oldest_pending_seconds = (timezone.now() - oldest[0]).total_seconds()

    if sample is None:
        pg_ids = list(Product.objects.order_by("id").values_list("id", flat=True))
        es_ids = [int(hit["_id"]) for hit in scan(es, index=ALIAS, _source=False, size=2_000)]
        report.unexpected = sorted(set(es_ids) - set(pg_ids))
    else:
        rng = random.Random(seed)
        all_ids = list(Product.objects.values_list("id", flat=True))
        pg_ids = sorted(rng.sample(all_ids, min(sample, len(all_ids))))
        hits = es.search(
            index=ALIAS,
            size=sample,
            source=False,
            query={
                "function_score": {
                    "random_score": {"seed": rng.randrange(1 << 30), "field": "_seq_no"}
                }
            },
        )["hits"]["hits"]
        es_ids = [int(hit["_id"]) for hit in hits]
        existing = set(Product.objects.filter(pk__in=es_ids).values_list("id", flat=True))
        report.unexpected = sorted(set(es_ids) - existing)

    serializer = JsonSerializer()
    doc = ProductDocument()
    for chunk in batched(pg_ids, 1_000):
        found = {
            product.pk: _normalised(doc.prepare(product), serializer)
            for product in products_for_indexing().filter(pk__in=chunk)
        }
        indexed = {
            int(d["_id"]): d["_source"]
            for d in es.mget(index=ALIAS, ids=list(found))["docs"]
            if d.get("found")
        }
        report.checked += len(found)
        for pk, expected in found.items():
            actual = indexed.get(pk)
            if actual is None:
                report.missing.append(pk)
            elif actual != expected:
                keys = set(expected) | set(actual)
                report.stale[pk] = sorted(k for k in keys if expected.get(k) != actual.get(k))
    return report
