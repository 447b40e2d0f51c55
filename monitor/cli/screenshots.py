"""``xuncha snapshot N [--screenshot]``: the pictures of a snapshot's web pages.

Kept apart from ``report_cmds`` (which calls these in a few lines): drawing on demand
(``--screenshot``: the pages with no picture yet, with a browser of the command's own),
the lines the detail prints about them, and the picture ``--screenshot --raw -o`` writes
(WebP since pictures are keyed by content; PNG for those drawn before).
"""

from __future__ import annotations

from dataclasses import asdict

import anyio
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from monitor.app import App
from monitor.cli.common import EXIT_USAGE, fail, local
from monitor.service.screenshots import draw_snapshot
from monitor.store.history import SnapshotDetail, verify_screenshots
from monitor.store.screenshots import screenshots_of
from probes.fetch.browser import BrowserError, BrowserPool


def prepare_pictures(app: App, session: Session, d: SnapshotDetail, *, draw: bool) -> None:
    """With ``draw``, draw the snapshot's pages that have no picture now (a failed one is
    tried again: a person asked); then check every picture's blob against its hash."""
    if draw and any(not p.png_sha256 for p in d.screenshots):

        async def go() -> None:
            async with BrowserPool(app.browser_settings()) as pool:
                await draw_snapshot(
                    app.engine, app.settings, app.blobs, pool, d.screenshots,
                    d.summary.reader, app.clock(),
                )  # fmt: skip

        try:
            anyio.run(go)
        except BrowserError as e:
            fail(f"无法生成网页截图：{e.message}")
        session.commit()  # end the read begun before drawing: the new rows are seen
        d.screenshots = screenshots_of(
            session, [asdict(a) for a in d.artifacts], d.summary.facts_hash
        )
    verify_screenshots(app.blobs, d.screenshots)


def picture_bytes(app: App, d: SnapshotDetail, index: int) -> bytes:
    """The picture of the snapshot's ``index``-th page (raises ``BlobCorrupt`` if damaged)."""
    shots, sid = d.screenshots, d.summary.id
    if not shots:
        fail(f"快照 #{sid} 没有可截图的网页（只有网页和微信文章有网页截图）", EXIT_USAGE)
    if index >= len(shots):
        fail(f"快照 #{sid} 没有第 {index} 张网页截图（共 {len(shots)} 个网页）", EXIT_USAGE)
    png = shots[index].png_sha256
    if not png:
        why = f"：{shots[index].error}" if shots[index].error else ""
        fail(f"快照 #{sid} 的网页截图尚未生成{why}（加 --screenshot 可立即生成）")
    return app.blobs.get(png)


def show_pictures(console: Console, d: SnapshotDetail, tz: str) -> None:
    """The detail's lines about its pages' pictures (none for a snapshot without a page)."""
    if not d.screenshots:
        return
    console.print("  网页截图（按保存的 HTML 离线绘制，不运行脚本、不访问网站）：", highlight=False)
    for i, p in enumerate(d.screenshots):
        page = escape(p.url or p.html_sha256)
        if not p.png_sha256:
            state = "尚未生成"
            if p.error:
                state = f"未能生成：{escape(p.error)}（已尝试 {p.attempts} 次）"
            console.print(f"    [{i}] {page}：{state}", highlight=False)
            continue
        size = f"{p.width}×{p.height} 像素"
        size += f"（页面高 {p.page_height} 像素，只截取了这些）" if p.cut else ""
        check = "校验通过" if p.verified else f"[red]{escape(p.problem or '校验失败')}[/]"
        console.print(f"    [{i}] {page}", highlight=False)
        console.print(f"        截图 sha256 {p.png_sha256} {check}", highlight=False)
        console.print(
            f"        网页 sha256 {p.html_sha256}（证据文件 #{p.artifact}）", highlight=False
        )
        when = local(p.rendered_at, tz, seconds=True)
        console.print(f"        绘制于 {when}，{escape(p.browser)}，{size}", highlight=False)
    if any(not p.png_sha256 for p in d.screenshots):
        console.print(f"    生成截图：xuncha snapshot {d.summary.id} --screenshot", highlight=False)
