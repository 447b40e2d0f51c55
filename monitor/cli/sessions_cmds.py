"""``xuncha sessions``: the logged-in platform sessions the patrol uses (``monitor.sessions``).

No command prints a cookie value: a listing shows what a session is and how it fares.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor.cli.chinese import Typer
from monitor.cli.common import (
    EXIT_PROBLEMS,
    EXIT_USAGE,
    fail,
    local,
    open_app,
    out,
    print_json,
)
from monitor.cli.options import ByOpt, JsonOpt

if TYPE_CHECKING:
    from monitor.app import App
    from monitor.store.models import Account

app = Typer(
    help="平台登录会话：巡查用运营人员提供的登录状态读取小红书、抖音等平台。\n\n"
    "这些平台不向未登录访客展示内容；会话的 Cookie 加密保存，同一平台的会话轮流使用。"
)


def _by(by: str | None) -> str:
    import getpass

    return by or getpass.getuser()


@app.command("list")
def sessions_list(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="包括已删除的")] = False,
    as_json: JsonOpt = False,
) -> None:
    """列出登录会话：状态、最近一次成功使用、到期时间、使用间隔（不显示 Cookie）。"""
    from sqlmodel import Session

    from monitor.sessions.manage import session_dict
    from monitor.show.terminal import Col, print_rows
    from monitor.store import sessions as store

    with open_app(ctx, rules=False) as xapp, Session(xapp.engine) as s:
        tz = xapp.settings.timezone
        found = store.listing(s, ended=show_all)
        data = [session_dict(r, tz) for r in found]
        rows = [
            (d["id"], d["platform_name"], d["label"], d["state_name"],
             local(r.last_good_at, tz), local(r.expires_at, tz), f"{d['pace_seconds']:g} 秒",
             local(r.last_used_at, tz), d["ended_why"] or (f"连续 {d['walls']} 次登录墙"
                                                            if d["walls"] else ""))
            for r, d in zip(found, data, strict=True)
        ]  # fmt: skip
    if as_json:
        print_json(data)
        return
    console = out(ctx)
    if not data:
        console.print(
            "还没有登录会话。导入：xuncha sessions add xiaohongshu cookies.txt；"
            "或在控制台“登录会话”页扫码登录。",
            markup=False,
        )
        return
    header = ["编号", "平台", "名称", "状态", "最近成功", "到期", "间隔", "最近使用", "说明"]
    print_rows(
        console, [Col(h, wrap=h == "说明") for h in header], rows, f"登录会话 {len(rows)} 个"
    )


@app.command("add")
def sessions_add(
    ctx: typer.Context,
    platform: Annotated[str, typer.Argument(metavar="平台", help="如 xiaohongshu、douyin、weibo")],
    file: Annotated[
        Path,
        typer.Argument(
            metavar="文件", help="浏览器导出的 Cookie：cookies.txt，或 Cookie-Editor 等导出的 JSON"
        ),
    ],
    label: Annotated[str, typer.Option("--label", metavar="名称", help="便于辨认，如 运营号")] = "",
    pace: Annotated[
        float | None,
        typer.Option("--pace", metavar="秒数", help="两次使用之间至少间隔多少秒（默认按平台）"),
    ] = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """导入一个登录会话：从登录后的浏览器导出该平台的 Cookie，加密保存，巡查轮流使用。

    只保留该平台的 Cookie，其他网站的丢弃并说明。

    Cookie 加密后存入数据库，密钥来自环境变量 XUNCHA_SESSION_KEY
    或 [sessions] key_file（首次使用时生成）。
    """
    from monitor.sessions.cookiefile import CookieFileError
    from monitor.sessions.manage import SessionError, import_file, name_of, platform_code
    from monitor.store.audit import cli_actor
    from monitor.store.sealing import SealError

    try:
        code = platform_code(platform)
    except SessionError as e:
        fail(str(e), EXIT_USAGE)
    try:
        data = file.read_bytes()
    except OSError as e:
        fail(f"无法读取文件 {file}：{e.strerror or e}", EXIT_USAGE)
    with open_app(ctx, rules=False) as xapp:
        tz = xapp.settings.timezone
        try:
            row, kept = import_file(
                xapp.engine, xapp.settings, code, data, label=label, pace=pace, by=_by(by),
                now=xapp.clock(), actor=cli_actor(),
            )  # fmt: skip
        except CookieFileError as e:
            fail(f"{file}：{e}", EXIT_USAGE)
        except (SessionError, SealError) as e:
            fail(str(e), EXIT_USAGE)
        notes = kept.notes(name_of(code))
        if as_json:
            from monitor.sessions.manage import session_dict

            print_json({**session_dict(row, tz), "format": kept.fmt, "notes": notes})
            return
        console = out(ctx)
        expiry = f"，登录 Cookie 最早于 {local(row.expires_at, tz)} 到期" if row.expires_at else ""
        console.print(
            f"已保存{name_of(code)}登录会话 #{row.id}：{kept.fmt} 中的 {row.cookie_count} 个 "
            f"Cookie，每 {row.pace_seconds:g} 秒最多使用一次{expiry}。",
            markup=False,
        )
        for note in notes:
            console.print(f"  {note}", markup=False)
        console.print(
            f"试用：xuncha sessions test {row.id}（运行中的巡查在 30 秒内开始使用）", markup=False
        )


@app.command("remove")
def sessions_remove(
    ctx: typer.Context,
    session_id: Annotated[int, typer.Argument(metavar="会话编号", help="见 xuncha sessions list")],
    by: ByOpt = None,
) -> None:
    """删除一个登录会话：巡查不再使用，其 Cookie 从数据库中抹去。"""
    from monitor.sessions.manage import SessionError, name_of, remove
    from monitor.store.audit import cli_actor

    with open_app(ctx, rules=False) as xapp:
        try:
            row = remove(xapp.engine, session_id, _by(by), xapp.clock(), cli_actor())
        except SessionError as e:
            fail(str(e), EXIT_USAGE)
    out(ctx).print(f"已删除{name_of(row.platform)}登录会话 #{session_id}。", markup=False)


@app.command("test")
def sessions_test(
    ctx: typer.Context,
    which: Annotated[
        str, typer.Argument(metavar="会话编号或平台", help="一个会话，或该平台的每个可用会话")
    ],
    account: Annotated[
        str | None,
        typer.Option(metavar="账号编号", help="读取哪个账号（默认该平台登记的第一个账号）"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """用登录会话立即读取该平台的一个登记账号，说明是否看到了内容、是否遇到登录墙。

    不保存快照。看到内容记为最近一次成功使用；遇到登录墙按巡查的规则计数，连续达到
    [sessions] walls_to_expire 次即标记为失效并通知运维。全部看到内容时退出码为 0。
    """
    import anyio

    from monitor.sessions.manage import SessionError
    from monitor.store.sealing import SealError

    with open_app(ctx, rules=False) as xapp:
        ids, platform = _which(xapp, which)
        target = _account(xapp, platform, account)
        try:
            results = anyio.run(_test_all, xapp, ids, target)
        except (SessionError, SealError) as e:
            fail(str(e), EXIT_USAGE)
    if as_json:
        print_json(results)
    else:
        console = out(ctx)
        for r in results:
            console.print(r["said"], markup=False)
    if not all(r["verdict"] == "good" for r in results):
        raise typer.Exit(EXIT_PROBLEMS)


def _which(xapp: App, which: str) -> tuple[list[int], str]:
    """Session ids and their platform, from an id or a platform."""
    from sqlmodel import Session

    from monitor.sessions.manage import SessionError, platform_code
    from monitor.store import sessions as store

    with Session(xapp.engine) as s:
        if which.strip().isdigit():
            row = store.get(s, int(which))
            if row is None or row.state == store.REMOVED:
                fail(f"没有会话 #{which}", EXIT_USAGE)
            return [int(which)], row.platform
        try:
            code = platform_code(which)
        except SessionError as e:
            fail(str(e), EXIT_USAGE)
        ids = [r.id for r in store.listing(s) if r.platform == code and r.state == store.ACTIVE]
    if not ids:
        fail(f"{which} 没有可用的登录会话：先用 xuncha sessions add 导入", EXIT_PROBLEMS)
    return [i for i in ids if i is not None], code


def _account(xapp: App, platform: str, account_id: str | None) -> Account:
    from sqlmodel import Session, col, select

    from monitor.sessions.manage import name_of
    from monitor.store.models import Account

    with Session(xapp.engine) as s:
        if account_id:
            acc = s.get(Account, account_id)
            if acc is None:
                fail(f"没有账号 {account_id}", EXIT_USAGE)
            if acc.platform != platform:
                fail(f"账号 {account_id} 不是{name_of(platform)}账号", EXIT_USAGE)
            return acc
        acc = s.exec(
            select(Account)
            .where(col(Account.platform) == platform, col(Account.status) == "active")
            .order_by(col(Account.id))
        ).first()
    if acc is None:
        fail(f"没有登记{name_of(platform)}账号，无法测试；可用 --account 指定", EXIT_PROBLEMS)
    return acc


async def _test_all(xapp: App, ids: list[int], account: Account) -> list[dict[str, Any]]:
    from monitor.patrol.pipeline import target_for
    from monitor.sessions.manage import lease, name_of
    from monitor.show.labels import OUTCOME, label
    from probes.platforms import observe

    results = []
    async with xapp.probing() as tools:
        for session_id in ids:
            session = lease(xapp.engine, xapp.settings, session_id, xapp.clock())
            obs = await observe(target_for(account, xapp.settings), tools.signed_in(session))
            verdict = await xapp.sessions.done(session, obs, account.id)
            who = f"会话 #{session.id}（{name_of(session.platform)}" + (
                f"“{session.label}”）" if session.label else "）"
            )
            head = f"{who}读取账号 {account.id}（{account.name}）："
            if verdict == "good":
                said = head + f"看到内容（{len(obs.posts)} 条）。"
            elif verdict in ("wall", "expired"):
                said = head + "遇到登录墙" + (f"（{obs.detail}）" if obs.detail else "") + (
                    "，该会话已标记为失效，已通知运维。" if verdict == "expired"
                    else f"；再连续遇到将标记为失效（[sessions] walls_to_expire = "
                    f"{xapp.settings.sessions.walls_to_expire}）。"
                )  # fmt: skip
            else:
                said = (
                    head
                    + f"未看到内容：{label(OUTCOME, obs.outcome.value)}"
                    + (f"，{obs.detail}" if obs.detail else "")
                )
            results.append({
                "session": session.id, "platform": session.platform, "account": account.id,
                "outcome": obs.outcome.value, "posts": len(obs.posts),
                "login_required": obs.login_required, "detail": obs.detail,
                "verdict": verdict or "unseen", "said": said,
            })  # fmt: skip
    return results
