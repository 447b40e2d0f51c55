"""A finding's evidence handed from ``probes`` to ``alerts``: the evidence types' neutral
lines (``probes.evidence``) as the plain values a notice carries (``alerts.evidence``).

The two packages import neither the other, so the lines cross here, field by field.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any

from alerts import evidence as drawn
from alerts.formats import Format
from alerts.notice import FindingNotice
from probes.evidence import Evidence
from probes.evidence.lines import Line, Piece


def lines_of(stored: dict[str, Any] | object) -> list[drawn.EvidenceLine]:
    """A stored evidence dict as the lines a message draws."""
    return [_line(ln) for ln in Evidence.read(stored).lines()]


def describe(stored: object, f: Format, tz: tzinfo, now: datetime, room: drawn.Room, *,
             said: str = "") -> list[str]:  # fmt: skip
    """A stored evidence dict in words, as a message says it (a page, a recheck's reason).
    ``now`` is kept for the callers' sake: evidence says its own times."""
    return drawn.describe(lines_of(stored), f, tz, room, said=said)


def told(notice: FindingNotice) -> FindingNotice:
    """A notice with its evidence lines: one queued before notices carried them gets them
    from its evidence dict."""
    if notice.evidence_lines or not notice.evidence:
        return notice
    return replace(notice, evidence_lines=lines_of(notice.evidence))


def _line(ln: Line) -> drawn.EvidenceLine:
    return drawn.EvidenceLine(tuple(map(_run, ln.pieces)), ln.nested, ln.rank, ln.floor, ln.unless)


def _run(p: Piece) -> drawn.Run:
    return drawn.Run(
        p.kind, p.text, p.limit, p.roomy, p.urls, tuple(map(_run, p.otherwise)), p.rank
    )
