"""``xuncha registry``: import and export the registry of units and accounts, and a sample."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from monitor.cli.chinese import Typer
from monitor.cli.common import EXIT_USAGE, fail, open_app, out

app = Typer(help="登记表：单位与账号的导入、导出和示例（docs/registry.md）。")


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(metavar="文件", help="XLSX 工作簿，或单位与账号两个 CSV 文件", exists=False),
    ],
    prune: Annotated[
        bool, typer.Option("--prune", help="文件中没有的账号标记为已关停（不删除）")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查，不写入")] = False,
) -> None:
    """导入登记表：全部成功，或有错时什么也不导入。

    每处错误一行：文件:行:列: 原因（行号与表格软件一致，表头为第 1 行），退出码为 2。
    工作簿中的“领导名册”工作表（可选）写入本单位词表目录的 roster/registry.csv。
    """

    from sqlmodel import Session

    from monitor.registry import RegistryError, apply_registry, existing_units, read_registry
    from monitor.registry.roster import read_roster, write_roster
    from monitor.store import audit
    from monitor.store.engine import session_scope
    from probes.platforms import READERS

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
            _refused(e.lines(), e.total)
        roster, problems = read_roster(files, {*existing, *(u.code for u in registry.units)})
        if problems:
            _refused([str(p) for p in problems])
        with session_scope(xapp.engine) as s:
            now = xapp.clock()
            summary = apply_registry(s, registry, prune=prune, now=now)
            if dry_run:
                s.rollback()
            else:
                audit.record(s, audit.cli_actor(), "registry_import", now,
                             target="，".join(p.name for p in files)[:200], detail={
                                 "units_added": len(summary.units.added),
                                 "units_updated": len(summary.units.updated),
                                 "accounts_added": len(summary.accounts.added),
                                 "accounts_updated": len(summary.accounts.updated),
                                 "accounts_closed": len(summary.closed), "prune": prune,
                             })  # fmt: skip
        verb = "检查通过（未写入）" if dry_run else "已导入"
        out(ctx).print(f"{verb}：{summary.describe()}")
        if roster is not None and not dry_run:
            source = "、".join(p.name for p in files)
            path = write_roster(xapp.settings.lists_path, roster, source, xapp.clock().date())
            out(ctx).print(f"领导名册 {len(roster)} 条已写入 {path}（下一次检查起生效）")
        elif roster is not None:
            out(ctx).print(f"领导名册 {len(roster)} 条检查通过（未写入）")


def _refused(lines: list[str], total: int | None = None) -> NoReturn:
    """Every problem on a line of its own (the list may be capped: ``total`` counts all)."""
    import sys

    from monitor.show.terminal import make_console

    for line in lines:  # one line each, never wrapped: tools grep them
        sys.stderr.write(line + "\n")
    count = len(lines) if total is None else total
    make_console(stderr=True).print(f"[bold red]登记表有 {count} 处错误，未导入任何内容。[/]")
    raise typer.Exit(EXIT_USAGE)


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(metavar="文件", help="输出文件：.xlsx 工作簿，或 .csv（写出两个文件）"),
    ],
) -> None:
    """导出登记表；导出的文件可原样再导入。"""
    from sqlmodel import Session

    from monitor.registry import export_registry
    from monitor.registry.roster import exported_rows

    if path.suffix.lower() not in {".xlsx", ".csv"}:
        fail("导出文件须为 .xlsx 或 .csv", EXIT_USAGE)
    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        written = export_registry(s, path, roster=exported_rows(xapp.settings.lists_path))
    for p in written:
        out(ctx).print(f"已写出 {p}")


@app.command("template")
def template_cmd(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(metavar="文件", help="输出文件：.xlsx 工作簿，或 .csv（写出两个文件）"),
    ] = Path("registry.xlsx"),
    force: Annotated[bool, typer.Option("--force", help="覆盖已有的文件")] = False,
) -> None:
    """写出一份示例登记表：单位表和账号表，各列的中文表头和可直接导入的示例行。

    示例是虚构的云岭市：改成本地区的单位和账号后用 xuncha registry import 导入。
    不需要数据库。
    """
    from monitor.registry.template import write_template

    if path.suffix.lower() not in {".xlsx", ".csv"}:
        fail("示例文件须为 .xlsx 或 .csv", EXIT_USAGE)
    targets = (
        [path]
        if path.suffix.lower() == ".xlsx"
        else [path.with_name(f"{path.stem}-{t}.csv") for t in ("units", "accounts")]
    )
    if not force and (existing := [p for p in targets if p.exists()]):
        fail(f"{'、'.join(map(str, existing))} 已存在：换个文件名，或加 --force 覆盖", EXIT_USAGE)
    try:
        written = write_template(path)
    except OSError as e:
        fail(f"无法写入 {path}：{e.strerror or e}", EXIT_USAGE)
    console = out(ctx)
    for p in written:
        console.print(f"已写出示例登记表 {p}")
    files = " ".join(str(p) for p in written)
    console.print(
        f"下一步：改成本地区的单位和账号（各列的含义见 docs/registry.md），然后\n"
        f"  xuncha registry import {files} --dry-run   # 只检查\n"
        f"  xuncha registry import {files}"
    )
