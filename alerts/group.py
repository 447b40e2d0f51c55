"""Several findings in one message: grouped alerts and digests.

A unit that opens twenty problems at once wants one message listing them, not twenty
pings; a DingTalk robot that takes 20 messages a minute *needs* it. One line per finding
(what, its 问题类别, which account, the deadline, where to look), as many as fit the
provider's request limit; the caller sends the rest in the next message. Scraped values are
neutralised exactly as in single messages (``alerts.messages``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from alerts.messages import (
    _ENVELOPE_BYTES,
    _MD_INERT,
    MAX_REQUEST_BYTES,
    SEVERITY_NAMES,
    _inline,
    _safe_url,
    _time,
    _title,
    _wire_size,
    _zone,
    category_shown,
    platform_name,
    render,
)
from alerts.notice import FindingNotice, Level, Message
from alerts.templates import AlertTemplates

_EVENT_NAMES = {
    "opened": "新问题",
    "updated": "情况有变",
    "reminder": "仍未整改",
    "escalated": "上报主管单位",
    "resolved": "已恢复",
}


def _safe(value: str, limit: int) -> str:
    return _inline(value, limit).translate(_MD_INERT)


def _level(notices: Sequence[FindingNotice]) -> Level:
    if all(n.event == "resolved" for n in notices):
        return "success"
    sev = {n.severity for n in notices if n.event != "resolved"}
    if sev & {"veto", "high"}:
        return "failure"
    return "warning" if "warning" in sev else "info"


def _line(i: int, n: FindingNotice, markdown: bool, tz: str) -> str:
    zone = _zone(tz)
    head = f"{i}. {_title(n)}"
    bits = [] if n.event == "test" else [_safe(category_shown(n), 60)]
    unit = n.unit_name or n.unit_code
    if unit:
        bits.append(f"主办单位 {_safe(unit, 60)}")
    if n.event == "escalated" and n.opened_at:
        bits.append(f"发现于 {_time(n.opened_at, zone)}")
    if n.deadline and n.event != "resolved":
        bits.append(f"期限 {_time(n.deadline, zone)}")
    if n.finding_id is not None:
        bits.append(f"问题 #{int(n.finding_id)}")
    link = _safe_url(n.console_url)
    if markdown:
        tail = " · ".join(bits) + (f" · [查看]({link})" if link else "")
        return f"- **{head}**\n  {tail}" if tail else f"- **{head}**"
    tail = " · ".join(bits) + (f" · {link}" if link else "")
    return f"{head}\n   {tail}" if tail else head


@dataclass
class Group:
    """One grouped message and how many of the given notices it holds."""

    message: Message
    count: int


def render_group(
    notices: Sequence[FindingNotice],
    *,
    recipient: str,
    tz: str = "Asia/Shanghai",
    max_items: int = 40,
    part: int = 1,
    templates: AlertTemplates | None = None,
) -> Group:
    """The first notices that fit one message (at least one); a lone notice gets the full
    single-finding message, evidence and all."""
    if not notices:
        raise ValueError("render_group needs at least one notice")
    if len(notices) == 1 or max_items == 1:
        return Group(render(notices[0], tz=tz, templates=templates), 1)
    take = notices[:max_items]
    while True:
        counts = Counter(_EVENT_NAMES.get(n.event, n.event) for n in take)
        summary = "，".join(f"{k} {v}" for k, v in counts.items())
        title = f"【巡查汇总】{_safe(recipient, 60)}：{len(take)} 项（{summary}）"
        if part > 1:
            title += f"（续 {part}）"
        budget = MAX_REQUEST_BYTES - _ENVELOPE_BYTES - 2 * _wire_size(title)
        md = "\n".join(_line(i, n, True, tz) for i, n in enumerate(take, 1))
        text = "\n".join(_line(i, n, False, tz) for i, n in enumerate(take, 1))
        if (_wire_size(md) <= budget and _wire_size(text) <= budget) or len(take) == 1:
            break
        take = take[: max(1, len(take) * 3 // 4)]
    if len(take) == 1:
        return Group(render(take[0], tz=tz, templates=templates), 1)
    return Group(Message(title=title, markdown=md, text=text, level=_level(take)), len(take))


@dataclass
class DigestRow:
    """One open finding in a digest."""

    unit: str
    account: str
    platform: str
    kind: str
    severity: str
    title: str
    opened_at: datetime
    acknowledged: bool
    escalated: bool
    finding_id: int
    kind_label: str = ""  # the catalogue's label, shown when there is no title


def render_digest(
    rows: Sequence[DigestRow],
    *,
    recipient: str,
    period: str,  # 日报 / 周报
    day: str,  # 11月24日 / 11月23日—11月29日
    tz: str = "Asia/Shanghai",
    extra: Sequence[str] = (),
) -> Message:
    """A daily (per unit) or weekly (per supervisor) summary of what is still open.

    Counts first (what a supervisor reads), then the findings themselves, most severe first,
    as many as fit; the rest are counted, and the console has them all."""
    zone = _zone(tz)
    title = f"【巡查{period}】{_safe(recipient, 60)}：{day} 未解决问题 {len(rows)} 项"
    by_sev = Counter(r.severity for r in rows)
    head = [
        "未解决问题："
        + (
            "，".join(
                f"{SEVERITY_NAMES.get(s, s)} {by_sev[s]}"
                for s in ("veto", "high", "warning", "info")
                if by_sev[s]
            )
            or "无"
        ),
        f"未确认：{sum(not r.acknowledged for r in rows)}，"
        f"已上报上级：{sum(r.escalated for r in rows)}",
    ]
    units = Counter(r.unit for r in rows)
    if len(units) > 1:
        head.append("按单位：" + "，".join(f"{_safe(u, 30)} {c}" for u, c in units.most_common(12)))
    head.extend(_safe(x, 200) for x in extra)
    order = {"veto": 0, "high": 1, "warning": 2, "info": 3}
    ranked = sorted(rows, key=lambda r: (order.get(r.severity, 4), r.opened_at))
    budget = MAX_REQUEST_BYTES - _ENVELOPE_BYTES - 2 * _wire_size(title) - 200
    lines: list[str] = []
    for r in ranked:
        line = (
            f"{SEVERITY_NAMES.get(r.severity, r.severity)}｜{_safe(r.account, 40)}"
            f"（{platform_name(r.platform)}）{_safe(r.title or r.kind_label or r.kind, 60)}"
            f" · {_safe(r.unit, 30)} · 自 {_time(r.opened_at, zone)} · #{r.finding_id}"
            + ("" if r.acknowledged else " · 未确认")
        )
        if _wire_size("\n".join([*head, *lines, line])) > budget:
            lines.append(f"……另有 {len(ranked) - len(lines)} 项，请在巡查控制台查看")
            break
        lines.append(line)
    md = "\n".join([*(f"- {h}" for h in head), "", *(f"- {x}" for x in lines)])
    text = "\n".join([*head, "", *lines])
    level: Level = "failure" if by_sev["veto"] or by_sev["high"] else "info"
    return Message(title=title, markdown=md, text=text, level=level)


__all__ = ["DigestRow", "Group", "render_digest", "render_group"]
