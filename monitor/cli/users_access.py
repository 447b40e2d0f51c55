"""``xuncha users role|totp|logout``: a user's role, their TOTP second factor, their logins.

Each is recorded in the audit log with the operating system's user who ran it (the CLI has
no login of its own: who may run it is the OS's to decide, docs/console.md).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from monitor.cli.common import EXIT_USAGE, fail, open_app, out
from monitor.cli.web_cmds import ROLE_HELP


def users_role(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="用户名", help="要改角色的用户")],
    role: Annotated[str, typer.Argument(metavar="角色", help=ROLE_HELP)],
    unit: Annotated[
        str | None,
        typer.Option(metavar="单位编码", help="所属单位（supervisor、duty 必填；三种管理员不填）"),
    ] = None,
) -> None:
    """更改用户的角色（与所属单位），下一次请求起生效。

    系统管理员管理配置、登记表与通知渠道，安全管理员管理用户、角色与会话，审计管理员
    只能查看审计记录；三者都看不到任何单位的数据。每个用户只有一个角色。
    """
    from monitor.store import audit
    from monitor.store.engine import session_scope
    from monitor.web.auth import ROLES, UserError, get_user, set_role

    with open_app(ctx) as xapp:
        now = xapp.clock()
        try:
            with session_scope(xapp.engine) as s:
                user = get_user(s, name)
                before = {"role": user.role, "unit": user.unit_code}
                set_role(s, user, role, unit)
                after = {"role": user.role, "unit": user.unit_code}
                audit.record(s, audit.cli_actor(), "user_role", now, target=name,
                             detail={"from": before, "to": after})  # fmt: skip
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    where = f"，单位 {after['unit']}" if after["unit"] else ""
    out(ctx).print(f"已将用户 {name} 的角色改为 {ROLES[role]}{where}。", markup=False)


def users_totp(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="用户名", help="要绑定动态口令的用户")],
    remove: Annotated[bool, typer.Option("--remove", help="解绑：此后只用密码登录")] = False,
) -> None:
    """为用户绑定动态口令（TOTP，第二种身份鉴别方式），打印 otpauth:// 地址。

    地址打印到标准输出（只此一次，其中含密钥）：用验证器应用扫描它的二维码，或手动输入
    其中的密钥。此后该用户登录控制台须同时输入密码和 6 位动态口令。再次运行会换新密钥，
    原有的随即失效；--remove 解绑。
    """
    from monitor.store import audit
    from monitor.store.engine import session_scope
    from monitor.web.auth import UserError, get_user
    from monitor.web.logins import enrol_totp, remove_totp
    from monitor.web.totp import provisioning_uri

    with open_app(ctx) as xapp:
        now, issuer = xapp.clock(), xapp.settings.web.totp_issuer
        try:
            with session_scope(xapp.engine) as s:
                user = get_user(s, name)
                if remove:
                    had = remove_totp(s, user)
                    if had:
                        audit.record(s, audit.cli_actor(), "user_totp_remove", now, target=name)
                else:
                    secret = enrol_totp(s, user)
                    audit.record(s, audit.cli_actor(), "user_totp", now, target=name)
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    if remove:
        done = "已解绑" if had else "本来就没有绑定"
        out(ctx).print(f"用户 {name} 的动态口令{done}：登录只需密码。", markup=False)
        return
    sys.stdout.write(provisioning_uri(secret, name, issuer) + "\n")
    sys.stderr.write(
        f"已为用户 {name} 绑定动态口令：用验证器应用（如 Microsoft Authenticator、FreeOTP）"
        f"扫描上面地址的二维码，或手动输入密钥 {secret}（每 30 秒 6 位）。"
        "此后登录须输入动态口令；地址与密钥只显示这一次。\n"
    )


def users_logout(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="用户名", help="要结束其登录的用户")],
) -> None:
    """结束用户在控制台的全部登录（各节点即时生效）；API 令牌不受影响。"""
    from monitor.store import audit
    from monitor.store.engine import session_scope
    from monitor.web.auth import UserError, end_sessions, get_user

    with open_app(ctx) as xapp:
        now = xapp.clock()
        try:
            with session_scope(xapp.engine) as s:
                ended = end_sessions(s, get_user(s, name))
                audit.record(s, audit.cli_actor(), "user_sessions_end", now, target=name,
                             detail={"sessions": ended})  # fmt: skip
        except UserError as e:
            fail(str(e), EXIT_USAGE)
    out(ctx).print(f"已结束用户 {name} 的 {ended} 个控制台登录。", markup=False)
