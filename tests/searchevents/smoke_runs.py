"""Running one of the events benchmarks in its smoke mode, as the suite does."""

import subprocess
import sys

from tests.test_drills import REPO


def smoke_run(script: str) -> subprocess.CompletedProcess[str]:
    """`bench/<script> --smoke` from the repository, its output captured (five minutes at most)."""
    return subprocess.run(  # noqa: S603 - our own interpreter, our own scripts
        [sys.executable, f"bench/{script}", "--smoke"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
