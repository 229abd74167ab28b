"""The drift report: how the index compares with Postgres, in counts and in documents."""

import json
import random
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from elasticsearch.helpers import scan
from elasticsearch.serializer import JsonSerializer

from catalog.models import Product
from searchindex.client import ALIAS, alias_indices, es_client
from searchindex.compat import batched
from searchindex.documents import ProductDocument, products_for_indexing
from searchindex.models import PendingIndexUpdate


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
            for d in es.mget(index=ALIAS, ids=[str(pk) for pk in found])["docs"]
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


def _normalised(source: dict[str, Any], serializer: JsonSerializer) -> dict[str, Any]:
    """The prepared document as the client sends it (dates, decimals), to compare like with like."""
    return json.loads(serializer.dumps(source))
