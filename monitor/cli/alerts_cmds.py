"""``xuncha alerts``: the outbox as ops see it."""

from __future__ import annotations

from typing import Annotated

import anyio
import typer
from rich.table import Table
from sqlmodel import Session, col, select

from alerts.send import mask_url
from monitor.cli.common import console, iso, local, open_app, print_json
from monitor.models import Notification
from monitor.outbox import dispatch_once

app = typer.Typer(help="告警发件箱 (alert outbox)", no_args_is_help=True)


@app.command("outbox")
def outbox(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="只看该状态: pending / sending / sent / dead")
    ] = None,
    limit: Annotated[int, typer.Option(help="最多显示多少条")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读的 JSON 输出")] = False,
) -> None:
    """列出待发、失败和已放弃的消息 (pending, failing and dead messages)."""
    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        q = select(Notification)
        q = q.where(Notification.status == status) if status else q
        rows = s.exec(q.order_by(col(Notification.id).desc()).limit(limit)).all()

        def target(n: Notification) -> str:
            return n.channel if n.channel.startswith("@") else mask_url(n.channel)

        if as_json:
            print_json(
                [
                    {
                        "id": n.id,
                        "finding": n.finding_id,
                        "unit": n.unit_code,
                        "channel": target(n),
                        "event": n.event,
                        "title": n.title,
                        "status": n.status,
                        "attempts": n.attempts,
                        "created_at": iso(n.created_at),
                        "due_at": iso(n.due_at),
                        "sent_at": iso(n.sent_at),
                        "last_error": n.last_error,
                    }
                    for n in rows
                ]
            )
            return
        tz = xapp.settings.timezone
        t = Table("编号", "单位", "渠道", "标题", "状态", "次数", "下次/发送", "错误")
        for n in rows:
            t.add_row(
                str(n.id),
                n.unit_code,
                target(n),
                n.title,
                n.status,
                str(n.attempts),
                local(n.sent_at or n.due_at, tz),
                n.last_error,
            )
        console.print(t)


@app.command("flush")
def flush(ctx: typer.Context) -> None:
    """立即发送到期的消息 (deliver due messages now, without the daemon)."""
    with open_app(ctx) as xapp:
        stats = anyio.run(dispatch_once, xapp.engine, xapp.settings)
    console.print(f"已发送 {stats.sent}，待重试 {stats.retried}，放弃 {stats.dead}")
    if stats.retried or stats.dead:
        raise typer.Exit(1)
