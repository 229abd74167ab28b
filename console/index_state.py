"""The Inspect page's reads: the index behind the alias, its last rebuild, and the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from elasticsearch import ApiError, TransportError

from searchindex.client import ALIAS, alias_indices, es_client
from searchindex.models import IndexRebuild, PendingIndexUpdate


@dataclass(frozen=True)
class IndexInfo:
    name: str
    documents: int
    bytes: int
    health: str  # green / yellow / red
    primary_shards: int
    replicas: int
    active_shards: int
    unassigned_shards: int

    @property
    def bytes_per_product(self) -> float | None:
        return self.bytes / self.documents if self.documents else None


@dataclass(frozen=True)
class IndexState:
    alias: str
    indices: list[IndexInfo]
    error: str | None  # Elasticsearch could not be asked
    last_rebuild: IndexRebuild | None
    outbox_waiting: int
    oldest_waiting: datetime | None

    @property
    def lag_seconds(self) -> float:
        """Commit-to-search lag now: how long the oldest change not yet in the index has waited
        (0 when the outbox is empty: every committed change is searchable)."""
        if self.oldest_waiting is None:
            return 0.0
        return max((timezone.now() - self.oldest_waiting).total_seconds(), 0.0)


def _indices() -> list[IndexInfo]:
    names = alias_indices()
    if not names:
        return []
    es = es_client()
    joined = ",".join(names)
    stats = es.indices.stats(index=joined, metric="docs,store")["indices"]
    health = es.cluster.health(index=joined, level="indices")["indices"]
    return [
        IndexInfo(
            name=name,
            documents=stats[name]["primaries"]["docs"]["count"],
            bytes=stats[name]["primaries"]["store"]["size_in_bytes"],
            health=health[name]["status"],
            primary_shards=health[name]["number_of_shards"],
            replicas=health[name]["number_of_replicas"],
            active_shards=health[name]["active_shards"],
            unassigned_shards=health[name]["unassigned_shards"],
        )
        for name in names
    ]


def index_state() -> IndexState:
    try:
        indices, error = _indices(), None
    except (ApiError, TransportError) as exc:
        indices, error = [], f"Elasticsearch did not answer: {type(exc).__name__}"
    oldest = (
        PendingIndexUpdate.objects.order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return IndexState(
        alias=ALIAS,
        indices=indices,
        error=error,
        last_rebuild=IndexRebuild.objects.order_by("-started_at").first(),
        outbox_waiting=PendingIndexUpdate.objects.count(),
        oldest_waiting=oldest,
    )
