"""``xuncha web`` (serve the console) and ``xuncha users`` (console users and API tokens)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.chinese import Typer
from monitor.cli.common import EXIT_USAGE, fail, iso, local, open_app, out, print_json, state
from monitor.cli.options import JsonOpt, PasswordStdinOpt

if TYPE_CHECKING:
    from datetime import datetime

    from monitor.app import App
    from monitor.store.models import ApiToken

app = Typer(help="控制台用户与 API 令牌：添加、列出、改密码、角色、动态口令、停用、会话、令牌。")
ROLE_HELP = (
    "admin（管理员：全部单位）、supervisor（主管：本单位及下级单位）、duty（值班：本单位）、"
    "system（系统管理员）、security（安全管理员）或 audit（审计管理员）"
)


def web(
    ctx: typer.Context,
    address: Annotated[
        str | None, typer.Option(metavar="地址", help="监听地址（默认取配置 [web] address）")
    ] = None,
    port: Annotated[
        int | None, typer.Option(metavar="端口", help="端口（默认取配置 [web] port）")
    ] = None,
) -> None:
    """启动网页控制台与 JSON API，直到 Ctrl-C 或 SIGTERM。

    启动后打印控制台的地址；用户用 xuncha users add 添加。
    """
    from monitor.web.server import run_standalone

    settings = state(ctx).settings
    over = {k: v for k, v in (("address", address), ("port", port)) if v is not None}
    if over:
        settings = settings.model_copy(update={"web": settings.web.model_copy(update=over)})
    console = out(ctx)

    def listening(bound: int) -> None:
        console.print(f"控制台：{console_url(settings.web.address, bound)}（Ctrl-C 停止）")
        if settings.alerts.console_url:
            console.print(f"消息中的链接指向：{settings.alerts.console_url}")
        console.file.flush()

    with open_app(ctx, calendar=True) as xapp:
        xapp.settings = settings
        try:
            run_standalone(xapp, settings, on_listening=listening)
        except OSError as e:
            fail(f"无法在 {settings.web.address}:{settings.web.port} 上监听：{e}")


def console_url(address: str, port: int) -> str:
    """The address to open in a browser: a wildcard address is reached on this machine."""
    wildcard = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}
    host = wildcard.get(address) or (f"[{address}]" if ":" in address else address)
    url = f"http://{host}:{port}/"
    return f"{url}（监听所有地址）" if address in wildcard else url


def _read_password(from_stdin: bool, prompt: str = "密码") -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:  # asked twice here, not by click's confirmation_prompt, whose mismatch is English
        password = typer.prompt(prompt, hide_input=True)
        if typer.prompt("再输入一次", hide_input=True) != password:
            fail("两次输入的密码不一致，未作修改", EXIT_USAGE)
    if not password:
        fail("密码不能为空", EXIT_USAGE)
    return password


@app.command("add")
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="用户名", help="登录用的名字")],
    role: Annotated[str, typer.Option(metavar="角色", help=ROLE_HELP)],
    unit: Annotated[
        str | None,
        typer.Option(metavar="单位编码", help="所属单位（supervisor 含其下级单位；duty 仅本单位）"),
    ] = None,
    password_stdin: PasswordStdinOpt = False,
) -> None:
    """添加控制台用户；密码交互输入两次，或用 --password-stdin 从标准输入读一行。

    密码须符合 [web] 的密码策略（默认：至少 8 个字符，含大写字母、小写字母、数字、
    其他符号中的至少 3 类，不能包含用户名）。系统管理员、安全管理员、审计管理员
    不属于某个单位，也看不到任何单位的数据。
    """
    from monitor.store import audit
    from monitor.store.engine import session_scope
    from monitor.web.auth import ROLES, PasswordPolicy, UserError, add_user
    from monitor.web.roles import role_names

    if role not in ROLES:
        fail(f"角色 '{role}' 无效，应为 {role_names()} 之一", EXIT_USAGE)
    password = _read_password(password_stdin)
    with open_app(ctx) as xapp:
        policy, now = PasswordPolicy.of(xapp.settings.web), xapp.clock()
        try:
            with session_scope(xapp.engine) as s:
                user = add_user(s, name, role, unit, password, now, policy)
                label = ROLES[user.role]
                audit.record(s, audit.cli_actor(), "user_add", now, target=user.name,
                             detail={"role": role, "unit": user.unit_code})  # fmt: skip
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    out(ctx).print(f"已添加用户 {name}（{label}{'，' + unit if unit else ''}）。", markup=False)


@app.command("list")
def users_list(
    ctx: typer.Context,
    as_json: JsonOpt = False,
) -> None:
    """列出控制台用户：角色、单位、状态、有效的 API 令牌数。"""
    from sqlmodel import Session, col, select

    from monitor.show.terminal import Col, print_rows
    from monitor.store.models import ApiToken, User
    from monitor.web.auth import ROLES, token_state

    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        users = s.exec(select(User).order_by(col(User.name))).all()
        now = xapp.clock()
        tokens: dict[int, int] = {}  # valid ones: neither revoked nor expired
        for t in s.exec(select(ApiToken)).all():
            if token_state(t, now) == "active":
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
                        "totp": u.totp_secret is not None,
                        "created_at": iso(u.created_at, tz),
                        "api_tokens": tokens.get(u.id or 0, 0),
                    }
                    for u in users
                ]
            )
            return
        header = ["用户名", "角色", "单位", "状态", "动态口令", "有效令牌", "创建于"]
        rows = [
            (u.name, ROLES.get(u.role, u.role), _unit_shown(u.role, u.unit_code),
             "已停用" if u.disabled else "启用", "已绑定" if u.totp_secret else "—",
             tokens.get(u.id or 0, 0), local(u.created_at, tz))
            for u in users
        ]  # fmt: skip
        columns = [
            Col(h, wrap=h == "单位", justify="right" if h == "有效令牌" else "left") for h in header
        ]
        print_rows(out(ctx), columns, rows, f"用户 {len(users)} 个")


def _unit_shown(role: str, unit_code: str | None) -> str:
    from monitor.web.roles import ADMIN_ROLES

    return "—" if role in ADMIN_ROLES else unit_code or "全部"


@app.command("passwd")
def users_passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="用户名", help="要改密码的用户")],
    password_stdin: PasswordStdinOpt = False,
    keep_tokens: Annotated[
        bool, typer.Option("--keep-tokens", help="保留该用户的 API 令牌（默认全部吊销）")
    ] = False,
) -> None:
    """修改用户密码：其控制台会话全部失效，API 令牌全部吊销（--keep-tokens 保留）。

    新密码须符合 [web] 的密码策略，且不能与最近几次的密码相同。
    因密码错误而暂停的登录随即恢复。
    """
    from monitor.store import audit
    from monitor.store.engine import session_scope
    from monitor.web.auth import PasswordPolicy, UserError, get_user, set_password

    with open_app(ctx) as xapp:
        policy, now = PasswordPolicy.of(xapp.settings.web), xapp.clock()
        try:
            with session_scope(xapp.engine) as s:
                user = get_user(s, name)
                password = _read_password(password_stdin, "新密码")
                revoked = set_password(
                    s, user, password, now, keep_tokens=keep_tokens, policy=policy
                )
                audit.record(s, audit.cli_actor(), "user_passwd", now, target=name,
                             detail={"tokens_revoked": revoked})  # fmt: skip
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    kept = "，API 令牌保留" if keep_tokens else f"，其 API 令牌已吊销 {revoked} 个"
    out(ctx).print(f"已修改用户 {name} 的密码{kept}。", markup=False)


def _token_row(t: ApiToken, now: datetime, tz: str) -> dict[str, object]:
    from monitor.web.auth import token_state

    return {
        "id": t.id,
        "label": t.label,
        "created_at": iso(t.created_at, tz),
        "expires_at": iso(t.expires_at, tz),
        "last_used_at": iso(t.last_used_at, tz),
        "revoked_at": iso(t.revoked_at, tz),
        "state": token_state(t, now),
    }


TOKEN_STATES = {"active": "有效", "expired": "已过期", "revoked": "已吊销"}


def _list_tokens(ctx: typer.Context, xapp: App, name: str, as_json: bool) -> None:
    from sqlmodel import Session

    from monitor.show.terminal import Col, print_rows
    from monitor.web.auth import UserError, get_user, token_state, user_tokens

    with Session(xapp.engine) as s:
        try:
            tokens = user_tokens(s, get_user(s, name))
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    now, tz = xapp.clock(), xapp.settings.timezone
    if as_json:
        print_json([_token_row(t, now, tz) for t in tokens])
        return
    rows = []
    for t in tokens:
        state_ = TOKEN_STATES[token_state(t, now)]
        if t.revoked_at is not None:
            state_ += f"（{local(t.revoked_at, tz)}）"
        rows.append((
            t.id, t.label or "—", local(t.created_at, tz),
            local(t.expires_at, tz) if t.expires_at else "不过期", local(t.last_used_at, tz),
            state_,
        ))  # fmt: skip
    columns = [Col("编号", justify="right"), Col("标签", wrap=True), Col("创建于"), Col("到期"),
               Col("最近使用"), Col("状态", wrap=True)]  # fmt: skip
    print_rows(out(ctx), columns, rows, f"用户 {name} 的令牌 {len(tokens)} 个")


@app.command("token")
def users_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="用户名", help="令牌所属的用户")],
    label: Annotated[
        str, typer.Option("--label", metavar="标签", help="新令牌的用途，如“值班大屏”")
    ] = "",
    expires_days: Annotated[
        int | None,
        typer.Option(
            "--expires-days", metavar="天数", min=1, help="新令牌在这么多天后过期（默认不过期）"
        ),
    ] = None,
    list_: Annotated[
        bool,
        typer.Option("--list", help="列出该用户的令牌：编号、标签、创建、到期、最近使用、状态"),
    ] = False,
    revoke: Annotated[
        int | None, typer.Option("--revoke", metavar="编号", help="吊销这个编号的令牌")
    ] = None,
    revoke_all: Annotated[bool, typer.Option("--revoke-all", help="吊销该用户的全部令牌")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="与 --list 同用：JSON 输出")] = False,
) -> None:
    """API 令牌：生成、列出、吊销。

    默认生成一个新令牌：令牌打印到标准输出，只显示这一次，其编号打印到标准错误。
    --list 列出该用户的令牌；--revoke 编号 吊销一个，--revoke-all 吊销全部。
    """
    from monitor.store import audit
    from monitor.store.engine import session_scope
    from monitor.web.auth import UserError, get_user, issue_api_token, revoke_tokens

    actions = [flag for flag, on in (("--list", list_), ("--revoke", revoke is not None),
                                     ("--revoke-all", revoke_all)) if on]  # fmt: skip
    if len(actions) > 1:
        fail(f"{' 与 '.join(actions)} 不能同时使用", EXIT_USAGE)
    if actions and (label or expires_days is not None):
        fail(f"--label 与 --expires-days 只用于生成新令牌，不能与 {actions[0]} 同用", EXIT_USAGE)
    if as_json and not list_:
        fail("--json 只与 --list 同用", EXIT_USAGE)
    with open_app(ctx) as xapp:
        if list_:
            _list_tokens(ctx, xapp, name, as_json)
            return
        now, tz = xapp.clock(), xapp.settings.timezone
        try:
            with session_scope(xapp.engine) as s:
                user = get_user(s, name)
                if actions:
                    revoked = revoke_tokens(s, user, now, revoke)
                    audit.record(s, audit.cli_actor(), "token_revoke", now, target=name,
                                 detail={"token": revoke or "all", "revoked": revoked})  # fmt: skip
                else:
                    row, token = issue_api_token(
                        s, user, now, label=label, expires_days=expires_days
                    )
                    token_id, expires_at = row.id, row.expires_at
                    audit.record(s, audit.cli_actor(), "token_issue", now, target=name,
                                 detail={"token": token_id, "label": label.strip(),
                                         "expires_days": expires_days})  # fmt: skip
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    if revoke is not None:
        done = "已吊销" if revoked else "此前已吊销"
        out(ctx).print(f"{done}用户 {name} 的令牌 #{revoke}。", markup=False)
        return
    if revoke_all:
        out(ctx).print(f"已吊销用户 {name} 的全部令牌（本次 {revoked} 个）。", markup=False)
        return
    sys.stdout.write(token + "\n")  # the one line a script reads: TOKEN=$(xuncha users token …)
    until = f"有效至 {local(expires_at, tz)}" if expires_at else "不过期"
    sys.stderr.write(
        f"令牌 #{token_id}（{label.strip() or '无标签'}，{until}）：请妥善保存，只显示这一次"
        f"（数据库只保存其哈希）；吊销用 xuncha users token {name} --revoke {token_id}\n"
    )


def _set_disabled(ctx: typer.Context, name: str, disabled: bool) -> None:
    from monitor.store import audit
    from monitor.store.engine import session_scope
    from monitor.web.auth import UserError, get_user, set_disabled

    with open_app(ctx) as xapp:
        now = xapp.clock()
        try:
            with session_scope(xapp.engine) as s:
                revoked = set_disabled(s, get_user(s, name), disabled, now)
                action = "user_disable" if disabled else "user_enable"
                audit.record(s, audit.cli_actor(), action, now, target=name,
                             detail={"tokens_revoked": revoked} if disabled else None)  # fmt: skip
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    console = out(ctx)
    if disabled:
        console.print(f"已停用用户 {name}，其 API 令牌已吊销 {revoked} 个。", markup=False)
    else:
        console.print(
            f"已启用用户 {name}。此前的 API 令牌不会恢复："
            f"需要时用 xuncha users token {name} 生成新的。",
            markup=False,
        )


@app.command("disable")
def users_disable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(metavar="用户名", help="要停用的用户")]
) -> None:
    """停用用户：其登录立即结束，API 令牌全部吊销。"""
    _set_disabled(ctx, name, True)


@app.command("enable")
def users_enable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(metavar="用户名", help="要启用的用户")]
) -> None:
    """重新启用用户：已吊销的 API 令牌不会恢复。"""
    _set_disabled(ctx, name, False)
