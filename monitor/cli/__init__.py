"""The ``xuncha`` command line (typer + rich).

Every listing has ``--json``. Exit codes: 0 ok, 1 problems found or command
failed, 2 bad usage or bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.cli import (
    alerts_cmds,
    db_cmds,
    registry_cmds,
    report_cmds,
    routes_cmds,
    silence_cmds,
    views,
    web_cmds,
)
from monitor.cli.common import State, console, state
from monitor.cli.doctor import doctor
from monitor.cli.duty import ack
from monitor.cli.patrol import check_cmd, init, recheck_cmd, run_cmd

app = typer.Typer(
    name="xuncha",
    help="巡查 — 政务新媒体巡查：定时巡查账号，保存证据快照，及时提醒主办单位。",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="配置文件（TOML）；也可用环境变量 XUNCHA_CONFIG",
            envvar="XUNCHA_CONFIG",
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
app.command("doctor")(doctor)
app.add_typer(registry_cmds.app, name="registry")
app.add_typer(alerts_cmds.app, name="alerts")
app.add_typer(routes_cmds.app, name="routes")
app.add_typer(silence_cmds.app, name="silence")
app.add_typer(db_cmds.app, name="db")
app.command("web")(web_cmds.web)
app.add_typer(web_cmds.app, name="users")


@app.command("demo")
def demo(
    ctx: typer.Context,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="演示数据目录（默认新建临时目录）")
    ] = None,
) -> None:
    """离线演示一次完整巡查 (an offline patrol against a simulated platform)."""
    from monitor.demo.run import run_demo

    # the demo writes its own config; the global one is not used
    raise typer.Exit(run_demo(directory, console, clock=state(ctx).clock))


def main() -> None:
    app()
