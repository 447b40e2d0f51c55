"""Render a finding change as a message a duty officer can act on from the phone.

In the order a phone shows it: what is wrong (the title), by when (整改期限: "须在 12月8日
16:00 前整改（还剩 2 天）", "已超期 4 天，须立即更新", or that the unit need not act), what to
do, which account and unit, the evidence in words with links to the posts, the rule in
words, and how to acknowledge — the finding's page in the console, where 确认 is; without
one a unit is asked to reply to the duty officers, ops are told ``xuncha ack N``. Scraped
values are made inert (``alerts.text``); the only links are ones we build from http(s) URLs
we validated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Protocol

from alerts.advice import advice, supervisor_advice
from alerts.deadlines import deadline_line
from alerts.evidence import NESTED, Room, describe
from alerts.formats import Format, Markdown, Text
from alerts.notice import FindingNotice, Level, Message
from alerts.templates import AlertTemplates
from alerts.templates import apply as apply_templates
from alerts.text import (
    DEFAULT_BUDGET,
    MAX_REQUEST_BYTES,
    TIME_FORMAT,
    Budget,
    duration,
    inert,
    local_time,
    safe_url,
    shown,
    zone,
)

SEVERITY_NAMES = {"veto": "单项否决", "high": "严重", "warning": "预警", "info": "提示"}

__all__ = [
    "MAX_REQUEST_BYTES",
    "REF_SLOT",
    "SEVERITY_NAMES",
    "TIME_FORMAT",
    "ack_hint",
    "category_shown",
    "footer",
    "kind_label",
    "local_time",
    "page_of",
    "platform_name",
    "render",
    "report_line",
    "stamp",
    "title_of",
]

# The words for a finding's kind (its label, 问题类别, the deadline's verb) are not here: they
# are the kind catalogue's (probes.checks.kinds), and arrive in the notice (alerts.notice).

# characters of the problem a title holds; a longer one is said whole in the body
TITLE_PROBLEM_CHARS = 120
# events that tell the owner of a problem to fix: they say how to acknowledge it
OWNER_NEWS = frozenset({"opened", "updated", "reminder"})
#: a finding told only after it closed: it opened and cleared while its channel was down
CAME_AND_WENT = "opened_resolved"
CAME_AND_WENT_LABEL = "已出现并已恢复"


class HasPlatform(Protocol):
    """What :func:`platform_name` reads: a notice or a digest row."""

    platform: str
    platform_label: str


@dataclass(frozen=True)
class _Fit:
    """One try at fitting the budget: evidence listed, characters of 说明."""

    room: Room
    detail_chars: int


_FITS = (_Fit(Room(5, 200), 1000), _Fit(Room(2, 100), 400), _Fit(Room(0, 60), 150))


def render(
    notice: FindingNotice,
    *,
    tz: str = "Asia/Shanghai",
    templates: AlertTemplates | None = None,
    budget: Budget = DEFAULT_BUDGET,
    now: datetime | None = None,
    ops: bool = False,
) -> Message:
    """Render ``notice`` for chat robots (markdown) and mail (plain text); ``ops``: for the
    ops channels (they may be told the CLI), else for a unit.

    Both bodies fit ``budget`` (the provider's request limit; DingTalk's 20,000 bytes by
    default): evidence and 说明 shrink first, then the evidence is cut; what the officer must
    do, by when, and how to acknowledge always stay. ``now`` is when the message is written
    ("还剩 2 天" counts from it; the change's own time by default). ``templates`` (from config)
    replace the parts an office wrote its own wording for.
    """
    tzone = zone(tz)
    now = now or notice.at
    title = title_of(notice)
    room = budget.room(title)
    bodies = []
    for fmt in (Markdown(), Text()):
        for fit in _FITS:
            head, middle, tail = _sections(notice, fmt, tzone, now, fit, ops)
            body = fmt.join([*head, *middle, *tail])
            if budget.size(body) <= room:
                break
        else:
            fixed = budget.size(fmt.join([*head, *tail]))
            cut = budget.cut(fmt.join(middle), room - fixed - 8)
            body = fmt.join([*head, cut, *tail]) if middle else body
            if budget.size(body) > room:
                body = budget.cut(body, room)
        bodies.append(body)
    message = Message(title=title, markdown=bodies[0], text=bodies[1], level=level_of(notice))
    if templates is not None and templates.active:
        ctx = template_context(notice, tzone, now, ops)
        message = apply_templates(templates, message, ctx)
        for part in ("markdown", "text"):
            if budget.size(getattr(message, part)) > room:
                setattr(message, part, budget.cut(getattr(message, part), room))
    return message


def template_context(
    n: FindingNotice, tz: tzinfo, now: datetime, ops: bool = False
) -> dict[str, Any]:
    """The variables of ``[alerts.templates]``, every value already inert (full-width
    brackets, no mentions, no bare links): ``link`` is the finding's page, ``deadline_text``
    the 整改期限 in words, ``ack`` how to acknowledge, ``advice`` what to do."""
    text = Text()
    return {
        "event": n.event,
        "label": label_of(n),
        "account": inert(n.account_name or n.account_id, 80),
        "account_id": inert(n.account_id, 64),
        "platform": platform_name(n),
        "unit": inert(n.unit_name or n.unit_code, 120),
        "unit_code": inert(n.unit_code, 64),
        "kind": inert(kind_label(n), 80),
        "category": inert(n.category_label, 40),
        "problem": inert(n.title, 200),
        "detail": inert(n.detail, 1000),
        "rule": inert(n.rule_text, 200),
        "severity": SEVERITY_NAMES.get(n.severity, inert(n.severity, 20)),
        "deadline": shown(n.deadline, tz) if n.deadline else "",
        "deadline_text": inert(deadline_line(n, now, tz), 200),
        "advice": inert(_what_to_do(n), 200),
        "ack": stamp(ack_hint(n, text, ops=ops), None, ops=False) if n.event in OWNER_NEWS else "",
        "found": shown(n.opened_at or n.at, tz),
        "snapshot": int(n.snapshot_id) if n.snapshot_id is not None else "",
        "finding": int(n.finding_id) if n.finding_id is not None else "",
        "link": page_of(n),
    }


# -- pieces -----------------------------------------------------------------------------------


def platform_name(n: FindingNotice | HasPlatform) -> str:
    """The platform's name as the notice (or digest row) carries it; its code where it does
    not (``alerts`` imports no ``probes``: ``monitor`` fills the name in)."""
    return n.platform_label or n.platform


def kind_label(notice: FindingNotice) -> str:
    """The kind's Chinese label, or its code in a notice stored without one."""
    return notice.kind_label or notice.kind


def category_shown(notice: FindingNotice) -> str:
    """问题类别 as a message shows it: the category, then the kind, 更新不及时（长期未更新）."""
    kind, category = kind_label(notice), notice.category_label
    return f"{category}（{kind}）" if category and category != kind else kind


def label_of(notice: FindingNotice) -> str:
    if notice.event == "test":
        return "测试"
    if notice.event == "resolved":
        return "已恢复"
    if notice.event == CAME_AND_WENT:
        return CAME_AND_WENT_LABEL
    if notice.event == "recheck_failed":
        return "复查未通过"
    severity = SEVERITY_NAMES.get(notice.severity, notice.severity)
    if notice.event == "reminder":
        return f"{severity}·仍未整改"
    if notice.event == "escalated":
        return f"上报·{severity}"
    if notice.event == "updated":
        return f"{severity}·{'等级调整' if eased(notice) else '问题加重'}"
    return severity


_RANK = {"info": 0, "warning": 1, "high": 2, "veto": 3}


def eased(notice: FindingNotice) -> bool:
    """An "updated" finding whose severity went down (a rule set changed: 单项否决 → 严重):
    still open, still the unit's, told so the unit knows what it now counts as."""
    was, now = _RANK.get(notice.previous_severity), _RANK.get(notice.severity)
    return was is not None and now is not None and now < was


def title_of(notice: FindingNotice) -> str:
    """Like 【单项否决】XX市人民政府（微博）已 15 天未更新: one line, inert in markdown and mail."""
    name = inert(notice.account_name or notice.account_id, 60)
    problem = inert(notice.title, TITLE_PROBLEM_CHARS) or inert(kind_label(notice), 60)
    if name and problem.startswith(name):  # a detector that already named the account
        problem = problem[len(name) :].lstrip(" ：:")
    if notice.event == "test":
        who = inert(notice.unit_name or notice.unit_code, 60)
        return f"【测试】{who}的巡查通知渠道" if who else "【测试】巡查通知渠道"
    return f"【{label_of(notice)}】{name}（{platform_name(notice)}）{problem}"


def level_of_many(told: Iterable[tuple[str, str]]) -> Level:
    """A message about several changes, as (event, severity): all recoveries, or its worst;
    "info" for one about none (a digest, whose items are not told one by one)."""
    told = list(told)
    if not told:
        return "info"
    live = {
        "warning" if event == CAME_AND_WENT else severity
        for event, severity in told
        if event != "resolved"
    }
    if not live:
        return "success"
    if live & {"veto", "high"}:
        return "failure"
    return "warning" if "warning" in live else "info"


def level_of(notice: FindingNotice) -> Level:
    if notice.event == "resolved":
        return "success"
    if notice.event == CAME_AND_WENT:
        return "warning"  # nothing to fix now, but something the unit did not know
    if notice.event == "test":
        return "info"
    return {"veto": "failure", "high": "failure", "warning": "warning"}.get(notice.severity, "info")


_OLD_LINK = re.compile(r"/snapshots/\d+$")


def page_of(n: FindingNotice) -> str:
    """The finding's page in the console, "" without one. A notice queued before messages
    linked to findings points at its snapshot: the finding's page is next to it."""
    url = safe_url(n.console_url)
    if url and n.finding_id is not None and n.event != "test" and _OLD_LINK.search(url):
        url = _OLD_LINK.sub(f"/findings/{int(n.finding_id)}", url)
    return url


#: where the message's own number goes in a unit's message without a console link (the
#: officer quotes it when replying); :func:`stamp` fills it in once the message has a number
REF_SLOT = "\u2063消息编号\u2063"
#: what a county officer without the console can do: they have no CLI
NO_CONSOLE = "处理后请回复巡查值班人员或联系主管单位说明情况"


def stamp(body: str, ref: int | None, *, ops: bool) -> str:
    """The message's number where people can use it: ops read it as the last line (they look
    messages up by it); a unit's message quotes it only where it asks the officer to reply
    (``REF_SLOT``) — their console link is their reference."""
    said = f"（本消息编号 #{int(ref)}）" if ref is not None else ""
    body = body.replace(REF_SLOT, said)
    return f"{body}\n\n消息编号 #{int(ref)}" if ops and ref is not None else body


def ack_hint(n: FindingNotice, f: Format, *, ops: bool = False) -> str:
    """How to acknowledge. A unit: the finding's page (where 确认 is), or, without a console,
    reply to the duty officers — never a command it does not have. Ops (``ops``, or the
    patrol's own problem): the page or ``xuncha ack N``."""
    if n.finding_id is None:
        return ""
    link = page_of(n)
    if not (ops or n.category == "patrol"):
        if link:
            return f"在控制台{f.link('打开本问题', link)}点击『确认』"
        return NO_CONSOLE + REF_SLOT
    cli = f"运行 xuncha ack {int(n.finding_id)}"
    # our own fetch problem: nothing to fix, acknowledging is what stops the reminders
    quiet = "（确认后不再提醒）" if n.category == "patrol" else ""
    if not link:
        return cli + quiet
    return f"在控制台{f.link('打开本问题', link)}点击『确认』，或{cli}{quiet}"


def footer(n: FindingNotice, f: Format, *, ops: bool = False) -> list[str]:
    """The message's last lines: what the reader can do about it from here (acknowledge, or
    open its page). One place, so a further action (a link to report it fixed) slots in."""
    link = page_of(n)
    fixed = []
    if safe_url(n.rectify_url):  # the signed link: no login, this finding only
        fixed = [f.field("整改完成后", f.link("点此提交已整改，系统将立即复查", n.rectify_url))]
    if n.event in OWNER_NEWS and n.finding_id is not None:
        return [*fixed, f.field("如何确认", ack_hint(n, f, ops=ops))]
    if link and n.finding_id is not None:
        where = "处理进展" if n.event == "escalated" else "问题页"
        return [*fixed, f.field(where, f.link("在控制台查看", link))]
    if link:
        return [f.field("控制台", f.link("打开", link))]
    if not ops and n.finding_id is not None and n.category != "patrol":
        return [f.field("如有疑问", "请回复巡查值班人员或联系主管单位" + REF_SLOT)]
    return []


def report_line(n: FindingNotice) -> str:
    """Whether a cleared problem still counts in this quarter's 通报 (the 通报's own rule,
    ``probes.checks.kinds.report_weight``, put in the notice by ``monitor``)."""
    if not n.quarter:
        return ""
    if n.report_weight == "veto":
        return f"仍计入{n.quarter}通报（单项否决），整改情况记为已整改"
    if n.report_weight == "deduct":
        return f"仍计入{n.quarter}通报（扣分），整改情况记为已整改"
    return f"不计入{n.quarter}通报"


def _what_to_do(n: FindingNotice) -> str:
    if n.event == "escalated":
        return supervisor_advice(n)
    return advice(n)


def _sections(
    n: FindingNotice, f: Format, tz: tzinfo, now: datetime, fit: _Fit, ops: bool = False
) -> tuple[list[str], list[str], list[str]]:
    """(what must stay, evidence and 说明 — cut first, how to find and acknowledge it)."""
    head = _head(n, f, tz, now)
    if n.event in ("test", "resolved"):  # a recovery needs no evidence of what is gone
        return head, [], _tail(n, f, tz, ops)
    middle: list[str] = []
    evidence = describe(n.evidence_lines, f, tz, fit.room, said=f"{n.title}\n{n.detail}")
    if len(evidence) == 1:
        middle.append(f.field("证据", evidence[0].lstrip(NESTED)))
    elif evidence:
        middle.append(f.field("证据", ""))
        middle += [
            f.sub2 + e[len(NESTED) :] if e.startswith(NESTED) else f.sub + e for e in evidence
        ]
    if n.detail and _detail_adds(n):
        middle.append(f.field("说明", f.safe(n.detail, fit.detail_chars)))
    return head, middle, _tail(n, f, tz, ops)


def _head(n: FindingNotice, f: Format, tz: tzinfo, now: datetime) -> list[str]:
    lines: list[str] = []
    if n.event == "test":
        lines.append(f.field("说明", "这是一条测试消息，收到即说明本通知渠道可用，无需处理"))
        if n.unit_name or n.unit_code:
            lines.append(f.field("单位", f.safe(n.unit_name or n.unit_code, 120)))
        return lines
    if n.event == "resolved":
        lines.append(f.field("状态", "已恢复：最近一次检查未再发现该问题，无需处理"))
        if report_line(n):
            lines.append(f.field("通报", report_line(n)))
    elif n.event == CAME_AND_WENT:
        lines.append(
            f.field(
                "状态",
                "已出现并已恢复：通知渠道故障期间出现、之后已消失的问题，现补发告知；"
                "无需整改，请知悉并核实当时的影响",
            )
        )
    elif n.event == "reminder":
        since = (
            f"自 {shown(n.opened_at, tz)} 发现以来已 {duration(n.at - n.opened_at)}"
            if n.opened_at
            else "此前已通知"
        )
        lines.append(f.field("提醒", f"该问题{since}，仍未整改，也未确认"))
    elif n.event == "updated":
        was = SEVERITY_NAMES.get(n.previous_severity, "")
        now_is = SEVERITY_NAMES.get(n.severity, "")
        if was and now_is and eased(n):
            change = f"等级调整：由{was}调整为{now_is}，问题仍未整改，请继续处理"
        elif was and now_is:
            change = f"问题加重：由{was}升为{now_is}"
        else:
            change = "问题仍在，情况有变化"
        lines.append(f.field("状态", change))
    elif n.event == "recheck_failed":  # the unit said 已整改; the recheck still saw it
        lines.append(f.field("复查未通过", f.safe(n.detail_escalation or "问题仍在", 300)))
    elif n.event == "escalated":
        why = n.detail_escalation or "主办单位未在时限内处理"
        lines.append(f.field("上报", f.safe(f"{why}，按规则告知主管单位", 200)))
    deadline = deadline_line(n, now, tz)
    if deadline:
        lines.append(f.field("整改期限", f.safe(deadline, 120)))
    if n.event not in ("resolved", CAME_AND_WENT):
        lines.append(f.field("怎么办", f.safe(_what_to_do(n), 300)))
    account = f.safe(n.account_name or n.account_id, 80)
    lines.append(f.field("账号", f"{account}（{platform_name(n)}）"))
    if n.unit_name or n.unit_code:
        lines.append(f.field("主办单位", f.safe(n.unit_name or n.unit_code, 120)))
    lines.append(f.field("问题类别", f.safe(category_shown(n), 80)))
    if len(n.title) > TITLE_PROBLEM_CHARS:  # the title had to cut it: here it is whole
        lines.append(f.field("问题", f.safe(n.title, 200)))
    if n.rule_text:
        lines.append(f.field("依据规则", f.safe(n.rule_text, 200)))
    return lines


def _tail(n: FindingNotice, f: Format, tz: tzinfo, ops: bool) -> list[str]:
    lines: list[str] = []
    found = n.opened_at or (n.at if n.event == "opened" else None)
    link = page_of(n)
    if n.event == "test":
        lines.append(f.field("发送时间", shown(n.at, tz)))
        return [*lines, f.field("控制台", f.link("打开", link))] if link else lines
    if found:
        lines.append(f.field("发现时间", shown(found, tz)))
    if n.event == "updated":
        lines.append(f.field("本次检查", shown(n.at, tz)))
    elif n.event in ("reminder", "escalated"):
        lines.append(f.field("提醒时间" if n.event == "reminder" else "上报时间", shown(n.at, tz)))
    elif n.event in ("resolved", CAME_AND_WENT):
        lines.append(f.field("恢复时间", shown(n.at, tz)))
        if n.opened_at:
            lines.append(f.field("持续", duration(n.at - n.opened_at)))
    if n.finding_id is not None:
        snapshot = f"（证据快照 #{int(n.snapshot_id)}）" if n.snapshot_id is not None else ""
        lines.append(f.field("问题编号", f"#{int(n.finding_id)}{snapshot}"))
    elif n.snapshot_id is not None:
        lines.append(f.field("快照编号", f"#{int(n.snapshot_id)}"))
    return [*lines, *footer(n, f, ops=ops)]


def _detail_adds(n: FindingNotice) -> bool:
    """说明 says something the evidence does not: not for findings whose evidence lists the
    posts or the signs it summarises (ads, personal data, theft), nor a fetch's reason again."""
    ev = n.evidence if isinstance(n.evidence, dict) else {}
    if isinstance(ev.get("posts"), list) or isinstance(ev.get("signs"), list):
        return False
    return n.detail.strip() != str(ev.get("reason", "")).strip()
