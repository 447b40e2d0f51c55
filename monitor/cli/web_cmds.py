"""``xuncha web`` (serve the console) and ``xuncha users`` (console users and API tokens)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session, col, select

from monitor.cli.common import EXIT_USAGE, console, fail, iso, local, open_app, print_json, state
from monitor.store.engine import session_scope
from monitor.store.models import ApiToken, User
from monitor.web.auth import (
    ROLES,
    UserError,
    add_user,
    get_user,
    new_api_token,
    set_disabled,
    set_password,
)

app = typer.Typer(help="控制台用户与 API 令牌 (console users and API tokens)", no_args_is_help=True)


def web(
    ctx: typer.Context,
    address: Annotated[str | None, typer.Option(help="监听地址（默认取 [web] address）")] = None,
    port: Annotated[int | None, typer.Option(help="端口（默认取 [web] port）")] = None,
) -> None:
    """启动网页控制台与 JSON API (serve the web console and API)."""
    from monitor.web.server import run_standalone

    settings = state(ctx).settings
    over = {k: v for k, v in (("address", address), ("port", port)) if v is not None}
    if over:
        settings = settings.model_copy(update={"web": settings.web.model_copy(update=over)})
    with open_app(ctx) as xapp:
        xapp.settings = settings
        try:
            run_standalone(xapp, settings)
        except OSError as e:
            fail(f"无法在 {settings.web.address}:{settings.web.port} 上监听：{e}")


def _read_password(from_stdin: bool, prompt: str = "密码") -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    if not password:
        fail("密码不能为空", EXIT_USAGE)
    return password


@app.command("add")
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="用户名")],
    role: Annotated[str, typer.Option(help="角色: admin / supervisor / duty")],
    unit: Annotated[
        str | None, typer.Option(help="所属单位编码（supervisor 含其下级单位；duty 仅本单位）")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读取密码（一行）")
    ] = False,
) -> None:
    """添加控制台用户 (add a console user)."""
    if role not in ROLES:
        fail(f"角色 '{role}' 无效，应为 admin、supervisor 或 duty", EXIT_USAGE)
    password = _read_password(password_stdin)
    with open_app(ctx) as xapp:
        try:
            with session_scope(xapp.engine) as s:
                user = add_user(s, name, role, unit, password, xapp.clock())
                label = ROLES[user.role]
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    console.print(f"已添加用户 {name}（{label}{'，' + unit if unit else ''}）。", highlight=False)


@app.command("list")
def users_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读的 JSON 输出")] = False,
) -> None:
    """列出控制台用户 (list console users)."""
    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        users = s.exec(select(User).order_by(col(User.name))).all()
        tokens: dict[int, int] = {}
        for t in s.exec(select(ApiToken)).all():
            tokens[t.user_id] = tokens.get(t.user_id, 0) + 1
        tz = xapp.settings.timezone
        if as_json:
            print_json(
                [
                    {
                        "name": u.name,
                        "role": u.role,
                        "unit": u.unit_code,
                        "disabled": u.disabled,
                        "created_at": iso(u.created_at, tz),
                        "api_tokens": tokens.get(u.id or 0, 0),
                    }
                    for u in users
                ]
            )
            return
        t = Table(
            "用户名", "角色", "单位", "状态", "API 令牌", "创建于", title=f"用户 {len(users)} 个"
        )
        for u in users:
            t.add_row(
                u.name,
                ROLES.get(u.role, u.role),
                u.unit_code or "全部",
                "已停用" if u.disabled else "启用",
                str(tokens.get(u.id or 0, 0)),
                local(u.created_at, tz),
            )
        console.print(t)


@app.command("passwd")
def users_passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="用户名")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读取密码（一行）")
    ] = False,
) -> None:
    """修改用户密码：其会话全部失效，因密码错误而暂停的登录随即恢复 (change a password)."""
    with open_app(ctx) as xapp:
        try:
            with session_scope(xapp.engine) as s:
                user = get_user(s, name)
                set_password(s, user, _read_password(password_stdin, "新密码"))
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    console.print(f"已修改用户 {name} 的密码。", highlight=False)


@app.command("token")
def users_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="用户名")],
) -> None:
    """为用户生成新的 API 令牌，只显示这一次 (print a new API token once)."""
    with open_app(ctx) as xapp:
        try:
            with session_scope(xapp.engine) as s:
                token = new_api_token(s, get_user(s, name), xapp.clock())
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    sys.stdout.write(token + "\n")
    if sys.stderr.isatty():
        sys.stderr.write("请妥善保存：令牌只显示这一次（数据库只保存其哈希）。\n")


def _set_disabled(ctx: typer.Context, name: str, disabled: bool) -> None:
    with open_app(ctx) as xapp:
        try:
            with session_scope(xapp.engine) as s:
                set_disabled(s, get_user(s, name), disabled)
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    console.print(f"已{'停用' if disabled else '启用'}用户 {name}。", highlight=False)


@app.command("disable")
def users_disable(ctx: typer.Context, name: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """停用用户：其登录与 API 令牌立即失效 (disable a user)."""
    _set_disabled(ctx, name, True)


@app.command("enable")
def users_enable(ctx: typer.Context, name: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """重新启用用户 (enable a user again)."""
    _set_disabled(ctx, name, False)
