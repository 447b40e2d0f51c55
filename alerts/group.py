"""Several findings in one message: grouped alerts and digests.

A unit that opens twenty problems at once wants one message listing them, not twenty
pings; a DingTalk robot that takes 20 messages a minute *needs* it. One entry per finding —
what, its 问题类别, which account, by when (整改期限 in words), its number and a link to its
page — as many as fit the provider's request limit; the caller sends the rest in the next
message. The message ends with how to acknowledge (a unit: the console, or a reply to the
duty officers; ops may be told the CLI). Scraped values are neutralised exactly
as in single messages (``alerts.text``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from alerts.deadlines import deadline_line, deadline_words
from alerts.formats import Format, Markdown, Text
from alerts.messages import (
    CAME_AND_WENT,
    CAME_AND_WENT_LABEL,
    NO_CONSOLE,
    OWNER_NEWS,
    REF_SLOT,
    SEVERITY_NAMES,
    category_shown,
    eased,
    level_of_many,
    page_of,
    platform_name,
    render,
    title_of,
)
from alerts.notice import FindingNotice, Level, Message
from alerts.templates import AlertTemplates
from alerts.text import DEFAULT_BUDGET, Budget, inert, safe_url, shown, zone

_EVENT_NAMES = {
    "opened": "新问题",
    "updated": "问题加重",
    "reminder": "仍未整改",
    "escalated": "上报主管单位",
    "resolved": "已恢复",
    "recheck_failed": "复查未通过",
    CAME_AND_WENT: CAME_AND_WENT_LABEL,
}
ACK_MANY = "确认：在控制台打开问题点击『确认』"
# a county officer has no CLI: without a console they reply (quoting the message's number)
ACK_MANY_NO_CONSOLE = f"确认：{NO_CONSOLE}，注明问题编号{REF_SLOT}"
ACK_MANY_OPS = "确认：在控制台打开问题点击『确认』，或运行 xuncha ack 问题编号"
ACK_MANY_CLI = "确认：运行 xuncha ack 问题编号"  # ops, no console to open


def ack_many(linked: bool, ops: bool) -> str:
    """The last line of a message about several findings: how its reader acknowledges them."""
    if ops:
        return ACK_MANY_OPS if linked else ACK_MANY_CLI
    return ACK_MANY if linked else ACK_MANY_NO_CONSOLE


def _event_name(n: FindingNotice) -> str:
    if n.event == "updated" and eased(n):
        return "等级调整"
    return _EVENT_NAMES.get(n.event, n.event)


def _line(i: int, n: FindingNotice, f: Format, tz: tzinfo, now: datetime, recipient: str) -> str:
    head = f"{i}. {title_of(n)}"
    bits = [f.safe(category_shown(n), 60)]
    unit = n.unit_name or n.unit_code
    if unit and unit != recipient:  # a supervisor's list says whose it is
        bits.append(f"主办单位 {f.safe(unit, 60)}")
    if n.event == "escalated" and n.opened_at:
        bits.append(f"发现于 {shown(n.opened_at, tz)}")
    if n.event == "recheck_failed" and n.detail_escalation:  # 复查未通过: why, in words
        bits.append(f.safe(n.detail_escalation, 80))
    if n.event == CAME_AND_WENT and n.opened_at:
        bits.append(f"出现于 {shown(n.opened_at, tz)}，恢复于 {shown(n.at, tz)}")
    deadline = deadline_line(n, now, tz, brief=True)
    if deadline and n.deadline is not None:
        bits.append(f.safe(deadline, 80))
    elif n.category == "patrol" and n.event not in ("resolved", CAME_AND_WENT):
        bits.append("巡查系统自身的问题，只告知运维")
    if n.finding_id is not None:
        bits.append(f"问题 #{int(n.finding_id)}")
    link = page_of(n)
    if link:
        bits.append(f.link("查看", link))
    if safe_url(n.rectify_url):  # the signed 已整改 link, this finding only
        bits.append(f.link("已整改", n.rectify_url))
    tail = " · ".join(bits)
    if f.markdown:
        return f"- **{head}**\n  {tail}"
    return f"{head}\n   {tail}"


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
    budget: Budget = DEFAULT_BUDGET,
    now: datetime | None = None,
    ops: bool = False,
) -> Group:
    """The first notices that fit one message (at least one); a lone notice gets the full
    single-finding message, evidence and all."""
    if not notices:
        raise ValueError("render_group needs at least one notice")
    if len(notices) == 1 or max_items == 1:
        one = render(notices[0], tz=tz, templates=templates, budget=budget, now=now, ops=ops)
        return Group(one, 1)
    tzone = zone(tz)
    when = now or max(n.at for n in notices)
    take = list(notices[:max_items])
    while True:
        counts = Counter(_event_name(n) for n in take)
        summary = "，".join(f"{k} {v}" for k, v in counts.items())
        title = f"【巡查汇总】{inert(recipient, 60)}：{len(take)} 项（{summary}）"
        if part > 1:
            title += f"（续 {part}）"
        room = budget.room(title)
        md, text = (_group_body(take, f, tzone, when, recipient, ops) for f in (Markdown(), Text()))
        if (budget.size(md) <= room and budget.size(text) <= room) or len(take) == 1:
            break
        take = take[: max(1, len(take) * 3 // 4)]
    if len(take) == 1:
        one = render(take[0], tz=tz, templates=templates, budget=budget, now=now, ops=ops)
        return Group(one, 1)
    return Group(
        Message(
            title=title,
            markdown=md,
            text=text,
            level=level_of_many((n.event, n.severity) for n in take),
        ),
        len(take),
    )


def _group_body(
    take: Sequence[FindingNotice],
    f: Format,
    tz: tzinfo,
    now: datetime,
    recipient: str,
    ops: bool,
) -> str:
    lines = [_line(i, n, f, tz, now, recipient) for i, n in enumerate(take, 1)]
    linked = any(page_of(n) for n in take)
    if any(n.event in OWNER_NEWS and n.finding_id is not None for n in take):
        lines += ["", ack_many(linked, ops)]
    elif not (ops or linked):  # news that asks nothing: where a unit turns with a question
        lines += ["", f"如有疑问：请回复巡查值班人员或联系主管单位{REF_SLOT}"]
    return f.join(lines)


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
    platform_label: str = ""  # the platform's name (微博); the code where not given
    deadline: datetime | None = None
    remedy: str = ""  # the deadline's verb (更新 / 整改)
    link: str = ""  # the finding's page in the console


def render_digest(
    rows: Sequence[DigestRow],
    *,
    recipient: str,
    period: str,  # 日报 / 周报
    day: str,  # 11月24日 / 11月23日—11月29日
    tz: str = "Asia/Shanghai",
    extra: Sequence[str] = (),
    budget: Budget = DEFAULT_BUDGET,
    now: datetime | None = None,
) -> Message:
    """A daily (per unit) or weekly (per supervisor) summary of what is still open.

    Counts first (what a supervisor reads), then the findings themselves, overdue and most
    severe first, as many as fit; the rest are counted, and the console has them all."""
    tzone = zone(tz)
    when = now or max((r.opened_at for r in rows), default=None)
    title = f"【巡查{period}】{inert(recipient, 60)}：{day} 未解决问题 {len(rows)} 项"
    by_sev = Counter(r.severity for r in rows)
    overdue = sum(1 for r in rows if r.deadline and when and r.deadline <= when)
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
        f"已超过整改期限：{overdue}，未确认：{sum(not r.acknowledged for r in rows)}，"
        f"已上报上级：{sum(r.escalated for r in rows)}",
    ]
    units = Counter(r.unit for r in rows)
    if len(units) > 1:
        head.append("按单位：" + "，".join(f"{inert(u, 30)} {c}" for u, c in units.most_common(12)))
    head.extend(inert(x, 200) for x in extra)
    order = {"veto": 0, "high": 1, "warning": 2, "info": 3}

    def urgency(r: DigestRow) -> tuple[int, datetime, int, datetime]:
        """Overdue first, then the deadline soonest, then the most severe."""
        late = 0 if r.deadline and when and r.deadline <= when else 1
        due = r.deadline or datetime.max.replace(tzinfo=UTC)
        return (late, due, order.get(r.severity, 4), r.opened_at)

    ranked = sorted(rows, key=urgency)
    own = len(units) == 1 and next(iter(units)) == recipient  # a unit's own: no unit per row
    bodies = []
    for f in (Markdown(), Text()):
        bullet = f.bullet
        room = budget.room(title) - 200
        lines: list[str] = []
        for r in ranked:
            line = bullet + _digest_line(r, f, tzone, when, own)
            if budget.size(f.join([*head, *lines, line])) > room:
                lines.append(f"{bullet}……另有 {len(ranked) - len(lines)} 项，请在巡查控制台查看")
                break
            lines.append(line)
        ack = ack_many(any(safe_url(r.link) for r in rows), ops=False)  # digests go to units
        tail = ["", ack] if any(not r.acknowledged for r in rows) else []
        bodies.append(f.join([*(bullet + h for h in head), "", *lines, *tail]))
    level: Level = "failure" if by_sev["veto"] or by_sev["high"] else "info"
    return Message(title=title, markdown=bodies[0], text=bodies[1], level=level)


def _digest_line(r: DigestRow, f: Format, tz: tzinfo, now: datetime | None, own: bool) -> str:
    what = f.safe(r.title or r.kind_label or r.kind, 60)
    bits = [
        f"{SEVERITY_NAMES.get(r.severity, r.severity)}｜{f.safe(r.account, 40)}"
        f"（{platform_name(r)}）{what}",
        *([] if own else [f.safe(r.unit, 30)]),
        f"发现于 {shown(r.opened_at, tz)}",
    ]
    if r.deadline and now:
        bits.append(deadline_words(r.deadline, r.remedy or "整改", now, tz, brief=True))
    bits.append(f"#{r.finding_id}")
    if not r.acknowledged:
        bits.append("未确认")
    link = safe_url(r.link)
    if link:
        bits.append(f.link("查看", link))
    return " · ".join(bits)


__all__ = ["DigestRow", "Group", "render_digest", "render_group"]
