"""A posting-frequency bar chart as plain SVG geometry (no JavaScript, nothing external)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    count: int


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    peak: int
    total: int
    first: date | None
    last: date | None
    ticks: list[tuple[float, str]]  # x, label (month starts)


def bar_chart(series: list[tuple[date, int]], width: int = 720, height: int = 120) -> Chart:
    peak = max((n for _, n in series), default=0)
    n = max(len(series), 1)
    step = width / n
    bars: list[Bar] = []
    ticks: list[tuple[float, str]] = []
    plot = height - 16  # room for the month labels
    for i, (day, count) in enumerate(series):
        h = (count / peak) * (plot - 2) if peak else 0
        bars.append(Bar(i * step + 1, plot - h, max(step - 2, 1), h, day, count))
        if day.day == 1 or i == 0:
            ticks.append((i * step, f"{day.month}月{day.day}日"))
    return Chart(
        width=width,
        height=height,
        bars=bars,
        peak=peak,
        total=sum(c for _, c in series),
        first=series[0][0] if series else None,
        last=series[-1][0] if series else None,
        ticks=ticks,
    )
