"""Zero-downtime rebuild: a new index from Postgres, the changes made meanwhile, then the swap."""

import logging
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, Elasticsearch
from elasticsearch.exceptions import GeneralAvailabilityWarning
from elasticsearch.helpers import streaming_bulk

from searchindex.analysis import analysis_settings
from searchindex.cache import catalog_version_bump
from searchindex.client import (
    ALIAS,
    alias_indices,
    alias_swap,
    bulk_client,
    es_client,
    index_name_new,
)
from searchindex.compat import batched
from searchindex.documents import ProductDocument
from searchindex.exceptions import RebuildError
from searchindex.locks import DRAIN_LOCK, REBUILD_LOCK, advisory_lock
from searchindex.models import IndexRebuild, IndexRebuildJournal, PendingIndexUpdate
from searchindex.outbox import DRAIN_BATCH, documents_apply, outbox_drain, products_of_rows
from searchindex.synonyms import synonym_rules
from searchindex.tasks import drain_after_commit

logger = logging.getLogger(__name__)

REBUILD_CHUNK = 1_000
REBUILD_THREADS = 2
MAX_BACKOFF = 60.0
FORCEMERGE_POLL_SECONDS = 2.0

T = TypeVar("T")


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
    progress: Callable[[int], object] | None = None,
    before_swap: Callable[[str], None] | None = None,
    chunk_size: int = REBUILD_CHUNK,
    thread_count: int = REBUILD_THREADS,
    forcemerge: bool | None = None,
) -> RebuildResult:
    """Build a fresh index from Postgres, replay what changed meanwhile, then swap the alias.

    Searches keep using the old index until the swap. Drains keep applying changes to it and, while
    this runs, journal them; the journal is replayed into the new index, the last time holding the
    drain lock so nothing can slip between that replay and the swap.

    If Elasticsearch fails it, raises a one-line RebuildError once the new index is deleted; the
    alias, the outbox and the old index are as drains left them, so no change is lost.
    """
    if forcemerge is None:
        forcemerge = settings.ELASTICSEARCH_REBUILD_FORCEMERGE
    with advisory_lock(REBUILD_LOCK, wait=False) as acquired:
        if not acquired:
            raise RebuildError(
                "another rebuild_index is running (it holds the rebuild lock); nothing was "
                "changed. Let it finish, then re-run if you still need to."
            )
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
        created = False
        try:
            index_create(name=name, bulk_load=True)
            created = True
            documents = _populate(
                name, progress=progress, chunk_size=chunk_size, thread_count=thread_count
            )
            index_finish_load(name=name)
            if forcemerge:
                index_forcemerge(name=name)
            cursor, replayed = _replay(rebuild, index=name, after=0)
            if before_swap:
                before_swap(name)
            cursor, more = _replay(rebuild, index=name, after=cursor)
            replayed += more
            with advisory_lock(DRAIN_LOCK, wait=True):
                cursor, more = _replay(rebuild, index=name, after=cursor)
                replayed += more
                _patiently(partial(bulk_client().indices.refresh, index=name), what="a refresh")
                previous = alias_swap(index=name)
                _outbox_rows_delete(covered)
                rebuild.state = IndexRebuild.State.DONE
                rebuild.finished_at = timezone.now()
                rebuild.documents = documents
                rebuild.replayed = replayed
                rebuild.save()
            IndexRebuildJournal.objects.filter(rebuild=rebuild).delete()
        except BaseException as exc:
            standing = _abandon(rebuild, exc, created=created)
            # Drains that found the drain lock taken left their rows; the covered rows stay too.
            drain_after_commit()
            if isinstance(exc, RebuildError | TransportError | ApiError):
                what, advice = _failure(exc)
                raise RebuildError(f"{what}; {standing}. {advice}") from exc
            raise
    catalog_version_bump()
    deleted = _prune_quietly(keep=keep)
    # Drains that found the lock taken during the swap left their rows for us.
    try:
        outbox_drain()
    except Exception:  # noqa: BLE001 - the sweep retries; the rebuild itself is complete
        logger.warning("searchindex: drain after rebuild failed", exc_info=True)
    return RebuildResult(
        index=name, documents=documents, replayed=replayed, previous=previous, deleted=deleted
    )


def _abandon(rebuild: IndexRebuild, exc: BaseException, *, created: bool) -> str:
    """Record the run as failed, drop its journal and its index unless live; say how things stand.

    Changes drained meanwhile already reached the live index, and rows still pending stay in the
    outbox for the next drain, so the journal holds nothing the live index lacks.
    """
    IndexRebuild.objects.filter(pk=rebuild.pk).update(
        state=IndexRebuild.State.FAILED, finished_at=timezone.now(), error=repr(exc)[:1000]
    )
    IndexRebuildJournal.objects.filter(rebuild=rebuild).delete()
    name = rebuild.index_name
    try:
        live = alias_indices()
        if name in live:
            # A swap that timed out on our side but went through on the node's.
            return f"the alias {ALIAS!r} points at the new index {name} all the same"
        # Every bulk request has returned by now, so none can re-create the index after this.
        bulk_client().indices.delete(index=name, ignore_unavailable=True)
    except (TransportError, ApiError) as cleanup:
        # One line, not a traceback: the command's own line says what to do.
        logger.warning("searchindex: could not clean up after a failed rebuild: %r", cleanup)
        if not created:
            return f"the alias {ALIAS!r} was not moved and no new index was made"
        return (
            f"the alias {ALIAS!r} was not moved, and the half-built index {name} could not be "
            "deleted (the next successful rebuild_index deletes it)"
        )
    behind = ", ".join(live) or "no index yet"
    return f"the alias {ALIAS!r} still points at {behind} and the half-built {name} is deleted"


def _failure(exc: BaseException) -> tuple[str, str]:
    """What failed and what to do about it, in words, for the one line a failed rebuild prints."""
    if isinstance(exc, RebuildError):
        return str(exc), exc.advice
    if isinstance(exc, ConnectionTimeout):
        return (
            f"Elasticsearch did not answer within {settings.ELASTICSEARCH_BULK_TIMEOUT:g} s "
            "(ConnectionTimeout)",
            _SLOW_NODE_ADVICE,
        )
    if isinstance(exc, TransportError):
        return (
            f"Elasticsearch at {_node_urls()} could not be reached "
            f"({type(exc).__name__}: {_one_line(exc.message)})",
            "Check that it is running and that ELASTICSEARCH_URL points at it, then re-run.",
        )
    what = f"Elasticsearch answered {getattr(exc, 'status_code', '?')} ({_one_line(exc)})"
    if getattr(exc, "status_code", None) == 429:
        return what, _BUSY_NODE_ADVICE
    return what, "Check the node's logs and health (GET _cluster/health), then re-run."


_SLOW_NODE_ADVICE = (
    "Check the node's health and heap (GET _cluster/health, GET _cat/nodes?v), then re-run, or "
    "raise ELASTICSEARCH_BULK_TIMEOUT."
)
_BUSY_NODE_ADVICE = (
    "The node is overloaded: re-run when it is quieter or with fewer --threads, or raise "
    "ELASTICSEARCH_BULK_RETRIES."
)


def _node_urls() -> str:
    return ", ".join(node.base_url for node in es_client().transport.node_pool.all())


def _one_line(text: object, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _patiently(call: Callable[[], T], *, what: str, stop: threading.Event | None = None) -> T:
    """Make a request, retrying a timeout with exponential backoff; give up with a RebuildError.

    Every request retried this way is idempotent (whole documents by id, settings, refresh, merge),
    so a request that timed out here but went through on the node does no harm when repeated.
    """
    retries = settings.ELASTICSEARCH_BULK_RETRIES
    timeout = settings.ELASTICSEARCH_BULK_TIMEOUT
    for attempt in range(retries + 1):
        try:
            return call()
        except ConnectionTimeout as exc:
            if attempt == retries or (stop is not None and stop.is_set()):
                attempts = f"{attempt + 1} attempt" + ("s" if attempt else "")
                raise RebuildError(
                    f"Elasticsearch did not acknowledge {what} within {timeout:g} s "
                    f"(ConnectionTimeout, {attempts})",
                    advice=_SLOW_NODE_ADVICE,
                ) from exc
            delay = min(MAX_BACKOFF, settings.ELASTICSEARCH_BULK_BACKOFF * 2**attempt)
            logger.warning(
                "searchindex: %s timed out after %g s; retrying in %g s (%d of %d)",
                what,
                timeout,
                delay,
                attempt + 1,
                retries,
            )
            if stop is None:
                time.sleep(delay)
            else:
                stop.wait(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


# --- its steps, in the order it takes them ----------------------------------------------------


def index_create(*, name: str, bulk_load: bool = False) -> str:
    """Create a concrete index with the document's mappings; `bulk_load` turns refresh off."""
    index = ProductDocument._index.clone(name=name)
    # Read now, not at import: the synonym filter carries the enabled Synonym rows, and a
    # rebuild is how a new shard or replica count reaches the index.
    index.settings(
        analysis=analysis_settings(synonym_rules=synonym_rules()),
        number_of_shards=settings.ELASTICSEARCH_SHARDS,
        number_of_replicas=settings.ELASTICSEARCH_REPLICAS,
    )
    if bulk_load:
        # No refreshes, replicas or per-request fsync while loading; index_finish_load restores.
        index.settings(
            refresh_interval="-1", number_of_replicas=0, **{"translog.durability": "async"}
        )
    # Not retried: a creation that timed out may have happened, and a second one would fail.
    index.create(using=bulk_client())
    return name


def _populate(
    name: str, *, progress: Callable[[int], object] | None, chunk_size: int, thread_count: int
) -> int:
    """Load every product from one Postgres snapshot, `thread_count` bulk requests at a time."""
    doc = ProductDocument()
    client = bulk_client()
    failed = threading.Event()  # once one chunk has given up, the others stop retrying

    def actions() -> Iterator[dict[str, Any]]:
        # In a transaction Django's server-side cursor is not WITH HOLD, so Postgres streams the
        # rows; in autocommit it first copied the whole catalogue aside (1.2-1.7 s per 100,000
        # products before the first document, with the node idle, and a temp file at 1M).
        with transaction.atomic():
            for action in doc.get_actions(doc.get_indexing_queryset(), "index"):
                action["_index"] = name
                yield action

    def load(chunk: list[dict[str, Any]]) -> int:
        _patiently(partial(_bulk_write, client, chunk), what="a bulk request", stop=failed)
        return len(chunk)

    indexed = 0
    in_flight: deque[Future[int]] = deque()

    def collect_oldest() -> None:
        nonlocal indexed
        done = in_flight.popleft().result()
        indexed += done
        if progress:
            progress(done)

    with ThreadPoolExecutor(thread_count, thread_name_prefix="rebuild-bulk") as pool:
        try:
            for chunk in batched(actions(), chunk_size):
                in_flight.append(pool.submit(load, chunk))
                # Reading stays at most one chunk ahead of the node: memory is bounded.
                if len(in_flight) > thread_count:
                    collect_oldest()
            while in_flight:
                collect_oldest()
        except BaseException:
            failed.set()
            for future in in_flight:
                future.cancel()
            raise
        # Leaving the pool waits for requests still running: none may outlive a failed rebuild.
    return indexed


def _bulk_write(client: Elasticsearch, chunk: list[dict[str, Any]]) -> None:
    """Write one chunk, in more requests if it exceeds the byte limit; 429s retried with backoff."""
    for _ok, item in streaming_bulk(
        client,
        chunk,
        chunk_size=len(chunk),
        max_chunk_bytes=settings.ELASTICSEARCH_BULK_MAX_BYTES,
        raise_on_error=False,
        yield_ok=False,
        max_retries=settings.ELASTICSEARCH_BULK_RETRIES,
        initial_backoff=settings.ELASTICSEARCH_BULK_BACKOFF,
        max_backoff=MAX_BACKOFF,
    ):
        _op_type, info = next(iter(item.items()))
        if info.get("status") == 429:
            raise RebuildError(
                "Elasticsearch kept rejecting documents with 429 Too Many Requests after "
                f"{settings.ELASTICSEARCH_BULK_RETRIES} retries",
                advice=_BUSY_NODE_ADVICE,
            )
        raise RebuildError(
            f"Elasticsearch refused product {info.get('_id')} ({_one_line(info.get('error'))})",
            advice="Fix that product, or the mapping in searchindex/documents.py, then re-run.",
        )


def index_finish_load(*, name: str) -> None:
    """Turn refreshes, replicas and per-request fsync back on after a bulk load, then refresh."""
    client = bulk_client()
    new_settings = {
        "index": {
            "refresh_interval": settings.ELASTICSEARCH_REFRESH_INTERVAL,
            "number_of_replicas": settings.ELASTICSEARCH_REPLICAS,
            "translog.durability": "request",
        }
    }
    _patiently(
        partial(client.indices.put_settings, index=name, settings=new_settings),
        what="the index settings",
    )
    _patiently(partial(client.indices.refresh, index=name), what="a refresh")
    _copies_wait(client, name=name)


def _copies_wait(client: Elasticsearch, *, name: str) -> None:
    """Wait (a while) for the replicas the cluster can place, so the index swapped in survives
    a node's death as well as the one it replaces. Too few nodes for them all: yellow will do."""
    nodes = client.cluster.health()["number_of_data_nodes"]
    status = "green" if nodes > settings.ELASTICSEARCH_REPLICAS else "yellow"
    health = client.options(ignore_status=408, request_timeout=90).cluster.health(
        index=name, wait_for_status=status, timeout="60s"
    )
    if health.get("timed_out"):
        logger.warning("rebuild: %s not %s after 60 s; swapping anyway", name, status)


def index_forcemerge(*, name: str) -> None:
    """Merge a bulk-loaded index into one segment, so searches read one segment, not a dozen."""
    client = bulk_client()
    # Started as a task and polled: merging 100,000 products took 110-160 s on the 2-core node,
    # more than one request's timeout, and it grows with the catalogue.
    task = _patiently(
        partial(
            client.indices.forcemerge, index=name, max_num_segments=1, wait_for_completion=False
        ),
        what="the force-merge",
    )["task"]
    poll = partial(_task_status, client, task)
    while not (status := _patiently(poll, what="the force-merge's progress"))["completed"]:
        time.sleep(FORCEMERGE_POLL_SECONDS)
    if "error" in status:
        raise RebuildError(
            f"Elasticsearch could not force-merge the new index ({_one_line(status['error'])})",
            advice="Check the node's disk and logs, then re-run (or re-run with --no-forcemerge).",
        )


def _task_status(client: Elasticsearch, task: str) -> dict[str, Any]:
    # The client flags the task API as a technical preview; it is how Elasticsearch's own docs
    # follow a request sent with wait_for_completion=false, so the warning is noise to a user.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeneralAvailabilityWarning)
        return client.tasks.get(task_id=task).body


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
        refused, _ = _patiently(
            partial(documents_apply, pks, index=index, require_alias=False),
            what="a bulk request replaying changes",
        )
        if refused:
            pk, reason = next(iter(refused.items()))
            raise RebuildError(
                f"Elasticsearch refused {len(refused)} replayed products, {pk} first "
                f"({_one_line(reason)})",
                advice="Fix that product, or the mapping in searchindex/documents.py, then re-run.",
            )
        cursor = entries[-1]["id"]
        replayed += len(pks)


def _outbox_rows_delete(seqs: list[int]) -> None:
    """Delete the outbox rows whose changes the new index already holds."""
    # One array parameter rather than an IN list: a reseed can leave 100,000 rows covered.
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {PendingIndexUpdate._meta.db_table} WHERE seq = ANY(%s)",  # noqa: S608
            [seqs],
        )


def _prune_quietly(*, keep: int) -> list[str]:
    """index_prune after a swap that has happened: a failure to delete is logged, not raised."""
    try:
        return index_prune(keep=keep)
    except (TransportError, ApiError) as exc:
        logger.warning("searchindex: could not delete previous indices: %r", exc)
        return []


def index_prune(*, keep: int) -> list[str]:
    """Delete previous product indices not behind the alias, keeping the `keep` newest."""
    es = bulk_client()
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
