"""`bench/events.py --smoke`: the events benchmark runs end to end in seconds and checks itself
(accepted = pending = shipped = stored, orders attributed, no errors)."""

import re

import pytest

from tests.searchevents.smoke_runs import smoke_run

pytestmark = pytest.mark.slow


def test_the_events_benchmark_smoke_run_passes_its_own_checks():
    run = smoke_run("events.py")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "events/s (target 1,000)" in run.stdout
    assert re.search(r"at the target rate, [\d,]+ events/s offered: .* p99 [\d.]+ ms", run.stdout)
    assert "with/without" in run.stdout
