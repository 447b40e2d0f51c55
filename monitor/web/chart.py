"""Bar charts as plain SVG geometry: the console draws them without JavaScript.

The numbers are laid out here (bars, gridlines at round values, axis labels, legend) and
``templates/_chart.html`` only draws what it is given, so a page needs no script and the
CSP keeps ``script-src 'none'``. Written by hand rather than with a plotting library: the
ones that draw SVG (matplotlib, pygal) either embed inline styles the CSP refuses or pull in
scripts, and these charts are a few dozen rectangles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypedDict, Unpack


@dataclass(frozen=True)
class Series:
    """One stacked layer: a name for the legend, a CSS class for its colour, a value a day."""

    name: str
    css: str
    values: list[int]


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    tip: str  # the bar's <title>: what a pointer over it reads


@dataclass
class Chart:
    """One rendering; a page draws a wide one and, on a phone, a narrow one (``Pair``), so
    its text stays legible without scaling the desktop drawing down."""

    title: str
    width: int
    height: int
    left: float  # the plot area inside the axes
    top: float
    right: float
    bottom: float
    bars: list[Bar]
    y_ticks: list[tuple[float, str]]  # y, label (gridlines at round values)
    x_ticks: list[tuple[float, str, str]]  # x, label, text-anchor (the ends stay inside)
    legend: list[tuple[float, str, str]]  # x, css, name
    total: int
    peak: int  # the highest day (all layers together)
    unit: str = "条"
    caption: str = ""

    @property
    def empty(self) -> bool:
        return self.total == 0


def nice_step(peak: int, lines: int = 4) -> int:
    """A round gridline step (1, 2, 5 × 10^k) giving about ``lines`` lines up to ``peak``."""
    if peak <= lines:
        return 1
    raw = peak / lines
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return int(m * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def _label(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _x_ticks(days: list[date], step: float, min_gap: float) -> list[int]:
    """Indexes of the days to label: month starts over long spans, weeks back from the last
    day over short ones; never two labels closer than ``min_gap``."""
    if not days:
        return []
    if len(days) > 45:
        wanted = [0] + [i for i, d in enumerate(days) if d.day == 1 and i > 0]
    else:
        wanted = sorted({len(days) - 1 - 7 * k for k in range(len(days) // 7 + 1)} | {0})
        wanted = [i for i in wanted if i >= 0]
    out: list[int] = []
    for i in wanted:
        if out and (i - out[-1]) * step < min_gap:
            if i == len(days) - 1 and len(out) > 1:
                out[-1] = i  # the last day matters more than the one before it
            continue
        out.append(i)
    return out


def bar_chart(
    days: list[date],
    series: list[Series],
    title: str,
    *,
    unit: str = "条",
    caption: str = "",
    width: int = 480,
    height: int = 220,
) -> Chart:
    """Daily bars, the series stacked bottom-up in the order given; the y axis is in round
    steps from 0, the x axis labels dates (``11月24日``)."""
    left, right = 34.0, width - 10.0
    top, bottom = 48.0 if len(series) > 1 else 32.0, height - 24.0
    sums = [sum(s.values[i] for s in series) for i in range(len(days))]
    peak = max(sums, default=0)
    step = nice_step(peak)
    ceiling = max(step * math.ceil(peak / step), step) if peak else 4
    scale = (bottom - top) / ceiling
    slot = (right - left) / max(len(days), 1)
    gap = 1.0 if slot > 3 else 0.0
    bars: list[Bar] = []
    for i, day in enumerate(days):
        base = bottom
        for s in series:
            n = s.values[i]
            if not n:
                continue
            h = n * scale
            tip = (
                f"{_label(day)} {s.name}：{n} {unit}"
                if len(series) > 1
                else (f"{_label(day)}：{n} {unit}")
            )
            bars.append(Bar(left + i * slot + gap / 2, base - h, slot - gap, h, s.css, tip))
            base -= h
    grid = step if peak else 1
    y_ticks = [(bottom - v * scale, str(v)) for v in range(0, int(ceiling) + 1, grid)]
    x_ticks = []
    for i in _x_ticks(days, slot, 56):
        x, anchor = left + (i + 0.5) * slot, "middle"
        if x + 28 > width:  # a label is about 56 wide: keep the last one inside the drawing
            x, anchor = min(x + slot / 2, right), "end"
        x_ticks.append((x, _label(days[i]), anchor))
    legend: list[tuple[float, str, str]] = []
    if len(series) > 1:
        x = left
        for s in series:
            legend.append((x, s.css, s.name))
            x += 24 + 11 * len(s.name)
    return Chart(
        title=title, width=width, height=height, left=left, top=top, right=right,
        bottom=bottom, bars=bars, y_ticks=y_ticks, x_ticks=x_ticks, legend=legend,
        total=sum(sums), peak=peak, unit=unit, caption=caption,
    )  # fmt: skip


class Frame(TypedDict, total=False):
    """``bar_chart``'s keywords, which ``daily_chart`` passes on as they are."""

    unit: str
    caption: str
    width: int
    height: int


def daily_chart(series: list[tuple[date, int]], title: str, **frame: Unpack[Frame]) -> Chart:
    """One layer of daily counts (an account's posts a day)."""
    layer = Series(title, "bar", [n for _, n in series])
    return bar_chart([d for d, _ in series], [layer], title, **frame)


@dataclass
class Pair:
    """The same chart drawn for a desktop and for a phone (``_chart.html`` shows one)."""

    wide: Chart
    narrow: Chart

    @property
    def total(self) -> int:
        return self.wide.total

    @property
    def peak(self) -> int:
        return self.wide.peak


NARROW = 340  # the viewBox width drawn for phones: about the 390 px screen's content width


def pair(draw: Callable[[int, int], Chart], width: int = 480, height: int = 220) -> Pair:
    """``draw(width, height)`` for a desktop and for a phone."""
    return Pair(draw(width, height), draw(NARROW, min(height, 200)))
