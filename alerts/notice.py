"""What a message is about, and the message itself.

``FindingNotice`` is built by ``monitor`` from a finding change; ``alerts`` never reads the
database, nor the kind catalogue in ``probes``, so everything a message needs (the words for
the finding's kind included) travels in this one value.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

from alerts.evidence import EvidenceLine

# "opened_resolved": a finding that opened and closed while its channel could not take the
# news (failing, throttled, full), told once when it could (monitor.alerting.compose)
# "recheck_failed": the unit said 已整改 and the recheck still saw the problem (复查未通过)
Event = Literal[
    "opened",
    "updated",
    "resolved",
    "reminder",
    "escalated",
    "test",
    "opened_resolved",
    "recheck_failed",
]
Level = Literal["info", "success", "warning", "failure"]


@dataclass(kw_only=True)
class FindingNotice:
    """One finding change, flattened for people. Keyword-only: twenty-odd fields are too many
    to pass by position safely.

    ``kind_label``, ``category``, ``category_label``, ``remedy`` and ``advice`` are the words
    the kind's declaration (``probes.checks.kinds``) has for ``kind``, filled in by
    ``monitor``; empty in notices stored before they existed, where messages fall back to the
    code, to "整改" and to the category's advice (``alerts.advice``).

    ``rule_text`` is ``rule`` in words (``probes.checks.rules.rule_text``: "全国标准：14 天内
    须有更新（单项否决）"), filled in by ``monitor``; a notice stored before it existed shows no
    rule rather than its code.

    ``evidence`` is the finding's evidence dict, as its detector wrote it (kept for the
    record); ``evidence_lines`` is what it says, as neutral lines its evidence types wrote
    (``probes.evidence``), filled in by ``monitor`` and drawn by ``alerts.evidence``.
    ``console_url`` is the finding's page in the console (where 确认 is), "" without one.
    """

    event: Event
    finding_id: int | None = None
    account_id: str
    account_name: str
    platform: str  # code: weibo, wechat, douyin, ...
    # its name people read (微博), from the platform's declaration (``probes.platforms``),
    # filled in by ``monitor``; a notice stored before it existed shows the code
    platform_label: str = ""
    unit_code: str
    unit_name: str = ""
    kind: str  # stale, stale_soon, fetch_failed, gone, blocked, ...
    kind_label: str = ""  # 长期未更新, 客户端无法下载, ...
    category: str = ""  # 问题类别 code: update, ads, install, ...
    category_label: str = ""  # 更新不及时, 刊登或链接商业广告, ...
    remedy: str = ""  # the deadline's verb: 须在 … 前{remedy} (更新 / 整改)
    advice: str = ""  # what the unit should do, in one line (the kind's own)
    severity: str  # info | warning | high | veto
    title: str  # the detector's one-line judgement, e.g. "已 15 天未更新"
    detail: str = ""
    rule: str = ""  # the rule's code, for routing and the record; people read rule_text
    rule_text: str = ""
    deadline: datetime | None = None  # aware
    opened_at: datetime | None = None  # aware
    at: datetime  # when the change happened (aware)
    snapshot_id: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    evidence_lines: list[EvidenceLine] = field(default_factory=list)
    console_url: str = ""  # the finding's page in the console; "" if there is no console
    detail_escalation: str = ""  # why a supervisor is told (escalated notices)
    previous_severity: str = ""  # what an "updated" finding was before it changed
    # the signed 已整改 link (one finding, one action, expiring; monitor/store/rectify.py), ""
    # without a console or for what the unit cannot put right
    rectify_url: str = ""
    # how the finding counts in the quarter's 通报 (``probes.checks.kinds.report_weight``:
    # "veto", "deduct" or ""), and that quarter's name (2026年第四季度), filled in by
    # ``monitor`` for a recovery; "" quarter: not said (a notice stored before it existed)
    report_weight: str = ""
    quarter: str = ""


@dataclass
class Message:
    """One rendered message: markdown for chat bots, plain text for mail.

    ``level`` is apprise's notify type (info/success/warning/failure): some targets colour or
    label by it, and the JSON webhook passes it on as ``type``.
    """

    title: str
    markdown: str
    text: str
    level: Level = "info"


_TIMES = ("deadline", "opened_at", "at")


def notice_to_dict(notice: FindingNotice) -> dict[str, Any]:
    """JSON-safe form, so a notice can wait in the outbox as it was when the change happened."""
    out: dict[str, Any] = {}
    for f in fields(notice):
        value = getattr(notice, f.name)
        out[f.name] = value.isoformat() if isinstance(value, datetime) else value
    out["evidence_lines"] = [ln.to_dict() for ln in notice.evidence_lines]
    return out


def notice_from_dict(data: dict[str, Any]) -> FindingNotice:
    """A notice as ``notice_to_dict`` stored it; a field it lacks (stored by an older version)
    takes its default, and a key this version does not know is dropped."""
    known = {f.name for f in fields(FindingNotice)}
    kw = {k: v for k, v in data.items() if k in known}
    for name in _TIMES:
        if isinstance(kw.get(name), str):
            kw[name] = datetime.fromisoformat(kw[name])
    kw["evidence_lines"] = [EvidenceLine.from_dict(ln) for ln in kw.get("evidence_lines") or []]
    return FindingNotice(**kw)
