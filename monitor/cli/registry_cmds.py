"""``xuncha registry``: import and export the registry of units and accounts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from monitor.cli.common import EXIT_USAGE, console, err_console, open_app
from monitor.registry import (
    RegistryError,
    apply_registry,
    existing_units,
    export_registry,
    read_registry,
)
from monitor.store.engine import session_scope
from probes.platforms import READERS

app = typer.Typer(help="登记表：单位与账号 (registry of units and accounts)", no_args_is_help=True)


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="XLSX 工作簿，或单位与账号两个 CSV 文件", exists=False)
    ],
    prune: Annotated[
        bool, typer.Option("--prune", help="文件中没有的账号标记为已关停（不删除）")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查，不写入")] = False,
) -> None:
    """导入登记表（全部成功或全部不导入） (all-or-nothing import)."""
    with open_app(ctx) as xapp:
        with Session(xapp.engine) as s:
            existing = existing_units(s)
        try:
            registry = read_registry(
                files,
                known_rulesets=xapp.rulesets.keys(),
                known_readers=READERS.keys(),
                existing_unit_codes=existing,
                known_channels=xapp.settings.channels.keys(),
            )
        except RegistryError as e:
            for line in e.lines():  # one line each, never wrapped: tools grep them
                sys.stderr.write(line + "\n")
            err_console.print(f"[bold red]登记表有 {len(e.errors)} 处错误，未导入任何内容。[/]")
            raise typer.Exit(EXIT_USAGE) from None
        with session_scope(xapp.engine) as s:
            summary = apply_registry(s, registry, prune=prune, now=xapp.clock())
            if dry_run:
                s.rollback()
        verb = "检查通过（未写入）" if dry_run else "已导入"
        console.print(f"{verb}: {summary.describe()}")


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="输出文件：.xlsx 工作簿，或 .csv（写出两个文件）")],
) -> None:
    """导出登记表，可原样再导入 (export; re-imports unchanged)."""
    if path.suffix.lower() not in {".xlsx", ".csv"}:
        err_console.print("[bold red]错误[/]: 导出文件须为 .xlsx 或 .csv")
        raise typer.Exit(EXIT_USAGE)
    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        written = export_registry(s, path)
    for p in written:
        console.print(f"已写出 {p}")
