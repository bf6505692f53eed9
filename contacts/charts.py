"""Geometry of the server-rendered SVG charts (the template draws; no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import dateformat

if TYPE_CHECKING:
    from contacts.selectors_reminders import TeamDashboard

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 16, 16, 32
# Distinguishable for the common colour-vision deficiencies (Okabe-Ito); each line also has a marker shape.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


@dataclass(frozen=True)
class Series:
    label: str
    color: str
    points: str  # "x,y x,y ..." for <polyline>
    dots: list[tuple[float, float, int]]  # (x, y, value) for markers and their <title>
    values: list[int]


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    series: list[Series]
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, int]]
    baseline: float
    left: int
    right_edge: int
    summary: str


def _ticks(top: int) -> list[int]:
    step = max(1, -(-top // 4))
    return list(range(0, step * 4 + 1, step))


def overdue_chart(dashboard: TeamDashboard) -> LineChart:
    """Overdue reminders per person at each of the last weeks: one line per person."""
    weeks = dashboard.weeks
    people = [row for row in dashboard.people if any(row.history)]
    ticks = _ticks(max([max(row.history) for row in people] + [1]))
    top = ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return round(LEFT + plot_w * i / max(1, len(weeks) - 1), 1)

    def y(value: int) -> float:
        return round(TOP + plot_h * (1 - value / top), 1)

    series = []
    for n, row in enumerate(people):
        dots = [(x(i), y(value), value) for i, value in enumerate(row.history)]
        series.append(
            Series(
                label=str(row.user),
                color=PALETTE[n % len(PALETTE)],
                points=" ".join(f"{px},{py}" for px, py, _ in dots),
                dots=dots,
                values=row.history,
            )
        )
    summary = "; ".join(f"{s.label}: {', '.join(str(v) for v in s.values)}" for s in series) or "No overdue reminders."
    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        series=series,
        x_labels=[(x(i), dateformat.format(week, "j M")) for i, week in enumerate(weeks)],
        y_ticks=[(y(value), value) for value in ticks],
        baseline=y(0),
        left=LEFT,
        right_edge=WIDTH - RIGHT,
        summary=summary,
    )
