"""What a report holds: the figures, the groupings and the problem lines (report.md).

Plain dataclasses with their JSON form, apart from how they are computed (``snapshots``,
``problems``, ``build``) and written out (``write``), so a writer needs none of the queries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from monitor import timefmt
from monitor.report.period import Period


class ReportError(ValueError):
    """A report that cannot be built as asked (unknown unit, ...); message in Chinese."""


@dataclass
class Totals:
    accounts: int = 0
    checked: int = 0
    unqualified: int = 0
    deducted: int = 0  # accounts with at least one deduction

    @property
    def qualified(self) -> int:
        return self.checked - self.unqualified

    @property
    def check_ratio(self) -> float | None:
        return self.checked / self.accounts if self.accounts else None

    @property
    def pass_rate(self) -> float | None:
        return self.qualified / self.checked if self.checked else None

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "qualified": self.qualified,
            "check_ratio": self.check_ratio,
            "pass_rate": self.pass_rate,
        }


@dataclass
class GroupRow:
    key: str  # platform code or unit code
    label: str
    totals: Totals
    previous: Totals | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            **self.totals.to_dict(),
            "previous": self.previous.to_dict() if self.previous else None,
        }


@dataclass
class ProblemRow:
    """One line of the 单项否决 or 扣分 list."""

    account_id: str
    platform: str
    platform_label: str
    account_name: str
    owner_code: str
    owner_name: str
    kind: str
    category: str  # 问题类别: the kind's category in the inspection's terms, 更新不及时
    problem: str  # 问题: the kind's label, or what the check found (检查时已 20 天未更新…)
    severity: str
    checked_at: datetime | None  # the check that shows it
    latest_post_at: datetime | None  # 检查时更新日期
    snapshot_id: int | None  # 证据
    evidence_sha256: str
    rectify_by: date  # 整改期限
    finding_id: int | None = None

    @property
    def evidence(self) -> str:
        if self.snapshot_id is None:
            return ""
        short = f" · sha256 {self.evidence_sha256[:12]}" if self.evidence_sha256 else ""
        return f"快照 #{self.snapshot_id}{short}"

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        d = asdict(self)
        for k in ("checked_at", "latest_post_at"):
            d[k] = timefmt.iso(d[k], tz)
        d["rectify_by"] = self.rectify_by.isoformat()  # a local day, as the report says it
        d["evidence"] = self.evidence
        return d


@dataclass
class Report:
    period: Period
    unit_code: str | None
    unit_name: str | None
    totals: Totals
    previous: Totals
    by_platform: list[GroupRow]
    by_unit: list[GroupRow]
    vetoes: list[ProblemRow]
    deductions: list[ProblemRow]
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        scope = self.unit_name or "全部单位"
        return f"{scope}政务新媒体{self.period.label}检查情况通报"

    def to_dict(self, tz: str | None = None) -> dict[str, Any]:
        """The figures as JSON; times in ``tz``, by default the zone the period is cut in."""
        tz = tz or self.period.tz
        return {
            "period": str(self.period),
            "period_label": self.period.label,
            "start": timefmt.iso(self.period.start, tz),
            "end": timefmt.iso(self.period.end, tz),
            "previous_period": str(self.period.previous()),
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "title": self.title,
            "totals": self.totals.to_dict(),
            "previous": self.previous.to_dict(),
            "by_platform": [r.to_dict() for r in self.by_platform],
            "by_unit": [r.to_dict() for r in self.by_unit],
            "vetoes": [r.to_dict(tz) for r in self.vetoes],
            "deductions": [r.to_dict(tz) for r in self.deductions],
            "notes": self.notes,
        }
