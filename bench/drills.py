"""Fault drills at a larger scale: runs tests/test_drills.py and prints each drill's figures.

`make drills` (or `.venv/bin/python bench/drills.py --scale 3`). The drills are the test suite's
own (`DRILL_SCALE` multiplies their traffic), so what CI checks and what this reports cannot
drift apart. Each drill prints one `DRILL <name>: ...` line of figures and ends with invariant
checks; PASSED means every invariant held. Exit status 1 if any drill failed.

Isolation: by default a dedicated database (`aisle_drills`, pytest-django makes `test_aisle_drills`)
and the test Redis databases; override with DATABASE_URL, TEST_REDIS_URL, TEST_CELERY_BROKER_URL.
Nothing shared is stopped: outages are closed ports, a SIGKILLed worker we started, and a
terminated backend of our own request.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SMOKE_DRILL = "postgres_connection_dropped"
# Each drill's figures, failed assertions, timings, outcomes and pytest's summary line.
SHOWN = re.compile(
    r"^(DRILL |E  |\d+\.\d+s call|(PASSED|FAILED|ERROR) tests/|=+ .*(passed|failed))"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=3, help="traffic multiplier (tests use 1)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get("BENCH_SMOKE", "") not in {"", "0"},
        help=f"only the quickest drill ({SMOKE_DRILL}), at scale 1 (also BENCH_SMOKE=1)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.scale = 1
    env = {
        **os.environ,
        "DRILL_SCALE": str(args.scale),
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_drills"
        ),
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/test_drills.py",
        "-p",
        "no:cacheprovider",
        "-s",
        "-rA",
        "--durations=0",
        "--durations-min=0",
        *(["-k", SMOKE_DRILL] if args.smoke else []),
    ]
    print(f"fault drills, scale {args.scale}: {' '.join(command[2:])}", flush=True)
    started = time.monotonic()
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    for line in run.stdout.splitlines():
        # JSON log lines (the expected warnings of each outage) stay out of the report.
        # pytest -q puts a test's progress dot in front of what it printed.
        line = line[line.find("DRILL ") :] if "DRILL " in line else line
        if SHOWN.match(line) and not line.startswith("{"):
            print(line)
    print(f"total {time.monotonic() - started:.1f} s; exit status {run.returncode}")
    return 1 if run.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
