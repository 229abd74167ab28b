"""bench-search's rules mode at its smoke size: the script runs and prints its figures."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_rules_benchmark_smoke_prints_both_paths_and_the_cost():
    env = {
        **os.environ,
        "BENCH_SEARCH_REDIS_URL": os.environ.get("TEST_REDIS_URL", ""),
        # Each phase switch waits for every web process to reload the rules: less, sooner.
        "RULES_CHECK_SECONDS": "0.2",
    }
    env = {name: value for name, value in env.items() if value}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the script sets its own settings
    result = subprocess.run(
        [sys.executable, "bench/search.py", "--rules", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "1,000 defined, 100 matching the mix's queries" in out
    assert re.search(r"search API, rules disabled\s+[\d.]+", out)
    assert re.search(r"search API, 1,000 rules\s+[\d.]+", out)
    assert re.search(r"rules' cost: p50 [+-][\d.]+ ms", out)
    assert "bench index deleted" in out
