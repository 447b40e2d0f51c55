"""``xuncha routes test``: for a described finding, who is told what, and when.

Like ``amtool config routes test``: it runs the dispatcher's own routing code on a finding
that need not exist, so ops can check a new ``[[alerts.routes]]`` before the first real
problem tests it for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer

from monitor.cli.chinese import Typer
from monitor.cli.common import EXIT_USAGE, fail, open_app, out, print_json
from monitor.cli.options import JsonOpt

app = Typer(help="告警路由：一个问题会通知谁、何时提醒、何时上报。")


def _minutes(m: int | None) -> str:
    if m is None:
        return "不上报"
    if m == 0:
        return "立即"
    return f"{m // 60} 小时" if m % 60 == 0 else f"{m} 分钟"


@dataclass
class _Answer:
    """What the dispatcher would do with the finding: the JSON answer, and what the plain
    one also says (the account, the plan, the silence's comment)."""

    acc: Any
    plan: Any
    silence: Any
    result: dict[str, Any]


@app.command("test")
def routes_test(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Option(metavar="账号编号", help="取该账号的平台与主办单位")
    ] = None,
    unit: Annotated[
        str | None, typer.Option(metavar="单位编码", help="主办单位（不指定账号时）")
    ] = None,
    platform: Annotated[str, typer.Option(metavar="平台", help="平台（不指定账号时）")] = "weibo",
    kind: Annotated[
        str,
        typer.Option(metavar="种类", help="问题种类，如 stale、theft、app_download_unreachable"),
    ] = "stale",
    severity: Annotated[
        str, typer.Option(metavar="级别", help="veto（单项否决）、high、warning 或 info")
    ] = "veto",
    as_json: JsonOpt = False,
) -> None:
    """显示一个问题会通知谁、何时提醒、何时上报（问题不必真的存在）。"""
    from sqlmodel import Session

    _check_words(kind, severity)
    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        acc = _account(s, account, unit, platform)
        answer = _answer(xapp, s, acc, kind, severity)
    if as_json:
        print_json(answer.result)
        return
    _print_answer(out(ctx), answer, kind, severity, xapp.settings.alerts.quiet_hours)


def _check_words(kind: str, severity: str) -> None:
    from alerts.messages import SEVERITY_NAMES
    from probes.checks import kinds

    if severity not in SEVERITY_NAMES:
        fail(f"级别须为 {' / '.join(SEVERITY_NAMES)} 之一，不是 '{severity}'", EXIT_USAGE)
    if kinds.kind(kind) is None:  # a typo would otherwise be planned like any unknown problem
        valid = "、".join(f"{code}（{k.label}）" for code, k in kinds.KINDS.items())
        fail(f"没有问题种类 '{kind}'。可用的种类：{valid}", EXIT_USAGE)


def _account(s: Any, account: str | None, unit: str | None, platform: str) -> Any:
    """The registered account, or a made-up one of the unit on the platform."""
    from monitor.store.models import Account, Unit

    if account:
        acc = s.get(Account, account)
        if acc is None:
            fail(f"账号 '{account}' 不在登记表中", EXIT_USAGE)
        return acc
    if unit:
        if s.get(Unit, unit) is None:
            fail(f"单位 '{unit}' 不在登记表中", EXIT_USAGE)
        return Account(id="(示例)", platform=platform, name="（示例账号）", owner_code=unit)
    fail("请用 --account 或 --unit 指明问题属于谁", EXIT_USAGE)


def _answer(xapp: Any, s: Any, acc: Any, kind: str, severity: str) -> _Answer:
    """The dispatcher's own routing code run on a finding that need not exist."""
    from monitor.alerting import AlertingSettings, channels
    from monitor.alerting.route import owner_targets, plan_for, supervisor_targets, unit_line
    from monitor.alerting.silences import Matcher
    from monitor.store.models import Finding, Unit

    settings = AlertingSettings.of(xapp.settings)
    owner = s.get(Unit, acc.owner_code)
    line = unit_line(s, owner)
    f = Finding(account_id=acc.id, kind=kind, severity=severity, opened_at=xapp.clock())
    p = plan_for(settings, f, acc, line)
    silence = Matcher(s, xapp.clock()).covering(acc.id, acc.platform, kind)
    names = {u.code: u.name for u in line}

    def who(targets: list) -> list[dict]:
        return [
            {
                "unit": t.unit,
                "unit_name": names.get(t.unit, t.unit),
                "channel": channels.shown(settings, t.channel),
                "per_minute": channels.limit_for(settings, t.channel) or None,
            }
            for t in targets
        ]

    first = who(owner_targets(settings, p, line, acc.owner_code))
    up = who(supervisor_targets(p, line))
    result = {
        "route": p.route,
        "audience": p.audience,
        "muted": p.mute,
        "first": first,
        "group_wait_seconds": p.group_wait_seconds,
        "repeat_minutes": p.repeat_minutes or None,
        "escalate": "immediately" if p.escalate_immediately else p.escalate_after_minutes,
        "escalate_to": up,
        "silenced_by": silence.id if silence else None,
        "ladder": _ladder(settings, severity, owner, up),
        "quiet_hours": settings.alerts.quiet_hours or None,
    }
    return _Answer(acc=acc, plan=p, silence=silence, result=result)


def _print_answer(console: Any, answer: _Answer, kind: str, severity: str, quiet: str) -> None:
    from rich.markup import escape

    from alerts.messages import SEVERITY_NAMES
    from probes.checks import kinds
    from probes.platforms import platform_name

    acc, p, silence, result = answer.acc, answer.plan, answer.silence, answer.result
    known = kinds.kind(kind)
    what = f"{known.label}（问题类别：{known.category_label}）" if known else escape(kind)
    console.print(
        f"问题：{platform_name(acc.platform)} 账号 {acc.name}，"
        f"{what}，{SEVERITY_NAMES[severity]}，主办单位 {acc.owner_code}"
    )
    if known is None:
        console.print(f"[yellow]没有哪项检查会发现 '{escape(kind)}' 这种问题[/]")
    console.print(f"匹配路由：{p.route}；受众：{p.audience}")
    if p.mute:
        console.print("[yellow]该路由静音：只记录，不发送[/]")
    if silence:
        console.print(f"[yellow]当前被静默 #{silence.id} 覆盖（{silence.comment}）：暂不发送[/]")
    _print_first(console, p, result["first"])
    if result["ladder"]:
        _print_ladder(console, result["ladder"], severity, quiet)
    if result["ladder"] and not p.escalate_immediately:
        console.print("  超过整改期限仍未解决 → 上报主管单位（同上）")
        return
    _print_up(console, p, result["escalate_to"])


def _print_first(console: Any, p: Any, first: list[dict]) -> None:
    """Who hears first, and how often they are reminded."""
    if not first:
        console.print("[red]没有可用的通知渠道：该问题不会通知任何人[/]")
    for t in first:
        rate = f"，每分钟最多 {t['per_minute']} 条" if t["per_minute"] else ""
        console.print(
            f"  发现后 {p.group_wait_seconds} 秒内（与同渠道问题合并）→ "
            f"{t['unit_name']} {t['channel']}{rate}"
        )
    if p.repeat_minutes:
        console.print(f"  未确认时每 {_minutes(p.repeat_minutes)} 提醒一次；确认后不再提醒")
    else:
        console.print("  不重复提醒")


def _print_up(console: Any, p: Any, up: list[dict]) -> None:
    """Who is told above the unit, and when."""
    when = "立即" if p.escalate_immediately else _minutes(p.escalate_after_minutes)
    if not up:
        console.print("  没有上级通知渠道：不会上报")
    for t in up:
        if p.escalate_immediately:
            console.print(f"  同时立即上报 → {t['unit_name']} {t['channel']}")
        else:
            console.print(
                f"  {when}内未确认也未解决，或超过整改期限 → 上报 {t['unit_name']} {t['channel']}"
            )


def _ladder(settings: Any, severity: str, owner: Any, up: list[dict]) -> list[dict]:
    """The severity's escalation ladder as who hears at each step (``[alerts.ladder]``)."""
    from alerts.ladder import RUNG_WORDS
    from monitor.alerting import channels

    ladder = settings.alerts.ladder.get(severity)
    out: list[dict] = []
    for i, step in enumerate(ladder.steps if ladder else []):
        row: dict[str, Any] = {"step": i + 1, "after": step.after, "to": step.to}
        row["who"] = RUNG_WORDS[step.to]
        if step.to.endswith("_sms"):
            channel = step.channel or settings.alerts.sms_channel
            row["channel"] = channels.shown(settings, channel) if channel else None
            field = "duty_mobiles" if step.to == "duty_sms" else "leader_mobiles"
            phones = getattr(owner, field, [])
            row["phones"] = len(phones or [])
        elif step.to == "supervisor":
            row["units"] = sorted({t["unit_name"] for t in up})
        out.append(row)
    return out


def _print_ladder(console: Any, steps: list[dict], severity: str, quiet: str) -> None:
    from alerts.ladder import span_minutes, span_words

    console.print("  未确认时按升级阶梯逐级通知（确认后停止）：")
    for row in steps:
        minutes = span_minutes(row["after"])
        when = "发现时" if minutes == 0 else f"{span_words(minutes)}后"
        extra = ""
        if "phones" in row:
            extra = f"，经 {row['channel']}，{row['phones']} 个号码" if row["channel"] else ""
            if not row["phones"]:
                extra += "（[yellow]未登记号码[/]）"
        elif row.get("units"):
            extra = f"：{'、'.join(row['units'])}"
        console.print(f"    第 {row['step']} 级 {when} → {row['who']}{extra}")
    if quiet and severity != "veto":
        console.print(f"  免打扰时段 {quiet}：其间到期的步骤顺延到时段结束")
