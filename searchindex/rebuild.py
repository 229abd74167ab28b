"""Zero-downtime rebuild: a new index from Postgres, the changes made meanwhile, then the swap."""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from elasticsearch import Elasticsearch, NotFoundError
from elasticsearch.dsl.connections import connections as es_connections
from elasticsearch.helpers import parallel_bulk

from searchindex.analysis import analysis_settings
from searchindex.cache import catalog_version_bump
from searchindex.documents import ALIAS, ProductDocument
from searchindex.exceptions import RebuildError
from searchindex.locks import DRAIN_LOCK, REBUILD_LOCK, advisory_lock
from searchindex.models import IndexRebuild, IndexRebuildJournal, PendingIndexUpdate
from searchindex.outbox import DRAIN_BATCH, documents_apply, outbox_drain, products_of_rows

logger = logging.getLogger(__name__)

REBUILD_CHUNK = 1_000
REBUILD_THREADS = 2


def es_client() -> Elasticsearch:
    """The current connection; looked up on each call so a reconfigured connection takes effect."""
    return es_connections.get_connection()


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
            index_finish_load(name=name)
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
                _outbox_rows_delete(covered)
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


# --- its steps, in the order it takes them ----------------------------------------------------


def index_name_new() -> str:
    return f"{ALIAS}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"


def index_create(*, name: str, bulk_load: bool = False) -> str:
    """Create a concrete index with the document's mappings; `bulk_load` turns refresh off."""
    index = ProductDocument._index.clone(name=name)
    # Read now, not at import: the synonym filter carries the enabled Synonym rows.
    index.settings(analysis=analysis_settings())
    if bulk_load:
        # No refreshes, replicas or per-request fsync while loading; index_finish_load restores.
        index.settings(
            refresh_interval="-1", number_of_replicas=0, **{"translog.durability": "async"}
        )
    index.create()
    return name


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


def index_finish_load(*, name: str) -> None:
    """Turn refreshes, replicas and per-request fsync back on after a bulk load, then refresh."""
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
        products_of = products_of_rows(entries)
        pks = set().union(*products_of.values())
        refused, _ = documents_apply(pks, index=index, require_alias=False)
        if refused:
            raise RebuildError(f"Elasticsearch refused replayed documents: {refused}")
        cursor = entries[-1]["id"]
        replayed += len(pks)


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


def _outbox_rows_delete(seqs: list[int]) -> None:
    """Delete the outbox rows whose changes the new index already holds."""
    # One array parameter rather than an IN list: a reseed can leave 100,000 rows covered.
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {PendingIndexUpdate._meta.db_table} WHERE seq = ANY(%s)",  # noqa: S608
            [seqs],
        )


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
