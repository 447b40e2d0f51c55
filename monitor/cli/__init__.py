"""The ``xuncha`` command line (typer; help and usage errors in Chinese: ``chinese.py``).

Every listing has ``--json``. Exit codes: 0 ok, 1 problems found or command failed, 2 bad
usage or bad input. Importing this package loads only the commands' signatures: each
command imports what it uses when it runs, so ``xuncha --help`` answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.cli import (
    alerts_cmds,
    audit_cmds,
    db_cmds,
    lists_cmds,
    registry_cmds,
    report_cmds,
    routes_cmds,
    sessions_cmds,
    silence_cmds,
    users_access,
    views,
    web_cmds,
)
from monitor.cli.chinese import Typer
from monitor.cli.common import State, out, state
from monitor.cli.doctor import doctor
from monitor.cli.duty import ack, confirm, dismiss, rectify
from monitor.cli.patrol import check_cmd, init, recheck_cmd, run_cmd

app = Typer(
    name="xuncha",
    help="巡查：定时巡查政务新媒体账号，保存证据快照，及时提醒主办单位。\n\n"
    "先试试：xuncha demo（离线演示，不需要网络）。",
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", metavar="文件", help="配置文件，TOML 格式", envvar="XUNCHA_CONFIG"
        ),
    ] = None,
) -> None:
    ctx.obj = State(config_path=config)
    ctx.obj.clock  # noqa: B018 - a bad XUNCHA_CLOCK is refused before any command runs


app.command("init")(init)
app.command("check")(check_cmd)
app.command("run")(run_cmd)
app.command("recheck")(recheck_cmd)
app.command("accounts")(views.accounts)
app.command("findings")(views.findings)
app.command("history")(views.history)
app.command("snapshot")(report_cmds.snapshot)
app.command("diff")(report_cmds.diff)
app.command("report")(report_cmds.report)
app.command("ack")(ack)
app.command("rectify")(rectify)
app.command("confirm")(confirm)
app.command("dismiss")(dismiss)
app.command("doctor")(doctor)
app.add_typer(registry_cmds.app, name="registry")
app.add_typer(alerts_cmds.app, name="alerts")
app.add_typer(routes_cmds.app, name="routes")
app.add_typer(silence_cmds.app, name="silence")
app.add_typer(db_cmds.app, name="db")
app.add_typer(lists_cmds.app, name="lists")
app.add_typer(sessions_cmds.app, name="sessions")
app.command("web")(web_cmds.web)
app.add_typer(web_cmds.app, name="users")
web_cmds.app.command("role")(users_access.users_role)
web_cmds.app.command("totp")(users_access.users_totp)
web_cmds.app.command("logout")(users_access.users_logout)
app.add_typer(audit_cmds.app, name="audit")


@app.command("demo")
def demo(
    ctx: typer.Context,
    directory: Annotated[
        Path | None, typer.Option("--dir", metavar="目录", help="演示数据目录（默认新建临时目录）")
    ] = None,
) -> None:
    """离线演示一次完整的巡查：模拟平台、真实的数据库与告警。

    不需要网络：在 127.0.0.1 上模拟四个账号的平台和接收告警的群机器人。最后一行是一条
    export 命令，复制执行后，其他命令就查看演示的数据。
    """
    from monitor.demo.run import run_demo

    # the demo writes its own config; the global one is not used
    raise typer.Exit(run_demo(directory, out(ctx), clock=state(ctx).clock))


def main() -> None:
    app()
