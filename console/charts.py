"""Server-side SVG charts: coordinates computed here, drawn by the templates as inline SVG.

Server-side rather than a vendored library: no script to pin or serve, nothing for the CSP to
allow, and the numbers are in the page itself (tests and screen readers read them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 200
LEFT = 48  # room for the y-axis labels
BOTTOM = 24  # room for the x-axis labels
TOP = 8


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Mark:
    """One bar (x, y, width, height) or line point (x, y), with its label and value as text."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class Chart:
    title: str
    kind: str  # "bars" or "line"
    marks: list[Mark]
    ticks: list[Tick]
    x_labels: list[Mark]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    plot_bottom: int = HEIGHT - BOTTOM
    # Line charts: one polyline per run of points with a value (an empty bucket breaks the line).
    lines: tuple[str, ...] = ()


def _nice_max(value: float, *, smallest: float = 1.0) -> float:
    """The top of the axis: four ticks of a round step (1, 2 or 5 times a power of ten) that
    reach `value`, so every tick label is a round number."""
    step = smallest
    while step * 4 < value:
        for factor in (2, 2.5, 2):  # 1 -> 2 -> 5 -> 10 ...
            step *= factor
            if step * 4 >= value:
                break
    return step * 4


def _ticks(top: float, fmt: str) -> list[Tick]:
    plot = HEIGHT - BOTTOM - TOP
    return [
        Tick(y=HEIGHT - BOTTOM - plot * i / 4, label=format(top * i / 4, fmt)) for i in range(5)
    ]


def _x_labels(xs: Sequence[float], labels: Sequence[str], every: int) -> list[Mark]:
    return [
        Mark(x, HEIGHT - 6, 0, 0, label, label)
        for i, (x, label) in enumerate(zip(xs, labels, strict=True))
        if i % every == 0
    ]


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int]) -> Chart:
    top = _nice_max(max(values, default=0))
    plot_w = WIDTH - LEFT - 8
    plot_h = HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(values), 1)
    marks = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / top
        marks.append(
            Mark(
                LEFT + i * slot + slot * 0.1, HEIGHT - BOTTOM - h, slot * 0.8, h, label, str(value)
            )
        )
    xs = [m.x + m.width / 2 for m in marks]
    return Chart(
        title, "bars", marks, _ticks(top, ".0f"), _x_labels(xs, labels, max(len(labels) // 6, 1))
    )


def line_chart(title: str, labels: Sequence[str], rates: Sequence[float | None]) -> Chart:
    """Rates from 0 to 1, drawn as percentages; None (no searches) leaves a gap."""
    highest = max((r for r in rates if r is not None), default=0.0)
    top = min(1.0, _nice_max(highest * 100) / 100)
    plot_w = WIDTH - LEFT - 8
    plot_h = HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(rates), 1)
    marks: list[Mark] = []
    runs: list[list[str]] = [[]]
    for i, (label, rate) in enumerate(zip(labels, rates, strict=True)):
        x = LEFT + i * slot + slot / 2
        if rate is None:
            if runs[-1]:
                runs.append([])
            continue
        y = HEIGHT - BOTTOM - plot_h * rate / top
        marks.append(Mark(x, y, 0, 0, label, f"{rate:.1%}"))
        runs[-1].append(f"{x:.1f},{y:.1f}")
    xs = [LEFT + i * slot + slot / 2 for i in range(len(rates))]
    return Chart(
        title,
        "line",
        marks,
        [Tick(t.y, f"{float(t.label):.0%}") for t in _ticks(top, "f")],
        _x_labels(xs, labels, max(len(labels) // 6, 1)),
        lines=tuple(" ".join(run) for run in runs if run),
    )
