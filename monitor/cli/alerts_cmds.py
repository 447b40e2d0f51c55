"""``xuncha alerts``: the outbox as ops see it, a test message, and channel health."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.chinese import Typer
from monitor.cli.common import EXIT_USAGE, fail, iso, local, open_app, out, print_json
from monitor.cli.options import JsonOpt

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from monitor.alerting.settings import AlertingSettings
    from monitor.store.models import Notification

app = Typer(help="告警：发件箱、立即发送、向通知渠道发测试消息。")

STATUSES = ("pending", "sending", "sent", "dead", "held")


@app.command("outbox")
def outbox(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(
            metavar="状态",
            help="只看该状态：待发送、发送中、已发送、已放弃、暂存（渠道拒收），或其代码 "
            "pending、sending、sent、dead、held",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="最多显示多少条", min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """列出最近的消息及其状态，以及等待合并发送的问题和出了问题的渠道。"""
    from rich.markup import escape
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from monitor.alerting import AlertingSettings, channels
    from monitor.show.labels import DELIVERY
    from monitor.store.models import AlertItem, ChannelState, Notification, Unit

    if status is not None:
        by_name = {**{c: c for c in STATUSES}, **{DELIVERY[c]: c for c in STATUSES}}
        if status not in by_name:
            names = "、".join(DELIVERY[c] for c in STATUSES)
            fail(f"状态须为 {names} 之一（或其代码），不是 '{status}'", EXIT_USAGE)
        status = by_name[status]
    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        settings = AlertingSettings.of(xapp.settings)
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
        units = {u.code: u.name for u in s.exec(select(Unit)).all()}
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
        _print_outbox(out(ctx), rows, waiting, units, settings, tz)
        console = out(ctx)
        for st in states:
            name = escape(channels.shown(settings, st.channel))
            if st.broken_since:
                console.print(
                    f"[red]渠道 {name} 拒收[/]（自 {local(st.broken_since, tz)}）："
                    f"{escape(channels.scrubbed(settings, st.channel, st.broken_error))}"
                )
            else:
                console.print(f"[yellow]渠道 {name} 被限流[/]，至 {local(st.throttled_until, tz)}")


def _print_outbox(
    console: Console,
    rows: Sequence[Notification],
    waiting: Sequence[tuple[str, int, datetime]],
    units: dict[str, str],
    settings: AlertingSettings,
    tz: str,
) -> None:
    from monitor.alerting import channels
    from monitor.show.labels import DELIVERY, label
    from monitor.show.terminal import Col, cell, is_terminal, lines, terminal_table, write_tsv

    style = {"dead": "red", "held": "yellow", "pending": "", "sending": "", "sent": "green"}
    if not is_terminal(console):
        write_tsv(
            console,
            ["编号", "单位", "渠道", "标题", "条数", "状态", "次数", "下次/发送", "错误"],
            [(n.id, units.get(n.unit_code, n.unit_code), channels.shown(settings, n.channel),
              n.title, n.items or "", label(DELIVERY, n.status), n.attempts,
              local(n.sent_at or n.due_at, tz),
              channels.scrubbed(settings, n.channel, n.last_error)) for n in rows],
        )  # fmt: skip
    else:
        t = terminal_table(
            [Col("编号", justify="right"), Col("消息", wrap=True), Col("状态"), Col("发送/下次")],
            title=f"最近的消息 {len(rows)} 条",
        )
        for n in rows:
            error = channels.scrubbed(settings, n.channel, n.last_error)
            many = f" · {n.items} 个问题" if (n.items or 0) > 1 else ""
            where = f"{units.get(n.unit_code, n.unit_code)} · {channels.shown(settings, n.channel)}"
            t.add_row(
                cell(n.id),
                lines((n.title, ""), (where + many, "dim"), (error, "red")),
                lines((label(DELIVERY, n.status), style.get(n.status, "")),
                      (f"第 {n.attempts} 次" if n.attempts > 1 else "", "dim")),
                cell(local(n.sent_at or n.due_at, tz)),
            )  # fmt: skip
        console.print(t if rows else "发件箱是空的。")
    if waiting:
        if is_terminal(console):
            w = terminal_table(
                [Col("渠道", wrap=True), Col("等待合并的问题", justify="right"), Col("最早")],
                title="等待发送（合并或限流中）",
            )
            for c, k, since in waiting:
                w.add_row(cell(channels.shown(settings, c)), cell(k), cell(local(since, tz)))
            console.print(w)
        else:
            console.out("等待发送（合并或限流中）：", highlight=False)
            write_tsv(
                console,
                ["渠道", "等待合并的问题", "最早"],
                [(channels.shown(settings, c), k, local(since, tz)) for c, k, since in waiting],
            )


@app.command("flush")
def flush(ctx: typer.Context) -> None:
    """立即处理到期的提醒并发送消息，不必等 xuncha run；有发送失败时退出码为 1。"""
    import anyio

    from monitor.alerting import dispatch_once

    with open_app(ctx) as xapp:
        stats = anyio.run(lambda: dispatch_once(xapp.engine, xapp.settings, clock=xapp.clock))
    out(ctx).print(
        f"已发送 {stats.sent}，待重试 {stats.retried}，暂存 {stats.held}，放弃 {stats.dead}，"
        f"限流 {stats.throttled}"
    )
    if stats.retried or stats.dead or stats.held:
        raise typer.Exit(1)


@app.command("test")
def test_message(
    ctx: typer.Context,
    unit: Annotated[str, typer.Argument(metavar="单位编码", help="收测试消息的单位")],
    as_json: JsonOpt = False,
) -> None:
    """立即向一个单位的通知渠道发送测试消息，逐个报告结果；有失败时退出码为 1。"""
    import anyio
    from sqlmodel import Session

    from alerts.messages import render
    from alerts.notice import FindingNotice
    from alerts.send import deliver
    from monitor.alerting import AlertingSettings, channels
    from monitor.alerting.route import unit_line
    from monitor.store.models import Unit
    from probes.platforms import platform_name

    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        settings = AlertingSettings.of(xapp.settings)
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
            platform_label=platform_name("other"),
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
        from rich.markup import escape

        console = out(ctx)
        console.print(f"测试消息：{escape(u.name)}{escape(note)}")
        for c, ok, e in results:
            console.print(f"  {'[green]送达[/]' if ok else '[red]失败[/]'} {escape(c)} {escape(e)}")
    if not all(ok for _, ok, _ in results):
        raise typer.Exit(1)
