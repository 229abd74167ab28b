"""bench/console.py's smoke mode runs end to end (seconds: 2,000 events, 3 samples a window)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_console_bench_smoke_mode_prints_every_window():
    env = {**os.environ}
    for name in ["DJANGO_SETTINGS_MODULE", "ELASTICSEARCH_INDEX_PREFIX"]:
        env.pop(name, None)  # the bench sets its own
    result = subprocess.run(
        [sys.executable, "bench/console.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "loaded 2,000 events" in result.stdout
    for window in ["24h", "7d", "30d"]:
        assert f"\n  {window} " in result.stdout
    assert "target page p50 < 500 ms on every window" in result.stdout
    # The engagement part of the page has data: clicks, and queries with clicks.
    [line] = [x for x in result.stdout.splitlines() if "engagement on the 30d page" in x]
    clicks = int(line.split(": ")[1].split(" clicks")[0].replace(",", ""))
    assert clicks > 0, line
    assert " 0 of its top queries" not in line
    print(result.stdout)  # the smoke's figures, for `pytest -s`
