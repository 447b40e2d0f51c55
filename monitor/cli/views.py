"""Read-only listings: accounts, findings, history. Each has ``--json``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session, col, select

from monitor.cli.common import EXIT_PROBLEMS, console, fail, iso, local, open_app, print_json
from monitor.patrol.pipeline import reader_for, ruleset_for
from monitor.show.labels import KIND, OUTCOME, PLATFORM, SEVERITY, STATUS, label
from monitor.show.times import DEFAULT_TZ
from monitor.store.models import Account, Finding, Snapshot, Unit

JsonOpt = Annotated[bool, typer.Option("--json", help="机器可读的 JSON 输出")]


def account_dict(a: Account, unit: Unit | None) -> dict[str, Any]:
    return {
        "id": a.id,
        "platform": a.platform,
        "name": a.name,
        "handle": a.handle,
        "url": a.url,
        "reader": reader_for(a),
        "owner": a.owner_code,
        "owner_name": unit.name if unit else None,
        "kind": a.kind,
        "ruleset": ruleset_for(a),
        "status": a.status,
        "interval_minutes": a.interval_minutes,
        "options": a.options,
    }


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


def finding_dict(f: Finding, a: Account, tz: str = DEFAULT_TZ) -> dict[str, Any]:
    """A finding for ``--json`` and the API: times in the display zone; ``evidence`` as stored
    (its times stay the UTC ISO strings the check wrote: it is the record)."""
    return {
        "id": f.id,
        "account": a.id,
        "account_name": a.name,
        "platform": a.platform,
        "unit": a.owner_code,
        "kind": f.kind,
        "severity": f.severity,
        "status": f.status,
        "title": f.title,
        "detail": f.detail,
        "rule": f.rule,
        "deadline": iso(f.deadline, tz),
        "opened_at": iso(f.opened_at, tz),
        "updated_at": iso(f.updated_at, tz),
        "resolved_at": iso(f.resolved_at, tz),
        "acknowledged_at": iso(f.acknowledged_at, tz),
        "acknowledged_by": f.acknowledged_by,
        "notified_at": iso(f.notified_at, tz),
        "escalated_at": iso(f.escalated_at, tz),
        "first_snapshot": f.first_snapshot_id,
        "last_snapshot": f.last_snapshot_id,
        "evidence": f.evidence,
    }


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
                    f.title,
                    local(f.deadline, tz),
                    local(f.opened_at, tz),
                    label(STATUS, f.status),
                )
            console.print(t if rows else "没有未解决的问题。")
        if any(f.status == "open" for f, _ in rows):
            raise typer.Exit(EXIT_PROBLEMS)


def snapshot_dict(snap: Snapshot, tz: str = DEFAULT_TZ) -> dict[str, Any]:
    return {
        "id": snap.id,
        "account": snap.account_id,
        "taken_at": iso(snap.taken_at, tz),
        "node": snap.node,
        "reader": snap.reader,
        "url": snap.url,
        "final_url": snap.final_url,
        "outcome": snap.outcome,
        "status_code": snap.status_code,
        "detail": snap.detail,
        "elapsed_ms": snap.elapsed_ms,
        "latest_post_at": iso(snap.latest_post_at, tz),
        "post_count": snap.post_count,
        "facts_hash": snap.facts_hash,
        "artifacts": snap.artifacts,
    }


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
    from rich.markup import escape

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
