"""Relevance metrics on graded judgments: NDCG@k, MRR of the first Exact, zero results, losses."""

import json
import math
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

K = 10
EXACT = 3
# ESCI labels as the Search Relevance Workbench stores them (strings) -> graded gain.
GAINS = {100: EXACT, 10: 2, 1: 1, 0: 0}
# Names the queries a product was judged for: indexing it would leak the answers.
LEAKING_FIELDS = ("query_id",)

Judgments = Mapping[str, Mapping[str, int]]  # query -> product id -> gain
Rankings = Mapping[str, Sequence[str]]  # query -> product ids, best first


def load_judgments(path: Path) -> dict[str, dict[str, int]]:
    """`{query: {doc_id: gain}}` from a Search Relevance Workbench judgments file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    judgments: dict[str, dict[str, int]] = {}
    for entry in data["judgmentRatings"]:
        ratings = judgments.setdefault(entry["query"], {})
        for rating in entry["ratings"]:
            ratings[rating["docId"]] = GAINS[round(float(rating["rating"]))]
    return judgments


def load_queries(path: Path) -> list[str]:
    """The query texts of a Search Relevance Workbench query set, in file order."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [entry["queryText"] for entry in data["querySetQueries"]]


def load_products(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """`(id, document)` pairs from an Elasticsearch bulk body, plain or the only file of a zip.

    Fields that name the judged queries are dropped.
    """
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive, archive.open(archive.namelist()[0]) as raw:
            yield from _bulk_documents(line.decode("utf-8") for line in raw)
    else:
        with path.open(encoding="utf-8") as lines:
            yield from _bulk_documents(lines)


def _bulk_documents(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    doc_id: str | None = None
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        if doc_id is None:
            (action,) = row.values()
            doc_id = action["_id"]
            continue
        for name in LEAKING_FIELDS:
            row.pop(name, None)
        yield doc_id, row
        doc_id = None


def dcg(grades: Sequence[int], k: int = K, *, linear: bool = False) -> float:
    """Discounted cumulative gain of the top k: the grade g at rank r (from 1) gains
    (2^g - 1) / log2(r + 1), or g / log2(r + 1) with `linear`.

    The exponential gain is the usual one (Burges et al., 2005) and the one that reproduces the
    issue's plain-BM25 figures on the ESCI set (0.63 standard analyzer, 0.65 light stemming).
    """
    top = grades[:k]
    gains = top if linear else [2**grade - 1 for grade in top]
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def ndcg_at_k(
    ranked: Sequence[str], judged: Mapping[str, int], k: int = K, *, linear: bool = False
) -> float:
    """DCG of the top k over the DCG of the best k of all the query's judgments.

    An unjudged hit gains 0. A query without a positive judgment scores 0.
    """
    ideal = dcg(sorted(judged.values(), reverse=True), k, linear=linear)
    if ideal == 0:
        return 0.0
    return dcg([judged.get(doc_id, 0) for doc_id in ranked], k, linear=linear) / ideal


def reciprocal_rank(ranked: Sequence[str], judged: Mapping[str, int], k: int = K) -> float:
    """1 / the rank of the first Exact hit in the top k; 0 without one."""
    for rank, doc_id in enumerate(ranked[:k], start=1):
        if judged.get(doc_id) == EXACT:
            return 1 / rank
    return 0.0


def mrr(rankings: Rankings, judgments: Judgments, k: int = K) -> float:
    """Mean over every judged query of 1 / the rank of its first Exact hit in the top k."""
    if not judgments:
        return 0.0
    ranks = [
        reciprocal_rank(rankings.get(query, ()), judged, k) for query, judged in judgments.items()
    ]
    return sum(ranks) / len(judgments)


def zero_rate(rankings: Rankings) -> float:
    """The share of queries that found nothing."""
    return sum(not ranked for ranked in rankings.values()) / len(rankings) if rankings else 0.0


def unjudged_share(rankings: Rankings, judgments: Judgments, k: int = K) -> float:
    """The share of top-k hits (over all queries) that nobody judged for their query."""
    hits = [(query, doc_id) for query, ranked in rankings.items() for doc_id in ranked[:k]]
    if not hits:
        return 0.0
    return sum(doc_id not in judgments.get(query, {}) for query, doc_id in hits) / len(hits)


@dataclass(frozen=True)
class Summary:
    queries: int
    ndcg: float
    ndcg_linear: float
    mrr: float
    zero_rate: float
    unjudged_share: float


def per_query_ndcg(
    rankings: Rankings, judgments: Judgments, k: int = K, *, linear: bool = False
) -> dict[str, float]:
    """NDCG@k of every query in `judgments`; a query missing from `rankings` found nothing."""
    return {
        query: ndcg_at_k(rankings.get(query, ()), judged, k, linear=linear)
        for query, judged in judgments.items()
    }


def summarize(rankings: Rankings, judgments: Judgments, k: int = K) -> Summary:
    """Means over every judged query; a query missing from `rankings` found nothing."""
    complete = {query: list(rankings.get(query, ())) for query in judgments}
    count = len(complete)
    if count == 0:
        return Summary(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    ndcgs = per_query_ndcg(complete, judgments, k)
    linear = per_query_ndcg(complete, judgments, k, linear=True)
    return Summary(
        queries=count,
        ndcg=sum(ndcgs.values()) / count,
        ndcg_linear=sum(linear.values()) / count,
        mrr=mrr(complete, judgments, k),
        zero_rate=zero_rate(complete),
        unjudged_share=unjudged_share(complete, judgments, k),
    )


@dataclass(frozen=True)
class Loss:
    query: str
    ndcg: float
    baseline_ndcg: float
    top: list[str]
    baseline_top: list[str]

    @property
    def delta(self) -> float:
        return self.ndcg - self.baseline_ndcg


def losses(
    rankings: Rankings,
    baseline: Rankings,
    judgments: Judgments,
    *,
    limit: int = 10,
    top: int = 3,
    k: int = K,
) -> list[Loss]:
    """The `limit` queries where `rankings` trails `baseline` most on NDCG@k (only real losses),
    worst first, ties by query text, each with both top-`top` ids."""
    ours = per_query_ndcg(rankings, judgments, k)
    theirs = per_query_ndcg(baseline, judgments, k)
    rows = [
        Loss(
            query=query,
            ndcg=ours[query],
            baseline_ndcg=theirs[query],
            top=list(rankings.get(query, ()))[:top],
            baseline_top=list(baseline.get(query, ()))[:top],
        )
        for query in judgments
        if ours[query] < theirs[query]
    ]
    rows.sort(key=lambda row: (row.delta, row.query))
    return rows[:limit]


def loss_lines(rows: Sequence[Loss], titles: Mapping[str, str], width: int = 60) -> list[str]:
    """The loss table as text: each query with both NDCGs, then both top lists side by side."""
    lines = []
    for row in rows:
        lines.append(f"{row.query!r}: {row.ndcg:.3f} vs baseline {row.baseline_ndcg:.3f}")
        for rank in range(max(len(row.top), len(row.baseline_top))):
            ours, theirs = (
                titles.get(ids[rank], ids[rank])[:width] if rank < len(ids) else "-"
                for ids in (row.top, row.baseline_top)
            )
            lines.append(f"  {rank + 1}. {ours:<{width}} | {theirs}")
    return lines


def split_half(queries: Sequence[str]) -> tuple[list[str], list[str]]:
    """Every other query, and the rest: tune on one half, confirm on the other."""
    return list(queries[0::2]), list(queries[1::2])


COMPLEMENT = 1
IRRELEVANT = 0


def top_share(
    rankings: Rankings, judgments: Judgments, gains: frozenset[int], *, top: int = 3
) -> float:
    """Among the queries with at least one Exact judgment, the share of their top-`top` hits
    judged with one of `gains` (`{COMPLEMENT, IRRELEVANT}`: accessories and misses shown first).

    Unjudged hits are in the denominator and never in the numerator."""
    hits = [
        judged.get(doc_id)
        for query, judged in judgments.items()
        if EXACT in judged.values()
        for doc_id in list(rankings.get(query, ()))[:top]
    ]
    if not hits:
        return 0.0
    return sum(gain in gains for gain in hits) / len(hits)
