"""bench/relevance_metrics.py: NDCG, MRR, zero results, unjudged hits and losses on tiny data."""

import json
import math
import zipfile
from pathlib import Path

import pytest

from bench.relevance_metrics import (
    COMPLEMENT,
    IRRELEVANT,
    dcg,
    load_judgments,
    load_products,
    load_queries,
    loss_lines,
    losses,
    mrr,
    ndcg_at_k,
    per_query_ndcg,
    reciprocal_rank,
    split_half,
    summarize,
    top_share,
    unjudged_share,
    zero_rate,
)

# query -> doc -> grade (3 Exact, 2 Substitute, 1 Complement, 0 Irrelevant)
JUDGED = {
    "red shoes": {"e1": 3, "e2": 3, "s1": 2, "c1": 1, "i1": 0},
    "blue hat": {"h1": 3, "h2": 0},
}


def test_dcg_uses_exponential_gains_and_a_log2_discount():
    assert dcg([3, 2, 0, 1]) == pytest.approx(7 + 3 / math.log2(3) + 0 + 1 / math.log2(5))


def test_dcg_with_linear_gains_counts_the_grade_itself():
    assert dcg([3, 2, 0, 1], linear=True) == pytest.approx(3 + 2 / math.log2(3) + 1 / math.log2(5))


def test_dcg_stops_at_k():
    assert dcg([1] * 20, k=2) == pytest.approx(1 + 1 / math.log2(3))


def test_ideal_order_scores_one_and_reversed_scores_less():
    judged = JUDGED["red shoes"]
    assert ndcg_at_k(["e1", "e2", "s1", "c1", "i1"], judged) == pytest.approx(1.0)
    assert ndcg_at_k(["i1", "c1", "s1", "e2", "e1"], judged) < 1.0


def test_unjudged_hits_gain_nothing():
    judged = JUDGED["red shoes"]
    assert ndcg_at_k(["x", "e1"], judged) == pytest.approx(
        (7 / math.log2(3)) / dcg([3, 3, 2, 1, 0])
    )
    assert ndcg_at_k(["x", "y"], judged) == 0.0


def test_the_ideal_counts_every_judgment_not_only_the_retrieved_ones():
    # One Exact found at rank 1 is not perfect when a second Exact exists somewhere.
    assert ndcg_at_k(["e1"], JUDGED["red shoes"]) == pytest.approx(7 / dcg([3, 3, 2, 1, 0]))


def test_a_query_without_positive_judgments_scores_zero():
    assert ndcg_at_k(["a"], {"a": 0}) == 0.0


def test_reciprocal_rank_is_that_of_the_first_exact_within_k():
    judged = JUDGED["red shoes"]
    assert reciprocal_rank(["s1", "x", "e2", "e1"], judged) == pytest.approx(1 / 3)
    assert reciprocal_rank(["s1", "c1"], judged) == 0.0
    assert reciprocal_rank(["s1", "e1"], judged, k=1) == 0.0


def test_mrr_averages_over_every_judged_query_missing_ones_count_zero():
    assert mrr({"red shoes": ["s1", "e1"]}, JUDGED) == pytest.approx((1 / 2 + 0) / 2)


def test_zero_rate_is_the_share_of_empty_result_lists():
    assert zero_rate({"a": [], "b": ["x"], "c": [], "d": ["y"]}) == 0.5
    assert zero_rate({}) == 0.0


def test_unjudged_share_counts_top_k_hits_nobody_judged_for_that_query():
    rankings = {"red shoes": ["e1", "h1", "x"], "blue hat": ["h1"]}
    # h1 is judged, but for the other query.
    assert unjudged_share(rankings, JUDGED) == pytest.approx(2 / 4)
    assert unjudged_share(rankings, JUDGED, k=1) == 0.0


def test_summary_treats_a_missing_query_as_one_that_found_nothing():
    summary = summarize({"red shoes": ["e1", "e2", "s1", "c1", "i1"]}, JUDGED)
    assert summary.queries == 2
    assert summary.ndcg == pytest.approx(0.5)
    assert summary.mrr == pytest.approx(0.5)
    assert summary.zero_rate == 0.5
    assert summary.unjudged_share == 0.0
    assert summary.ndcg_linear == pytest.approx(0.5)


def test_losses_lists_only_queries_behind_the_baseline_worst_first_with_both_tops():
    ours = {"red shoes": ["i1", "c1", "e1", "e2"], "blue hat": ["h1"]}
    baseline = {"red shoes": ["e1", "e2", "s1", "c1"], "blue hat": ["h2", "h1"]}
    rows = losses(ours, baseline, JUDGED)
    assert [row.query for row in rows] == ["red shoes"]  # ahead on "blue hat": not a loss
    (row,) = rows
    assert row.delta < 0
    assert row.top == ["i1", "c1", "e1"]
    assert row.baseline_top == ["e1", "e2", "s1"]
    assert per_query_ndcg(ours, JUDGED)["red shoes"] == pytest.approx(row.ndcg)


def test_losses_are_capped_and_ordered_by_how_much_is_lost():
    judged = {q: {"good": 3} for q in ("a", "b", "c")}
    ours = {"a": ["x", "good"], "b": ["x", "x", "x", "good"], "c": ["good"]}
    baseline = {q: ["good"] for q in judged}
    assert [row.query for row in losses(ours, baseline, judged, limit=2)] == ["b", "a"]


def test_loss_lines_put_both_top_lists_side_by_side_by_title():
    rows = losses({"blue hat": ["h2"]}, {"blue hat": ["h1", "h2"]}, JUDGED)
    lines = loss_lines(rows, {"h1": "Blue Hat", "h2": "Red Scarf"})
    assert lines[0].startswith("'blue hat': 0.000 vs baseline 1.000")
    assert lines[1] == f"  1. {'Red Scarf':<60} | Blue Hat"
    assert lines[2] == f"  2. {'-':<60} | Red Scarf"


def test_split_half_alternates_and_keeps_every_query_once():
    tune, confirm = split_half(["a", "b", "c", "d", "e"])
    assert (tune, confirm) == (["a", "c", "e"], ["b", "d"])


def test_loaders_read_workbench_files_and_drop_the_leaking_query_ids(tmp_path: Path):
    judgments = tmp_path / "judgments.json"
    judgments.write_text(
        json.dumps(
            {
                "judgmentRatings": [
                    {
                        "query": "red shoes",
                        "ratings": [
                            {"docId": "A1", "rating": "100.000"},
                            {"docId": "A2", "rating": "10.000"},
                            {"docId": "A3", "rating": "1.000"},
                            {"docId": "A4", "rating": "0.000"},
                        ],
                    }
                ]
            }
        )
    )
    assert load_judgments(judgments) == {"red shoes": {"A1": 3, "A2": 2, "A3": 1, "A4": 0}}

    queries = tmp_path / "queries.json"
    queries.write_text(json.dumps({"querySetQueries": [{"queryText": "b"}, {"queryText": "a"}]}))
    assert load_queries(queries) == ["b", "a"]

    bulk = "\n".join(
        json.dumps(line)
        for line in (
            {"index": {"_index": "ecommerce", "_id": "A1"}},
            {"title": "Red Shoes", "query_id": ["7"]},
            {"index": {"_index": "ecommerce", "_id": "A2"}},
            {"title": "Blue Hat", "query_id": ["8"]},
        )
    )
    plain = tmp_path / "products.ndjson"
    plain.write_text(bulk + "\n")
    archive = tmp_path / "products.ndjson.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("products.ndjson", bulk)
    expected = [("A1", {"title": "Red Shoes"}), ("A2", {"title": "Blue Hat"})]
    assert list(load_products(plain)) == expected
    assert list(load_products(archive)) == expected


def test_top_share_counts_judged_top_hits_of_queries_with_an_exact_only():
    judged = {
        "red shoes": {"e1": 3, "c1": 1, "i1": 0, "s1": 2},
        "no exact": {"c2": 1, "i2": 0},
    }
    rankings = {"red shoes": ["c1", "e1", "i1", "s1"], "no exact": ["c2", "i2"]}
    # Top 3 of "red shoes" only: c1 (Complement), e1, i1 (Irrelevant).
    assert top_share(rankings, judged, frozenset({COMPLEMENT, IRRELEVANT})) == 2 / 3
    assert top_share(rankings, judged, frozenset({COMPLEMENT})) == 1 / 3
    # An unjudged hit counts in the denominator only.
    assert top_share({"red shoes": ["x", "c1"]}, judged, frozenset({COMPLEMENT})) == 1 / 2
    assert top_share({}, judged, frozenset({COMPLEMENT})) == 0.0
