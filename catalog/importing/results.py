"""What an import reports: its counts, and the invalid lines by number (kept and written out)."""

from dataclasses import dataclass, field
from typing import BinaryIO

import orjson

PROBLEM_LIMIT = 50


@dataclass(frozen=True)
class ImportProblem:
    line: int
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"line {self.line}: {'; '.join(self.reasons)}"


@dataclass
class ImportResult:
    source: str
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    kept: int = 0  # products --delete-missing found stale but kept, because orders refer to them
    rejected: int = 0
    categories_created: int = 0
    seconds: float = 0.0
    problems: list[ImportProblem] = field(default_factory=list)  # the first PROBLEM_LIMIT
    deletions_skipped: str = ""  # why --delete-missing deleted nothing, when it had to hold back


class ProblemLog:
    """Every problem counted; the first `limit` by line number kept; each written to `rejects`."""

    def __init__(self, limit: int, rejects: BinaryIO | None) -> None:
        self.limit = limit
        self.rejects = rejects
        self.count = 0
        self.kept: list[ImportProblem] = []
        self._pending: list[tuple[ImportProblem, str]] = []

    def add(self, problem: ImportProblem, text: str) -> None:
        self.count += 1
        self._pending.append((problem, text))

    def settle(self) -> None:
        """Called after each batch: no later problem can have a smaller line number."""
        self._pending.sort(key=lambda item: item[0].line)
        for problem, text in self._pending:
            if len(self.kept) < self.limit:
                self.kept.append(problem)
            if self.rejects is not None:
                self.rejects.write(
                    orjson.dumps({"line": problem.line, "reasons": problem.reasons, "text": text})
                    + b"\n"
                )
        self._pending.clear()
