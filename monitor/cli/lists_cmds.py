"""``xuncha lists``: the word lists, rosters and domain lists the detectors judge by.

The shipped lists live in the package (an upgrade replaces them); the user's own live in
``[content] lists_dir`` (default ``<data_dir>/lists``), a directory of the same shape that an
upgrade never touches (:mod:`probes.checks.lists`, docs/config.md). ``show`` says which files
are read, ``check`` what is wrong in them, ``try`` which list and entry a text hits.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor.cli.chinese import Typer
from monitor.cli.common import EXIT_PROBLEMS, EXIT_USAGE, fail, out, print_json, state
from monitor.cli.options import JsonOpt

if TYPE_CHECKING:
    from monitor.config import Settings
    from probes.checks.lists import Lists

app = Typer(help="词表与名册：内置的和本单位自己的（后者放在数据目录，升级不会覆盖）。")


def _load(settings: Settings) -> Lists:
    from probes.checks.lists import load_lists

    return load_lists(settings.lists_path, settings.content.disable)


def _unknown_disabled(settings: Settings) -> list[str]:
    from probes.checks.lists import DATA

    return [d for d in settings.content.disable if not (DATA / d.strip().strip("/")).is_file()]


@app.command("show")
def lists_show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """列出正在使用的词表文件：内置的、本单位的，各有多少条、什么版本。"""
    settings = state(ctx).settings
    lists = _load(settings)
    counts = {f.path: (len(f.entries), f.version) for f in lists.files}
    rows = []
    for s in lists.sources:
        n, version = counts.get(s.path, (None, ""))
        rows.append({"name": s.name, "origin": s.origin, "path": str(s.path),
                     "entries": n, "version": version})  # fmt: skip
    summary = {
        "lists_dir": str(settings.lists_path),
        "lists_dir_exists": settings.lists_path.is_dir(),
        "disabled": list(settings.content.disable),
        "version": lists.version,
        "files": rows,
        "roster_terms": len(lists.roster),
        "lexicon_words": lists.lexicons.words,
        "problems": len(lists.problems),
    }
    if as_json:
        print_json(summary)
        return
    console = out(ctx)
    where = settings.lists_path
    console.print(f"本单位词表目录：{where}" + ("" if where.is_dir() else "（尚未建立）"))
    for r in rows:
        extra = f"{r['entries']} 条" if r["entries"] is not None else ""
        if r["version"]:
            extra += f"，版本 {r['version']}"
        console.print(f"  {r['origin']}  {r['name']}" + (f"（{extra}）" if extra else ""))
    for d in settings.content.disable:
        console.print(f"  停用  {d}")
    console.print(
        f"名册 {len(lists.roster)} 条任职记录；商业词库 {lists.lexicons.words} 个词；"
        f"词表版本 {lists.version}"
    )
    if lists.problems:
        console.print(f"有 {len(lists.problems)} 处问题，运行 xuncha lists check 查看。")


@app.command("check")
def lists_check(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """检查词表与名册：缺出处、格式不对、日期写错、停用了不存在的文件。

    有问题时退出码为 1。
    """
    settings = state(ctx).settings
    problems = _load(settings).problems
    problems += [f"配置 [content] disable：内置词表中没有 {d}" for d in _unknown_disabled(settings)]
    if as_json:
        print_json({"problems": problems})
    else:
        console = out(ctx)
        for p in problems:
            console.print(p, markup=False)
        console.print(f"共 {len(problems)} 处问题。" if problems else "词表与名册没有发现问题。")
    if problems:
        raise typer.Exit(EXIT_PROBLEMS)


@app.command("try")
def lists_try(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(metavar="文字", help="要检查的一段文字")],
    unit: Annotated[
        str, typer.Option(metavar="单位编码", help="按该单位的领导名册检查姓名和职务")
    ] = "",
    on: Annotated[
        str | None,
        typer.Option("--date", metavar="日期", help="发布日期，如 2026-12-07（默认今天）"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """这段文字命中哪个词表的哪一条（含出处），以及商业广告判断。"""
    settings = state(ctx).settings
    try:
        day = date.fromisoformat(on) if on else state(ctx).clock().date()
    except ValueError:
        fail(f"日期写作 2026-12-07，不是 '{on}'", EXIT_USAGE)
    hits = _try(_load(settings), text, unit, day)
    if as_json:
        print_json(hits)
        return
    console = out(ctx)
    for h in hits["content"]:
        console.print(f"{h['name']}「{h['hit']}」{h['suggestion']}", markup=False)
        console.print(f"    依据：{h['where']}" + (f"，{h['source']}" if h["source"] else ""),
                      markup=False)  # fmt: skip
    c = hits["commercial"]
    for w in c["words"]:
        console.print(f"商业词库「{w['word']}」：{w['list']}", markup=False)
    if c["level"]:
        console.print(f"商业广告判断：{c['level_name']}（{'、'.join(c['reasons'])}）", markup=False)
    if not hits["content"] and not c["level"] and not c["words"]:
        console.print("没有命中任何词表。")


def _try(lists: Lists, text: str, unit: str, day: date) -> dict[str, Any]:
    from probes.checks.commercial import judge_post, scan_words
    from probes.checks.content import RULE_NAMES, judge_content
    from probes.checks.wording import scan
    from probes.model import Post

    post = Post("try", None, text=text)
    verdict = judge_content(post, unit, day, lists=lists)
    entries = {(h.start, h.end): h.entry for h in scan(text, lists.wording)}
    errors = lists.roster.check(unit, text, day) if unit else []
    roster = {(e.start, e.end): e.where for e in errors}
    content = []
    for f in verdict.findings:
        entry = entries.get((f.start, f.end))
        if entry is not None:
            where, source = entry.where, entry.source
        elif f.rule.startswith("roster."):
            where, source = f"名册 {roster.get((f.start, f.end), '')}".strip(), ""
        else:
            where, source = "content/privacy.toml（语境词）与号码校验", ""
        content.append({"rule": f.rule, "name": RULE_NAMES[f.rule], "hit": f.hit,
                        "span": f.span, "suggestion": f.suggestion, "where": where,
                        "source": source})  # fmt: skip
    c = judge_post(post, lists.lexicons, lists.domains)
    words = [{"word": h.word, "category": h.category, "list": f"lexicons/{h.category}.txt"}
             for h in scan_words(text, lists.lexicons)]  # fmt: skip
    names = {"commercial": "商业广告（严重）", "review": "需人工复核（提示）"}
    return {
        "content": content,
        "commercial": {
            "level": c.level,
            "level_name": names.get(c.level or "", ""),
            "reasons": c.reasons,
            "words": words,
        },
        "lists_version": lists.version,
    }
