"""``report``, ``snapshot`` and ``diff``: the supervisor's evidence from the command line."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from monitor.cli.common import EXIT_USAGE, fail, local, open_app, out, print_json
from monitor.cli.options import JsonOpt


def _show(v: Any) -> str:
    """A scraped value for the terminal: markup escaped, control characters made visible."""
    text = "—" if v is None or v == "" else str(v)
    text = "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)
    from rich.markup import escape

    return escape(text)


def _post_time(value: Any, tz: str) -> str:
    """A post's time from the facts (stored UTC ISO) as every time is shown; a value that is
    not a time is shown as stored, so nothing in the evidence is hidden."""
    from monitor.timefmt import parse

    if value is None or value == "":
        return "—"
    when = parse(value) if isinstance(value, str) else None
    return local(when, tz) if when else str(value)


def report(
    ctx: typer.Context,
    what: Annotated[
        str | None,
        typer.Argument(metavar="[annual]", help="annual：年度报表（每个账号一行，配合 --year）"),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option("--period", metavar="周期", help="统计周期，如 2026Q4（或 2026-11、2026）"),
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", metavar="年份", help="年度报表的年份，如 2026")
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", metavar="单位编码", help="只统计该单位及其下级单位"),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", metavar="格式", help="输出格式：docx（公文）、xlsx、html、csv 或 json"
        ),
    ] = "xlsx",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="文件", help="输出文件（默认按周期命名）"),
    ] = None,
    issued: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="日期",
            help="docx 的成文日期，如 2027-01-08（默认为统计截止之日）",
        ),
    ] = None,
    seq: Annotated[
        str,
        typer.Option(
            "--seq", metavar="序号", help="docx 文号中的序号，填入配置 \\[report] 文号的 {seq}"
        ),
    ] = "",
) -> None:
    """生成检查通报（季度、月或年）或年度报表，依据保存的快照（docs/report.md）。"""
    if what is not None:
        if what != "annual":
            fail(
                f"不认识的报表 '{what}'：年度报表请用 xuncha report annual --year 2026", EXIT_USAGE
            )
        _annual(ctx, year, unit, fmt, output)
        return
    if period is None:
        fail(
            "缺少选项 --period（如 2026Q4）；年度报表请用 xuncha report annual --year 2026",
            EXIT_USAGE,
        )

    from sqlmodel import Session

    from monitor.report import Period, PeriodError, ReportError, build_report
    from monitor.report.write import FORMATS, pct, report_bytes, report_filename

    console = out(ctx)
    fmt = fmt.lower()
    if fmt not in FORMATS:
        fail(f"不支持的格式 '{fmt}'：可选 {'、'.join(FORMATS)}", EXIT_USAGE)
    day = _issued_day(issued)
    try:
        p = Period.parse(period)
    except PeriodError as e:
        fail(str(e), EXIT_USAGE)
    with open_app(ctx) as app, Session(app.engine) as s:
        tz, config = app.settings.timezone, app.settings.report
        p = Period(p.kind, p.year, p.number, tz)  # quarters of the configured zone
        try:
            rep = build_report(s, app.settings, p, unit, now=app.clock())
        except ReportError as e:
            fail(str(e), EXIT_USAGE)
    if fmt == "json" and output is None:
        print_json(rep.to_dict())
        return
    target = output or Path(report_filename(rep, fmt, unit or ""))
    _write(target, report_bytes(rep, fmt, tz, config, issued=day, seq=seq))
    t = rep.totals
    console.print(
        f"{_show(rep.title)}：纳入 {t.accounts} 个，检查 {t.checked} 个，"
        f"不合格 {t.unqualified} 个，合格率 {pct(t.pass_rate)}，无法判定 {t.unjudged} 个；"
        f"单项否决 {len(rep.vetoes)} 项，扣分 {len(rep.deductions)} 项。",
        highlight=False,
    )
    console.print(f"已写入 {_show(target)}", highlight=False)


def _issued_day(issued: str | None) -> date | None:
    """The docx's date of issue as given (``--date``); None: the period's last day."""
    if issued is None:
        return None
    try:
        return date.fromisoformat(issued.strip())
    except ValueError:
        fail(f"无法识别的成文日期 '{issued}'：请写成 2027-01-08", EXIT_USAGE)


def _write(target: Path, data: bytes) -> None:
    try:
        target.write_bytes(data)
    except OSError as e:
        fail(f"无法写入 {target}: {e.strerror or e}", EXIT_USAGE)


def _annual(
    ctx: typer.Context, year: int | None, unit: str | None, fmt: str, output: Path | None
) -> None:
    """``xuncha report annual --year 2026``: the annual sheet (monitor/report/annual.py)."""
    from sqlmodel import Session

    from monitor.report.annual import annual_bytes, annual_rows
    from monitor.store.models import Unit
    from monitor.store.scope import units_below

    fmt = fmt.lower()
    if fmt not in ("xlsx", "csv"):
        fail(f"年度报表不支持格式 '{fmt}'：可选 xlsx、csv", EXIT_USAGE)
    if year is None or not 2000 <= year <= 2100:
        fail("请用 --year 给出年度报表的年份（2000–2100），如 --year 2026", EXIT_USAGE)
    with open_app(ctx) as app, Session(app.engine) as s:
        tz, now = app.settings.timezone, app.clock()
        codes = None
        scope = "全部单位"
        if unit:
            codes = units_below(s, unit)
            if not codes:
                fail(f"没有编码为 '{unit}' 的单位", EXIT_USAGE)
            scope = (u.name if (u := s.get(Unit, unit)) else unit) + "及下级单位"
        rows = annual_rows(s, year, now, tz, codes)
    target = output or Path(f"年度报表-{year}-{unit or 'all'}.{fmt}")
    _write(target, annual_bytes(rows, year, fmt, tz, scope))
    posts = sum(r.act.posts for r in rows)
    overdue = sum(r.overdue for r in rows)
    out(ctx).print(
        f"{year} 年度报表：{len(rows)} 个账号，年内发布 {posts} 条，逾期未整改问题 {overdue} 个。",
        highlight=False,
    )
    out(ctx).print(f"已写入 {_show(target)}", highlight=False)


def snapshot(
    ctx: typer.Context,
    snapshot_id: Annotated[int, typer.Argument(metavar="快照编号", help="要查看的快照")],
    raw: Annotated[
        bool, typer.Option("--raw", help="输出原始证据文件的字节（须配合 --output）")
    ] = False,
    artifact: Annotated[
        int, typer.Option("--artifact", help="--raw 时取第几个证据文件（从 0 起）", min=0)
    ] = 0,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="文件", help="--raw 的输出文件；- 为标准输出"),
    ] = None,
    screenshot: Annotated[
        bool,
        typer.Option(
            "--screenshot",
            help="立即为快照中的网页生成截图；配合 --raw 输出截图图片（--artifact 选第几张）",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """一个快照的详情：看到的内容、证据文件，以及证据文件的哈希校验。

    有证据文件校验不通过时退出码为 1。
    """
    from sqlmodel import Session

    from monitor.cli.screenshots import prepare_pictures, show_pictures
    from monitor.store.history import snapshot_detail, verify_artifacts

    console = out(ctx)
    with open_app(ctx) as app, Session(app.engine) as s:
        d = snapshot_detail(s, snapshot_id)
        if d is None:
            fail(f"快照 #{snapshot_id} 不存在", EXIT_USAGE)
        prepare_pictures(app, s, d, draw=screenshot)
        if raw:
            data = _raw_bytes(app, d, snapshot_id, artifact, output, screenshot)
            _put_raw(console, data, output)
            return
        verify_artifacts(app.blobs, d.artifacts)
        bad = [a for a in d.artifacts if not a.verified]
        bad += [p for p in d.screenshots if p.verified is False]
        tz = app.settings.timezone
        if as_json:
            print_json(d.to_dict(tz))
        else:
            _print_snapshot(console, d, tz)
            show_pictures(console, d, tz)
        if bad:
            raise typer.Exit(1)


def _raw_bytes(
    app: Any, d: Any, snapshot_id: int, artifact: int, output: Path | None, screenshot: bool
) -> bytes:
    """The bytes ``--raw`` asks for: an evidence file as stored, or a screenshot."""
    from monitor.cli.screenshots import picture_bytes
    from monitor.store.blobs import BlobCorrupt
    from monitor.store.history import read_artifact

    if output is None:
        fail(
            "--raw 输出的是原始字节，请用 --output 指定文件（或 --output - 写到管道）",
            EXIT_USAGE,
        )
    if not screenshot and artifact >= len(d.artifacts):
        fail(
            f"快照 #{snapshot_id} 没有第 {artifact} 个证据文件（共 {len(d.artifacts)} 个）",
            EXIT_USAGE,
        )
    try:
        return (
            picture_bytes(app, d, artifact)
            if screenshot
            else read_artifact(app.blobs, d.artifacts[artifact])
        )
    except BlobCorrupt as e:
        fail(str(e))


def _put_raw(console: Any, data: bytes, output: Path | None) -> None:
    """Raw bytes to the file, or to a pipe (``-``) but never to a terminal."""
    if str(output) == "-":
        if sys.stdout.isatty():
            fail("拒绝把原始字节写到终端，请重定向到文件", EXIT_USAGE)
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    assert output is not None  # (checked before the bytes were read)
    _write(output, data)
    console.print(f"已写入 {_show(output)}（{len(data)} 字节）", highlight=False)


def _print_snapshot(console: Any, d: Any, tz: str) -> None:
    """What the snapshot saw and its evidence files, checked."""
    from monitor.show.labels import OUTCOME, PLATFORM, capped_note, label

    sm = d.summary
    note = capped_note(d.facts)
    console.print(
        f"快照 #{sm.id} · {_show(d.account_name)}（{label(PLATFORM, d.platform)}）"
        f" · 主办单位 {_show(d.owner_name or d.owner_code)}",
        highlight=False,
    )
    for k, v in (
        ("时间", local(sm.taken_at, tz, seconds=True)),
        ("结果", label(OUTCOME, sm.outcome)),
        ("状态码", sm.status_code),
        ("地址", sm.url),
        ("最终地址", sm.final_url),
        ("说明", sm.detail),
        ("最新发布", local(sm.latest_post_at, tz)),
        # and what the page had beyond the cap (probes.model.MAX_POSTS), if anything
        ("内容条数", f"{sm.post_count}（{note}）" if note else sm.post_count),
        ("巡查节点", sm.node),
        ("内容哈希", sm.facts_hash),
    ):
        console.print(f"  {k}：{_show(v)}", highlight=False)
    profile = d.facts.get("profile") or {}
    shown = {k: v for k, v in profile.items() if v not in (None, "")}
    if shown:
        console.print("  资料：", highlight=False)
        for k, v in shown.items():
            console.print(f"    {k}: {_show(v)}", highlight=False)
    posts = d.facts.get("posts") or []
    if posts:
        _print_posts(console, posts, tz)
    if d.artifacts:
        console.print("  证据文件：", highlight=False)
    else:
        console.print("  （无证据文件）", highlight=False)
    for a in d.artifacts:
        check = "通过" if a.verified else f"[red]{_show(a.problem or '失败')}[/]"
        size = f"{a.size} 字节" if a.size is not None else ""
        console.print(
            f"    #{a.index} {_show(a.media_type or a.kind)} {size} 校验{check}",
            highlight=False,
        )
        console.print(f"       sha256 {a.sha256}", highlight=False)


def _print_posts(console: Any, posts: list[dict[str, Any]], tz: str) -> None:
    """The posts a snapshot saw: on a terminal the newest 50, titles cut to fit; piped, all
    of them, whole."""
    from monitor.show.terminal import Col, cell, is_terminal, terminal_table, write_tsv

    def title(p: dict[str, Any]) -> str:
        return str(p.get("title") or p.get("text") or "")

    if not is_terminal(console):
        console.print(f"  内容 {len(posts)} 条：", highlight=False)
        write_tsv(
            console,
            ["编号", "发布时间", "标题", "置顶", "链接"],
            [(p.get("id"), _post_time(p.get("published_at"), tz), title(p),
              "是" if p.get("pinned") else "", p.get("url") or "") for p in posts],
        )  # fmt: skip
        return
    t = terminal_table(  # ids and links (often URLs) are for scripts: piped, or --json
        [Col("发布时间"), Col("标题", wrap=True), Col("置顶")],
        title=f"内容 {len(posts)} 条" + ("（最新 50 条）" if len(posts) > 50 else ""),
    )
    for p in posts[:50]:
        text = title(p)
        t.add_row(
            cell(_post_time(p.get("published_at"), tz)),
            cell(text[:60] + ("…" if len(text) > 60 else "")),
            cell("是" if p.get("pinned") else ""),
        )
    console.print(t)


def diff(
    ctx: typer.Context,
    a: Annotated[int, typer.Argument(metavar="快照A", help="较早的快照编号")],
    b: Annotated[int, typer.Argument(metavar="快照B", help="较晚的快照编号")],
    as_json: JsonOpt = False,
) -> None:
    """比较同一账号的两个快照：结果、资料、内容和证据文件的变化。"""
    from sqlmodel import Session

    from monitor.store.changes import diff_snapshots

    console = out(ctx)
    with open_app(ctx) as app, Session(app.engine) as s:
        try:
            d = diff_snapshots(s, a, b)
        except ValueError as e:
            fail(str(e), EXIT_USAGE)
        tz = app.settings.timezone
    if as_json:
        print_json(d.to_dict(tz))
        return
    console.print(
        f"账号 {_show(d.account_id)}：快照 #{a}（{local(d.a.taken_at, tz)}）→ "
        f"#{b}（{local(d.b.taken_at, tz)}）",
        highlight=False,
    )
    if not d.a_is_older:
        console.print("  注意：快照 A 晚于快照 B", highlight=False)
    if d.empty:
        console.print("  两次看到的内容相同。", highlight=False)
        return
    _print_changes(console, d, tz)


def _print_changes(console: Any, d: Any, tz: str) -> None:
    """What changed between the two snapshots, field by field, then posts and evidence."""
    from monitor.show.labels import OUTCOME, label

    names = {
        "outcome": "结果",
        "status_code": "状态码",
        "latest_post_at": "最新发布",
        "post_count": "内容条数",
        "final_url": "最终地址",
    }
    for c in d.changes:
        old, new = c.old, c.new
        if c.field == "latest_post_at":
            old, new = local(old, tz), local(new, tz)
        elif c.field == "outcome":
            old, new = label(OUTCOME, old), label(OUTCOME, new)
        console.print(
            f"  {names.get(c.field, c.field)}：{_show(old)} → {_show(new)}", highlight=False
        )
    for c in d.profile:
        console.print(f"  资料 {c.field}：{_show(c.old)} → {_show(c.new)}", highlight=False)
    for sign, posts in (("+", d.posts_added), ("-", d.posts_removed)):
        for p in posts:
            console.print(
                f"  {sign} 内容 {_show(p['id'])} {_show(_post_time(p['published_at'], tz))} "
                f"{_show(p['title'])}",
                highlight=False,
            )
    for sign, hashes in (("+", d.artifacts_added), ("-", d.artifacts_removed)):
        for h in hashes:
            console.print(f"  {sign} 证据 {h}", highlight=False)
