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
    accounts: int = 0  # under patrol in the period: at least one look
    checked: int = 0  # judged: at least one look that could give a verdict (build.py)
    unqualified: int = 0
    deducted: int = 0  # accounts with at least one deduction

    @property
    def qualified(self) -> int:
        return self.checked - self.unqualified

    @property
    def unjudged(self) -> int:
        """无法判定: under patrol, but no look of the period could be judged (the platform did
        not show the list, the posts could not be dated, every fetch failed). Neither 合格
        nor 不合格: outside the pass rate, listed apart with the reason."""
        return self.accounts - self.checked

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
            "unjudged": self.unjudged,
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


IMMEDIATE = "立即整改"  # 整改期限 of a single veto or an overdue update, as bulletins write it


def evidence_words(snapshot_id: int | None, sha256: str) -> str:
    """证据 as a list writes it: the snapshot, and the start of its evidence's hash if known."""
    if snapshot_id is None:
        return ""
    short = f" · sha256 {sha256[:12]}" if sha256 else ""
    return f"快照 #{snapshot_id}{short}"


@dataclass
class AccountLine:
    """The account a line of the report's lists is about, as every list opens it
    (``Acct.named`` fills it)."""

    account_id: str
    platform: str
    platform_label: str
    account_name: str
    owner_code: str
    owner_name: str


@dataclass
class ProblemRow(AccountLine):
    """One line of the 单项否决 or 扣分 list."""

    kind: str
    category: str  # 问题类别: the kind's category in the inspection's terms, 更新不及时
    problem: str  # 具体问题: the kind's label, or what the check found (检查时已 20 天未更新…)
    severity: str
    checked_at: datetime | None  # the check that shows it
    latest_post_at: datetime | None  # 检查时更新日期
    snapshot_id: int | None  # 证据
    evidence_sha256: str
    # 整改期限: the moment the unit had to act by — for an update breach the moment it became
    # overdue (so: 立即整改), for anything else the finding's opening plus the kind's window
    deadline: datetime | None
    immediate: bool  # 立即整改: a single veto, or an update already overdue
    status: str  # 整改情况 at the report's cut-off: 已整改 / 未整改 / 逾期未整改 / 整改中
    rule: str = ""  # 依据规则, in words (probes.checks.rules.rule_text)
    group_key: str = ""  # 所属地区/部门: the by_unit group the account falls in
    group_name: str = ""
    finding_id: int | None = None

    @property
    def evidence(self) -> str:
        return evidence_words(self.snapshot_id, self.evidence_sha256)

    def rectify_by(self, tz: str = timefmt.DEFAULT_TZ) -> date | None:
        """The local day the unit had to put it right by; None when it is 立即整改."""
        if self.immediate or self.deadline is None:
            return None
        return timefmt.local_date(self.deadline, tz)

    def rectify_text(self, tz: str = timefmt.DEFAULT_TZ) -> str:
        """整改期限 as a supervisor writes it: 立即整改, or 2026年12月7日前."""
        day = self.rectify_by(tz)
        if day is None:
            return IMMEDIATE if self.immediate else "—"
        return f"{cn_date(day)}前"

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        d = asdict(self)
        for k in ("checked_at", "latest_post_at", "deadline"):
            d[k] = timefmt.iso(d[k], tz)
        day = self.rectify_by(tz)
        d["rectify_by"] = day.isoformat() if day else None  # a local day, as the report says
        d["rectify"] = self.rectify_text(tz)
        d["evidence"] = self.evidence
        return d


@dataclass
class UnjudgedRow(AccountLine):
    """One line of the 无法判定 list: an account under patrol whose looks of the period could
    not be judged, and why, in words (the last look's)."""

    reason: str  # 抖音未向未登录访客展示作品列表, 无法判断更新时间（…）, 抓取失败：…
    looks: int  # the period's looks at it, none of which could be judged
    last_at: datetime | None  # the last of them
    snapshot_id: int | None  # 证据: that look
    evidence_sha256: str = ""
    group_key: str = ""  # 所属地区/部门, as ProblemRow
    group_name: str = ""

    @property
    def evidence(self) -> str:
        return evidence_words(self.snapshot_id, self.evidence_sha256)

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        d = asdict(self)
        d["last_at"] = timefmt.iso(self.last_at, tz)
        d["evidence"] = self.evidence
        return d


def cn_date(d: date) -> str:
    """A day as 公文 write it: 2026年12月7日 (GB/T 9704: Arabic numerals, no leading zero)."""
    return f"{d.year}年{d.month}月{d.day}日"


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
    unjudged: list[UnjudgedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the moment the figures are told at: the period's end, or the report's time while it runs
    cutoff: datetime | None = None
    area: str = "全市"  # the title's scope: 全市, or the chosen unit's place (青溪县)

    @property
    def subject(self) -> str:
        """2026年第四季度全市政务新媒体检查情况."""
        return f"{self.period.label}{self.area}政务新媒体检查情况"

    @property
    def title(self) -> str:
        """As a 通报 is titled: 关于2026年第四季度全市政务新媒体检查情况的通报."""
        return f"关于{self.subject}的通报"

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
            "cutoff": timefmt.iso(self.cutoff, tz),
            "totals": self.totals.to_dict(),
            "previous": self.previous.to_dict(),
            "by_platform": [r.to_dict() for r in self.by_platform],
            "by_unit": [r.to_dict() for r in self.by_unit],
            "vetoes": [r.to_dict(tz) for r in self.vetoes],
            "deductions": [r.to_dict(tz) for r in self.deductions],
            "unjudged": [r.to_dict(tz) for r in self.unjudged],
            "notes": self.notes,
        }
