"""Read-only listings: accounts, findings, history. Each has ``--json``, in the shapes of
``monitor.show.views`` (shared with the console's API)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session, col, select

from monitor.cli.common import EXIT_PROBLEMS, console, fail, local, open_app, print_json
from monitor.registry.accounts import reader_for, ruleset_for
from monitor.show.labels import KIND, OUTCOME, PLATFORM, SEVERITY, STATUS, label
from monitor.show.views import account_dict, finding_dict
from monitor.store.models import Account, Finding, Unit

JsonOpt = Annotated[bool, typer.Option("--json", help="机器可读的 JSON 输出")]


def accounts(
    ctx: typer.Context,
    unit: Annotated[str | None, typer.Option(help="只列出该单位（编码）的账号")] = None,
    platform: Annotated[str | None, typer.Option(help="只列出该平台的账号")] = None,
    as_json: JsonOpt = False,
) -> None:
    """列出登记的账号 (list registered accounts)."""
    with open_app(ctx) as app, Session(app.engine) as s:
        q = select(Account, Unit).join(Unit, col(Unit.code) == col(Account.owner_code))
        if unit:
            q = q.where(Account.owner_code == unit)
        if platform:
            q = q.where(Account.platform == platform)
        rows = s.exec(q.order_by(col(Account.id))).all()
        if as_json:
            print_json([account_dict(a, u) for a, u in rows])
            return
        t = Table(
            "编号", "平台", "名称", "主办单位", "规则", "读取", "状态", title=f"账号 {len(rows)} 个"
        )
        for a, u in rows:
            t.add_row(
                a.id,
                label(PLATFORM, a.platform),
                a.name,
                u.name,
                ruleset_for(a),
                reader_for(a),
                label(STATUS, a.status),
            )
        console.print(t)


def findings(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="包括已解决的问题")] = False,
    unit: Annotated[str | None, typer.Option(help="只看该单位（编码）")] = None,
    account: Annotated[str | None, typer.Option(help="只看该账号")] = None,
    as_json: JsonOpt = False,
) -> None:
    """列出发现的问题 (list findings; open ones unless --all). Exit 1 if any is open."""
    with open_app(ctx) as app, Session(app.engine) as s:
        q = select(Finding, Account).join(Account, col(Account.id) == col(Finding.account_id))
        if not show_all:
            q = q.where(Finding.status == "open")
        if unit:
            q = q.where(Account.owner_code == unit)
        if account:
            q = q.where(Finding.account_id == account)
        rows = s.exec(q.order_by(col(Finding.opened_at).desc())).all()
        tz = app.settings.timezone
        if as_json:
            print_json([finding_dict(f, a, tz) for f, a in rows])
        else:
            t = Table("编号", "账号", "主办单位", "级别", "问题", "期限", "发现于", "状态")
            for f, a in rows:
                t.add_row(
                    str(f.id),
                    f"{a.name}（{label(PLATFORM, a.platform)}）",
                    a.owner_code,
                    label(SEVERITY, f.severity),
                    # what the detector said, then the kind's label (as the console shows it)
                    f"{escape(f.title)}\n[dim]{escape(label(KIND, f.kind))}[/]",
                    local(f.deadline, tz),
                    local(f.opened_at, tz),
                    label(STATUS, f.status),
                )
            console.print(t if rows else "没有未解决的问题。")
        if any(f.status == "open" for f, _ in rows):
            raise typer.Exit(EXIT_PROBLEMS)


def history(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="账号编号")],
    limit: Annotated[int, typer.Option(help="最多显示多少条快照", min=1, max=1000)] = 20,
    before: Annotated[
        int | None, typer.Option("--before", help="从该快照之前接着列（翻页：上一页最后的编号）")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """一个账号的快照历史 (an account's snapshots, newest first, paged with --before)."""
    from monitor.store.history import account_history

    with open_app(ctx) as app, Session(app.engine) as s:
        a = s.get(Account, account)
        if a is None:
            fail(f"账号 '{account}' 不在登记表中", 2)
        snaps = account_history(s, account, before_id=before, limit=limit)
        next_before = snaps[-1].id if len(snaps) == limit else None
        found = s.exec(
            select(Finding).where(Finding.account_id == account).order_by(col(Finding.opened_at))
        ).all()
        tz = app.settings.timezone
        if as_json:
            print_json(
                {
                    "account": account_dict(a, s.get(Unit, a.owner_code)),
                    "snapshots": [{**x.to_dict(tz), "account": x.account_id} for x in snaps],
                    "next_before": next_before,
                    "findings": [finding_dict(f, a, tz) for f in found],
                }
            )
            return
        t = Table(
            "快照", "时间", "结果", "最新发布", "条数", "说明", title=f"{escape(a.name)} 的快照"
        )
        for x in snaps:
            t.add_row(
                str(x.id),
                local(x.taken_at, tz),
                label(OUTCOME, x.outcome),
                local(x.latest_post_at, tz),
                str(x.post_count),
                escape(x.detail),
            )
        console.print(t)
        if next_before is not None:
            console.print(f"  更早的快照：xuncha history {account} --before {next_before}")
        for f in found:
            console.print(
                f"  问题 #{f.id} [{label(STATUS, f.status)}] {label(KIND, f.kind)}: "
                f"{escape(f.title)}",
                highlight=False,
            )
