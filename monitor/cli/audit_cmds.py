"""``xuncha audit``: read, export and verify the audit log (monitor/store/audit.py).

No command changes a row: there is none to write.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.chinese import Typer
from monitor.cli.common import EXIT_PROBLEMS, EXIT_USAGE, fail, local, open_app, out, print_json
from monitor.cli.options import JsonOpt

if TYPE_CHECKING:
    from monitor.store.audit import Filter

app = Typer(help="审计记录：查看、导出、校验（记录只增不改，以哈希相连）。")

ACTION = typer.Option("--action", metavar="操作", help="只看这种操作，如 login、user_role、ack")
ACTOR = typer.Option("--actor", metavar="操作人", help="只看此人（命令行操作为 cli:系统用户名）")
RESULT = typer.Option("--result", metavar="结果", help="ok（成功）或 failed（失败）")
SINCE = typer.Option("--since", metavar="日期", help="起始日期（含），如 2026-12-01")
UNTIL = typer.Option("--until", metavar="日期", help="截止日期（含），如 2026-12-31")


def _filter(
    action: str | None, actor: str | None, result: str | None, since: str, until: str, tz: str
) -> Filter:
    from monitor.show.audit import day_start
    from monitor.store.audit import ACTIONS, Filter

    if action and action not in ACTIONS:
        fail(f"没有操作 '{action}'，可选：{'、'.join(ACTIONS)}", EXIT_USAGE)
    if result not in (None, "ok", "failed"):
        fail("--result 应为 ok 或 failed", EXIT_USAGE)
    try:
        start, end = day_start(since, tz), day_start(until, tz, end=True)
    except ValueError as e:
        fail(str(e), EXIT_USAGE)
    success = None if result is None else result == "ok"
    return Filter(action=action, actor=actor, success=success, since=start, until=end)


@app.command("list")
def audit_list(
    ctx: typer.Context,
    action: Annotated[str | None, ACTION] = None,
    actor: Annotated[str | None, ACTOR] = None,
    result: Annotated[str | None, RESULT] = None,
    since: Annotated[str, SINCE] = "",
    until: Annotated[str, UNTIL] = "",
    limit: Annotated[
        int, typer.Option("--limit", metavar="条数", min=0, help="最多列出多少条（0 = 全部）")
    ] = 100,
    as_json: JsonOpt = False,
) -> None:
    """列出审计记录，新的在前：时间、操作人、途径、操作、结果、对象、地址、详情。"""
    from sqlmodel import Session

    from monitor.show import audit as shown
    from monitor.show.terminal import Col, cell, is_terminal, terminal_table, write_tsv
    from monitor.store import audit

    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        tz = xapp.settings.timezone
        flt = _filter(action, actor, result, since, until, tz)
        total = audit.count(s, flt)
        rows = audit.newest(s, flt, limit=limit or max(total, 1))
    if as_json:
        print_json([shown.row_dict(r, tz) for r in rows])
        return
    console = out(ctx)
    header = ["序号", "时间", "操作人", "途径", "操作", "结果", "对象", "地址", "详情"]
    lines = [
        (r.seq, local(r.at, tz, seconds=True), r.actor, audit.VIAS.get(r.via, r.via),
         audit.ACTIONS.get(r.action, r.action), "成功" if r.success else "失败",
         r.target or "—", r.address or "—", shown.details(r) or "—")
        for r in rows
    ]  # fmt: skip
    if not is_terminal(console):
        write_tsv(console, header, lines)
        return
    # 80 columns: the way, result and address join the action and the object's words
    shown_only = f"（列出最新 {len(rows)} 条）" if len(rows) < total else ""
    table = terminal_table(
        [Col("序号", justify="right"), Col("时间"), Col("操作人"), Col("操作"),
         Col("对象与详情", wrap=True)],
        title=f"审计记录 {total} 条{shown_only}",
    )  # fmt: skip
    for seq, at, who, via, action_, result_, target, address, words in lines:
        failed = "（失败）" if result_ == "失败" else ""
        about = "，".join(v for v in (target, words, f"{via} {address}") if v != "—")
        table.add_row(cell(seq), cell(at), cell(who), cell(action_ + failed), cell(about))
    console.print(table)


@app.command("export")
def audit_export(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="文件", help="输出文件：.csv 或 .json")],
    action: Annotated[str | None, ACTION] = None,
    actor: Annotated[str | None, ACTOR] = None,
    result: Annotated[str | None, RESULT] = None,
    since: Annotated[str, SINCE] = "",
    until: Annotated[str, UNTIL] = "",
) -> None:
    """导出审计记录（旧的在前，含每条的哈希，可在别处复核记录链）；导出本身也记入审计。"""
    import json

    from sqlmodel import Session

    from monitor.show import audit as shown
    from monitor.store import audit
    from monitor.store.engine import session_scope

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        fail("导出文件须为 .csv 或 .json", EXIT_USAGE)
    with open_app(ctx) as xapp:
        tz, now = xapp.settings.timezone, xapp.clock()
        flt = _filter(action, actor, result, since, until, tz)
        with Session(xapp.engine) as s:
            rows = [shown.row_dict(r, tz) for r in audit.oldest_first(s, flt)]
        body = (
            json.dumps(rows, ensure_ascii=False, indent=1, default=str)
            if suffix == ".json"
            else shown.to_csv(rows)
        )
        try:
            path.write_text(body, encoding="utf-8-sig" if suffix == ".csv" else "utf-8")
        except OSError as e:
            fail(f"无法写入 {path}：{e.strerror or e}", EXIT_USAGE)
        asked = {k: v for k, v in (("action", action), ("actor", actor), ("result", result),
                                   ("since", since), ("until", until)) if v}  # fmt: skip
        with session_scope(xapp.engine) as s:
            audit.record(s, audit.cli_actor(), "audit_export", now, target=str(path)[:200],
                         detail={"rows": len(rows), **asked})  # fmt: skip
    out(ctx).print(f"已导出审计记录 {len(rows)} 条到 {path}", markup=False)


@app.command("verify")
def audit_verify(
    ctx: typer.Context,
    as_json: JsonOpt = False,
) -> None:
    """校验审计记录链：任何一条被改动或删除都会发现，退出码 1。

    打印记录条数与最后一条的哈希：把它另行保存（如每天一次），日后再校验时，若最后几条
    连同链头一并被删改，也能对照发现。
    """
    from sqlmodel import Session

    from monitor.store import audit

    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        v = audit.verify(s)
    if as_json:
        print_json({
            "intact": v.intact, "rows": v.rows, "last_seq": v.last_seq,
            "last_hash": v.last_hash, "algorithms": sorted(v.algos),
            "problems": [{"seq": seq, "problem": text} for seq, text in v.problems],
            "more_problems": v.more_problems,
        })  # fmt: skip
    else:
        console = out(ctx)
        algos = "、".join(sorted(v.algos)) or audit.chain_algo()
        if v.intact:
            console.print(
                f"审计记录链完整：共 {v.rows} 条，最后一条 #{v.last_seq}（{algos}），"
                f"哈希 {v.last_hash or '—'}",
                markup=False,
            )
        else:
            console.print(f"审计记录链被破坏（读到 {v.rows} 条）：", markup=False)
            for _, text in v.problems:
                console.print(f"  {text}", markup=False)
            if v.more_problems:
                console.print(f"  另有 {v.more_problems} 处", markup=False)
    if not v.intact:
        raise typer.Exit(EXIT_PROBLEMS)
