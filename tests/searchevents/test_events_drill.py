"""The events drill (`bench/events_drill.py --smoke`): web SIGKILLed and Elasticsearch unreachable
while events and attributed orders flow; afterwards every accepted event and every attributed
conversion is in the data stream once."""

import pytest

from tests.searchevents.smoke_runs import smoke_run

pytestmark = pytest.mark.slow


def test_events_and_conversions_survive_a_killed_web_process_and_an_elasticsearch_outage():
    run = smoke_run("events_drill.py")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    [line] = [line for line in run.stdout.splitlines() if line.startswith("DRILL events:")]
    assert "missing_events=0" in line
    assert "missing_conversions=0" in line
    assert "duplicates=0" in line
    assert "events_acknowledged=0," not in line
