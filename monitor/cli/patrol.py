"""Commands that patrol: init, check, recheck, run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor.cli.common import (
    EXIT_PROBLEMS,
    EXIT_USAGE,
    fail,
    iso,
    local,
    open_app,
    out,
    print_json,
    state,
)
from monitor.cli.options import JsonOpt

if TYPE_CHECKING:
    from monitor.app import App
    from monitor.patrol.pipeline import CheckResult


def init(ctx: typer.Context) -> None:
    """创建数据库，或把它升级到本程序的结构。"""
    from sqlalchemy.engine import make_url

    from monitor.store.engine import make_engine, upgrade

    console = out(ctx)
    settings = state(ctx).settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    if before == after:
        console.print(f"数据库已是最新结构（{after}）：{where}")
    else:
        console.print(f"数据库已升级 {before or '空'} → {after}：{where}")
    if before is None:
        console.print(
            "下一步：xuncha registry import registry.xlsx 导入登记表"
            "（示例工作簿：xuncha registry template registry.xlsx）"
        )


def result_dict(r: CheckResult, tz: str) -> dict[str, Any]:
    from monitor.show.views import snapshot_dict

    return {
        "account": r.account.id,
        "snapshot": snapshot_dict(r.snapshot, tz),
        "signals": [
            {
                "kind": s.kind,
                "severity": s.severity.value,
                "title": s.title,
                "detail": s.detail,
                "rule": s.rule,
                "deadline": iso(s.deadline, tz),
                "evidence": s.evidence,
            }
            for s in r.signals
        ],
        "changes": [
            {"event": c.event, "finding": c.finding.id, "kind": c.finding.kind} for c in r.changes
        ],
    }


async def check_many(app: App, account_ids: list[str]) -> list[CheckResult]:
    from monitor.patrol.pipeline import check

    async with app.probing() as tools:
        return [await check(app, tools, a) for a in account_ids]


def check_cmd(
    ctx: typer.Context,
    accounts: Annotated[
        list[str], typer.Argument(metavar="账号编号", help="要巡查的账号（可多个）")
    ],
    as_json: JsonOpt = False,
) -> None:
    """立即巡查账号并记录快照；发现问题时退出码为 1。"""
    import anyio
    from rich.markup import escape

    from monitor.patrol.pipeline import CheckError
    from monitor.show.labels import OUTCOME, SEVERITY, label
    from monitor.show.terminal import SEVERITY_STYLE

    console = out(ctx)
    with open_app(ctx, calendar=True) as app:
        try:
            results = anyio.run(check_many, app, accounts)
        except CheckError as e:
            fail(str(e), EXIT_USAGE)
        tz = app.settings.timezone
        if as_json:
            data = [result_dict(r, tz) for r in results]
            print_json(data[0] if len(data) == 1 else data)
        else:
            for r in results:
                snap = r.snapshot
                console.print(
                    f"[bold]{escape(r.account.name)}[/]（{escape(r.account.id)}）快照 #{snap.id}："
                    f"{label(OUTCOME, snap.outcome)}，最新发布 {local(snap.latest_post_at, tz)}"
                    + (f"，{escape(snap.detail)}" if snap.detail else "")
                )
                for s in r.signals:
                    style = SEVERITY_STYLE.get(s.severity.value, "")
                    console.print(
                        f"  [{style}]{label(SEVERITY, s.severity.value)}[/]：{escape(s.title)}"
                        if style
                        else f"  {label(SEVERITY, s.severity.value)}：{escape(s.title)}"
                    )
        if any(r.signals for r in results):
            raise typer.Exit(EXIT_PROBLEMS)


def recheck_cmd(
    ctx: typer.Context,
    accounts: Annotated[
        list[str] | None, typer.Argument(metavar="账号编号", help="要检查的账号（可多个）")
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="全部账号")] = False,
    full: Annotated[
        bool, typer.Option("--full", help="完整读取页面（不使用上次的缓存，重新判断全部规则）")
    ] = False,
) -> None:
    """让运行中的 xuncha run 立即检查这些账号。

    故障恢复、平台修复或登记表更正之后使用：运行中的 xuncha run 会在一秒内由有空位的节点执行；
    本命令自身不巡查。
    """
    from monitor.patrol.claims import make_due

    if not everything and not accounts:
        fail("请给出账号编号，或用 --all 表示全部账号", EXIT_USAGE)
    console = out(ctx)
    with open_app(ctx) as app:
        n = make_due(app.engine, None if everything else accounts, app.clock(), full=full)
    what = "完整读取" if full else "检查"
    console.print(f"已安排立即{what} {n} 个账号（由运行中的 xuncha run 执行）。")
    if not everything and n < len(set(accounts or [])):
        fail("部分账号不在登记表中，或 xuncha run 尚未为其安排巡查", EXIT_PROBLEMS)


def run_cmd(
    ctx: typer.Context,
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            metavar="角色",
            help="本节点的角色：probe（巡查）、alerts（提醒）、web（控制台），"
            "可重复或用逗号分隔；默认全部（多节点见 docs/scale-out.md）",
        ),
    ] = None,
) -> None:
    """长期运行巡查（守护进程），直到收到 SIGTERM；SIGHUP 重新读取配置。"""
    from functools import partial

    import anyio

    from monitor.patrol.cluster import RoleError, check_roles, parse_roles
    from monitor.patrol.daemon import run

    st = state(ctx)
    try:
        roles = parse_roles(role)
        check_roles(roles, st.settings.database_url)
    except RoleError as e:
        fail(str(e), EXIT_USAGE)
    with open_app(ctx, calendar=True):  # refuses an old schema before anything starts
        pass
    anyio.run(partial(run, st.settings, config_path=st.config_path, roles=roles, clock=st.clock))
