"""``xuncha alerts``: the outbox as ops see it, a test message, and channel health."""

from __future__ import annotations

from typing import Annotated

import anyio
import typer
from rich.table import Table
from sqlalchemy import func
from sqlmodel import Session, col, select

from alerts.messages import render
from alerts.notice import FindingNotice
from alerts.send import deliver
from monitor.alerting import channels, dispatch_once
from monitor.alerting.route import unit_line
from monitor.cli.common import EXIT_USAGE, console, fail, iso, local, open_app, print_json
from monitor.store.models import AlertItem, ChannelState, Notification, Unit

app = typer.Typer(help="告警发件箱与通知渠道 (alert outbox and channels)", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="机器可读的 JSON 输出")]
STATUSES = ("pending", "sending", "sent", "dead", "held")


@app.command("outbox")
def outbox(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(help="只看该状态: pending / sending / sent / dead / held（渠道拒收，暂存）"),
    ] = None,
    limit: Annotated[int, typer.Option(help="最多显示多少条")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """列出待发、失败、暂存和已放弃的消息，以及等待合并发送的问题和异常渠道."""
    if status is not None and status not in STATUSES:
        fail(f"状态须为 {' / '.join(STATUSES)} 之一，不是 '{status}'", EXIT_USAGE)
    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        settings = xapp.settings
        q = select(Notification)
        q = q.where(Notification.status == status) if status else q
        rows = s.exec(q.order_by(col(Notification.id).desc()).limit(limit)).all()
        waiting = s.exec(
            select(AlertItem.channel, func.count(), func.min(AlertItem.created_at))
            .where(col(AlertItem.status) == "queued")
            .group_by(col(AlertItem.channel))
        ).all()
        states = s.exec(
            select(ChannelState).where(
                col(ChannelState.broken_since).is_not(None)
                | (col(ChannelState.throttled_until) > xapp.clock())
            )
        ).all()
        tz = settings.timezone
        if as_json:
            print_json(
                {
                    "messages": [
                        {
                            "id": n.id,
                            "kind": n.kind,
                            "finding": n.finding_id,
                            "items": n.items,
                            "unit": n.unit_code,
                            "channel": channels.shown(settings, n.channel),
                            "event": n.event,
                            "title": n.title,
                            "status": n.status,
                            "attempts": n.attempts,
                            "created_at": iso(n.created_at, tz),
                            "due_at": iso(n.due_at, tz),
                            "sent_at": iso(n.sent_at, tz),
                            "last_error": channels.scrubbed(settings, n.channel, n.last_error),
                        }
                        for n in rows
                    ],
                    "waiting": [
                        {"channel": channels.shown(settings, c), "items": k, "since": iso(t, tz)}
                        for c, k, t in waiting
                    ],
                    "channels": [
                        {
                            "channel": channels.shown(settings, st.channel),
                            "broken_since": iso(st.broken_since, tz),
                            "error": channels.scrubbed(settings, st.channel, st.broken_error),
                            "throttled_until": iso(st.throttled_until, tz),
                        }
                        for st in states
                    ],
                }
            )
            return
        t = Table("编号", "单位", "渠道", "标题", "条数", "状态", "次数", "下次/发送", "错误")
        for n in rows:
            t.add_row(
                str(n.id),
                n.unit_code,
                channels.shown(settings, n.channel),
                n.title,
                str(n.items or ""),
                n.status,
                str(n.attempts),
                local(n.sent_at or n.due_at, tz),
                channels.scrubbed(settings, n.channel, n.last_error),
            )
        console.print(t)
        if waiting:
            w = Table("渠道", "等待合并的问题", "最早", title="等待发送（合并或限流中）")
            for c, k, since in waiting:
                w.add_row(channels.shown(settings, c), str(k), local(since, tz))
            console.print(w)
        for st in states:
            if st.broken_since:
                console.print(
                    f"[red]渠道 {channels.shown(settings, st.channel)} 拒收[/]"
                    f"（自 {local(st.broken_since, tz)}）："
                    f"{channels.scrubbed(settings, st.channel, st.broken_error)}"
                )
            else:
                console.print(
                    f"[yellow]渠道 {channels.shown(settings, st.channel)} 被限流[/]，"
                    f"至 {local(st.throttled_until, tz)}"
                )


@app.command("flush")
def flush(ctx: typer.Context) -> None:
    """立即处理到期的提醒并发送消息 (run the dispatcher once, without the daemon)."""
    with open_app(ctx) as xapp:
        stats = anyio.run(lambda: dispatch_once(xapp.engine, xapp.settings, clock=xapp.clock))
    console.print(
        f"已发送 {stats.sent}，待重试 {stats.retried}，暂存 {stats.held}，放弃 {stats.dead}，"
        f"限流 {stats.throttled}"
    )
    if stats.retried or stats.dead or stats.held:
        raise typer.Exit(1)


@app.command("test")
def test_message(
    ctx: typer.Context,
    unit: Annotated[str, typer.Argument(help="单位编码")],
    as_json: JsonOpt = False,
) -> None:
    """向一个单位的通知渠道发送测试消息，逐个报告结果 (send a test message now)."""
    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        settings = xapp.settings
        u = s.get(Unit, unit)
        if u is None:
            fail(f"单位 '{unit}' 不在登记表中", EXIT_USAGE)
        line = unit_line(s, u)
        hearer = next((x for x in line if x.channels), None)
        targets = list(u.channels) + [c for c in u.it_channels if c not in u.channels]
        note = ""
        if not targets and hearer is not None:
            targets, note = list(hearer.channels), f"（本单位未设渠道，发往上级 {hearer.name}）"
        if not targets:
            fail(f"单位 {u.name}（{unit}）及其上级都没有通知渠道", 1)
        notice = FindingNotice(
            event="test",
            account_id="",
            account_name="",
            platform="other",
            unit_code=u.code,
            unit_name=u.name,
            kind="test",
            severity="info",
            title="测试消息",
            at=xapp.clock(),
            console_url=settings.alerts.console_url,
        )
        message = render(notice, tz=settings.timezone, templates=settings.alerts.templates)

        async def send_all() -> list[tuple[str, bool, str]]:
            out = []
            for c in targets:
                url = settings.channel_url(c)
                if url is None:
                    out.append((c, False, f"渠道 {c} 未在配置 [channels] 中定义"))
                    continue
                r = await deliver(
                    url,
                    message,
                    timeout=settings.alerts.send_timeout_seconds,
                    origins=settings.alerts.origins,
                    mentions=(hearer if note and hearer else u).duty_mobiles,  # 值班手机 ring too
                )
                out.append((channels.shown(settings, c), r.ok, r.error))
            return out

        results = anyio.run(send_all)
    if as_json:
        print_json([{"channel": c, "ok": ok, "error": e} for c, ok, e in results])
    else:
        console.print(f"测试消息：{u.name}{note}")
        for c, ok, e in results:
            console.print(f"  {'[green]送达[/]' if ok else '[red]失败[/]'} {c} {e}")
    if not all(ok for _, ok, _ in results):
        raise typer.Exit(1)
