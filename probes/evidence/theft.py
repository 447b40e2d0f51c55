"""Signs that an account is no longer its unit's, each with its points."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from probes.evidence.lines import Line, line, number, quote
from probes.evidence.shape import Item, Part

SIGNS_SHOWN = 3  # signs listed however little room a message has: they are the finding


@dataclass(frozen=True, kw_only=True)
class Sign(Item):
    """One sign: its code, its words, its points (what it saw rides in ``extra``)."""

    code: str | None = None
    title: str | None = None
    score: float | None = None


@dataclass(frozen=True, kw_only=True)
class Theft(Part):
    """The signs' total against the threshold, then each sign."""

    score: float | None = None
    threshold: float | None = None
    signs: list[Sign | Any] | None = None

    @classmethod
    def claims(cls, d: dict[str, Any]) -> bool:
        return isinstance(d.get("signs"), list)

    @classmethod
    def read(cls, d: dict[str, Any], **local: Any) -> Theft:
        theft = super().read(d, **local)
        return replace(theft, signs=Sign.each(d["signs"]))

    def lines(self) -> list[Line]:
        out = []
        score, threshold = self.score, self.threshold
        if number(score) and number(threshold):
            out.append(
                line(f"盗用迹象合计 {score:.1f} 分（达到 {threshold:.1f} 分即判为疑似盗用）：")
            )
        for i, s in enumerate(self.signs or [], 1):
            if isinstance(s, Sign):
                points = f"（+{s.score:.1f} 分）" if number(s.score) else ""
                out.append(
                    line(quote(s.title or ""), points, nested=True, rank=i, floor=SIGNS_SHOWN)
                )
        return out
