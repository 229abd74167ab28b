"""`bench/relevance.py --smoke`: the benchmark end to end on the products of a few queries."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
FIGURE = r"(\d+\.\d{3})"

pytestmark = pytest.mark.slow


def test_smoke_run_prints_ndcg_top3_shares_and_compound_success_for_both_systems():
    run = subprocess.run(  # noqa: S603 - our own interpreter, our own script
        [sys.executable, str(REPO / "bench" / "relevance.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    ndcg = re.search(rf"NDCG@10 \(gains 2\^g - 1\)\s+{FIGURE}\s+{FIGURE}", out)
    assert ndcg, out
    aisle, bm25 = map(float, ndcg.groups())
    assert 0 < bm25 < aisle <= 1, out  # Aisle beats BM25 on these queries (0.80 vs 0.66)
    assert re.search(rf"zero-result rate\s+0\.000\s+{FIGURE}", out), out
    for label in (r"Complement \+ Irrelevant", "Complement", "Irrelevant"):
        assert re.search(rf"top 3\*: {label}\s+{FIGURE}\s+{FIGURE}", out), (label, out)
    for system in ("Aisle", "BM25"):
        for form in ("joined", "split"):
            row = re.search(rf"{system}, {form}\s+{FIGURE}\s+{FIGURE}", out)
            assert row, (system, form, out)
            first, ten = map(float, row.groups())
            assert 0 <= first <= ten <= 1, out
