"""Pictures of stored pages: a web page's snapshot gets a picture of the page as fetched,
drawn afterwards by the job of nodes that probe, offline, once per distinct content (what
the reader extracted: pages that differ only in noise share one picture), as a WebP.

Real Chromium (the browser pool), the real blob store, SQLite and PostgreSQL. The pictures
drawn are left in ``$TMPDIR/xuncha-evidence-shots`` to be looked at.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import anyio
import pytest
from PIL import Image
from sqlmodel import Session, col, select

from monitor.app import App
from monitor.patrol import jobs
from monitor.patrol.cluster import NodeLocks
from monitor.service import retention, screenshots
from monitor.store.engine import session_scope
from monitor.store.history import snapshot_detail
from monitor.store.models import PageScreenshot, Snapshot
from monitor.store.screenshots import Screenshot, picture_key
from monitor.store.snapshots import add_snapshot
from probes.fetch.browser import BrowserPool
from probes.fetch.render import render_html
from probes.model import Observation, Outcome
from tests.conftest import add_account, add_unit
from tests.localserver import LocalServer
from tests.screenshot_site import (
    NOW,
    OPTIONS,
    PAGE,
    Tracker,
    government_site,
    news_page,
    page_reply,
    shots_dir,
)
from tests.test_unchanged import patrol

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

RED = (0xB8, 0x15, 0x1B)  # the site's header band, an inline <style> rule


@pytest.fixture
def site() -> Iterator[tuple[LocalServer, Tracker]]:
    with government_site() as s:
        yield s


def rows(app: App) -> list[PageScreenshot]:
    with Session(app.engine) as s:
        return list(s.exec(select(PageScreenshot).order_by(col(PageScreenshot.rendered_at))))


def pictures(app: App, snapshot_id: int) -> list[Screenshot]:
    with Session(app.engine) as s:
        d = snapshot_detail(s, snapshot_id)
        assert d is not None
        return d.screenshots


def run_job(app: App, at: datetime) -> screenshots.RenderStats:
    """One run of the job, with a browser pool of the app's own settings."""

    async def go() -> screenshots.RenderStats:
        async with app.probing() as tools:
            assert tools.browser is not None
            return await screenshots.render_due(
                app.engine, app.settings, app.blobs, tools.browser, at
            )

    return anyio.run(go)


def tick(app: App) -> None:
    """The job as ``xuncha run`` calls it (through the running patrol's runtime)."""

    async def go() -> None:
        async with app.probing():
            rt = jobs.Runtime(
                app, {}, anyio.CapacityLimiter(1), None, NodeLocks(app.settings.database_url)
            )
            jobs.install(rt)
            try:
                await jobs.screenshots_tick()
            finally:
                jobs.install(None)

    anyio.run(go)


def near(got: tuple[int, ...], want: tuple[int, ...], slack: int = 12) -> bool:
    """A colour as a lossy picture keeps it (WebP moves a flat colour by a few steps)."""
    return all(abs(a - b) <= slack for a, b in zip(got, want, strict=True))


def png_of(app: App, sha: str | None) -> Image.Image:
    assert sha
    data = app.blobs.get(sha)
    assert hashlib.sha256(data).hexdigest() == sha
    return Image.open(io.BytesIO(data))


def test_one_picture_per_distinct_page(app: App, site: tuple[LocalServer, Tracker]) -> None:
    server, tracker = site
    add_unit(app, "u1", "某某市人民政府办公室")
    url = server.url(PAGE)
    add_account(app, "site", "u1", url, platform="website", reader="webpage", options=OPTIONS)
    first = patrol(app, "site", NOW)
    assert first.snapshot.outcome == "ok" and first.snapshot.post_count == 10
    assert rows(app) == []  # the check drew nothing: that waits for the job
    fetched = len(server.requests)

    app.clock = lambda: NOW + timedelta(minutes=1)
    tick(app)  # as xuncha run's job
    [row] = rows(app)
    page = first.snapshot.artifacts[0]
    # stored under what the page showed, drawn from its HTML
    assert row.html_sha256 == picture_key(first.snapshot.facts_hash, page["sha256"], 0)
    assert row.page_sha256 == page["sha256"] and row.error == "" and row.attempts == 1
    assert row.width == 1280 and row.browser.startswith("Chromium ") and row.node == "test-node"
    img = png_of(app, row.png_sha256)
    assert img.format == "WEBP" and row.media_type == "image/webp"
    assert img.size == (1280, row.height) and row.height >= 900 and row.size > 0
    assert near(img.convert("RGB").getpixel((5, 20)), RED)  # the page's own styles apply
    img.save(shots_dir() / f"zwdt-1280-{app.engine.dialect.name}.webp")
    # drawing it contacted nobody: not the site (its style sheet, script, logo, frame)...
    assert len(server.requests) == fetched and set(server.hits) == {PAGE}
    assert tracker.accepted == 0  # ...nor the tracker it names (img, preconnect, beacon)
    [shown] = pictures(app, first.snapshot.id)
    assert shown.png_sha256 == row.png_sha256 and shown.html_sha256 == page["sha256"]
    assert shown.media_type == "image/webp"
    assert (
        shown.url == url and shown.artifact == 0 and shown.rendered_at == NOW + timedelta(minutes=1)
    )

    assert run_job(app, NOW + timedelta(minutes=2)).drawn == 0  # nothing waits any more

    # an unchanged check (the same bytes) adds no picture: its snapshot shows the one drawn
    same = patrol(app, "site", NOW + timedelta(hours=1))
    assert same.observation.unchanged
    stats = run_job(app, NOW + timedelta(hours=1, minutes=1))
    assert (stats.drawn, stats.failed, len(rows(app))) == (0, 0, 1)
    assert [p.png_sha256 for p in pictures(app, same.snapshot.id)] == [row.png_sha256]

    # another account serving the same page: what it saw names its own account, so it is
    # drawn once for it; the same drawing is the same blob (stored once)
    add_account(app, "mirror", "u1", url, platform="website", reader="webpage", options=OPTIONS)
    mirror = patrol(app, "mirror", NOW + timedelta(hours=1, minutes=5))
    assert run_job(app, NOW + timedelta(hours=1, minutes=6)).drawn == 1
    assert [p.png_sha256 for p in pictures(app, mirror.snapshot.id)] == [row.png_sha256]
    assert len(rows(app)) == 2

    # the page changes: a new picture for the new page; the old snapshot keeps its own
    server[PAGE] = page_reply(
        news_page(server.base, tracker.url, ("关于2026年元旦放假安排的通知", "2026-11-24"))
    )
    changed = patrol(app, "site", NOW + timedelta(hours=2))
    assert not changed.observation.unchanged and changed.snapshot.post_count == 11
    assert run_job(app, NOW + timedelta(hours=2, minutes=1)).drawn == 1
    assert len(rows(app)) == 3
    [new] = pictures(app, changed.snapshot.id)
    assert new.png_sha256 and new.png_sha256 != row.png_sha256
    assert new.html_sha256 == changed.snapshot.artifacts[0]["sha256"]
    assert [p.png_sha256 for p in pictures(app, first.snapshot.id)] == [row.png_sha256]
    assert tracker.accepted == 0 and set(server.hits) == {PAGE}


def test_drawing_never_reaches_the_network(site: tuple[LocalServer, Tracker]) -> None:
    """A hostile stored page: its script would repaint a box and call home, a meta refresh
    would leave for the site, a style sheet would turn the page blue — the picture shows
    the page as stored (inline styles applied), and neither server saw a connection."""
    server, tracker = site
    html = (
        news_page(server.base, tracker.url)
        .decode("gb2312")
        .replace(
            "</body>",
            '<div id="box" style="width:120px;height:60px;background:rgb(0,128,0)"></div>'
            "<script>document.getElementById('box').style.background='rgb(255,0,0)';"
            f"fetch('{server.base}/js-fetch');</script>"
            f'<meta http-equiv="refresh" content="0;url={server.base}/moved">'
            f'<link rel="prefetch" href="{server.base}/prefetch"><object data="{server.base}/obj">'
            f'</object><video poster="{tracker.url}/poster.jpg"></video>'
            f"<style>@import url({server.base}/import.css);"
            f" .x {{ background: url({tracker.url}/bg) }}</style>"
            '<div class="x">x</div><img src="relative/only.png"></body>',
        )
    )

    async def draw() -> bytes:
        async with BrowserPool() as pool:
            shot = await render_html(pool, html, width=1280, format="png")  # exact colours
            await anyio.sleep(1.0)  # a late request would have arrived by now
            return shot.picture

    png = anyio.run(draw)
    assert server.requests == [] and tracker.accepted == 0
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert img.getpixel((5, 20)) == RED  # the page's own <style>...
    assert img.getpixel((5, 300)) == (0xF2, 0xF2, 0xF2)  # ...not the site's blue sheet
    # the box stayed green: its script never ran (JavaScript is off)
    colours = {c: n for n, c in img.getcolors(maxcolors=1 << 20) or []}
    greens, reds = colours.get((0, 128, 0), 0), colours.get((255, 0, 0), 0)
    assert greens >= 120 * 60 and reds == 0
    img.save(shots_dir() / "hostile-1280.png")


def _page_snapshot(
    app: App, account: str, html: bytes, at: datetime, reader: str, *more: bytes
) -> int:
    """A snapshot as a check writes it, whose page is ``html`` (and ``more`` pages: a WeChat
    account's list and articles)."""
    url = "https://www.example.gov.cn/"
    arts = [
        {"kind": "page", "media_type": "text/html", "sha256": app.blobs.put(h), "size": len(h),
         "url": url}
        for h in (html, *more)
    ]  # fmt: skip
    obs = Observation(account_id=account, reader=reader, url=url, fetched_at=at,
                      outcome=Outcome.ok, status_code=200)  # fmt: skip
    with session_scope(app.engine) as s:
        snap = Snapshot(account_id=account, taken_at=at, reader=reader, url=url,
                        outcome="ok", status_code=200, artifacts=arts)  # fmt: skip
        add_snapshot(s, snap, obs.facts() | {"detail": html[:40].decode(errors="replace")})
        s.flush()
        assert snap.id is not None
        return snap.id


def test_a_run_draws_at_most_per_run_pages_oldest_first(app: App) -> None:
    """``[screenshots] per_run`` bounds a run; a snapshot's pages go in one run together;
    what waits is drawn by the next runs, in the order the snapshots were taken."""
    app.settings.screenshots.per_run = 2
    add_unit(app, "u1")
    add_account(app, "a", "u1", "https://www.example.gov.cn/", platform="website")
    add_account(app, "wx", "u1", "https://mp.weixin.qq.com/", platform="wechat")
    first = _page_snapshot(app, "a", b"<h1>A</h1>", NOW, "webpage")
    two = _page_snapshot(app, "wx", b"<h1>B</h1>", NOW + timedelta(minutes=1), "wechat",
                         b"<h1>C</h1>")  # fmt: skip
    last = _page_snapshot(app, "a", b"<h1>D</h1>", NOW + timedelta(minutes=2), "webpage")
    runs = [run_job(app, NOW + timedelta(hours=h)) for h in (1, 2, 3, 4)]
    assert [(r.drawn, r.behind) for r in runs] == [(1, 2), (2, 1), (1, 0), (0, 0)]
    drawn_at = {sid: [p.rendered_at for p in pictures(app, sid)] for sid in (first, two, last)}
    assert drawn_at == {
        first: [NOW + timedelta(hours=1)],
        two: [NOW + timedelta(hours=2)] * 2,
        last: [NOW + timedelta(hours=3)],
    }
    assert [p.width for p in pictures(app, two)] == [390, 390]  # a WeChat account's pages


def test_a_page_that_cannot_be_drawn_is_noted_and_not_tried_forever(app: App) -> None:
    app.settings.screenshots.timeout_seconds = 0.5
    add_unit(app, "u1")
    add_account(app, "big", "u1", "https://www.example.gov.cn/", platform="website")
    # a page no browser lays out in half a second: 120,000 table rows
    huge = b"<table>" + b"<tr><td>a</td><td>b</td></tr>" * 120_000 + b"</table>"
    sid = _page_snapshot(app, "big", huge, NOW - timedelta(hours=1), "webpage")

    assert run_job(app, NOW).failed == 1
    [row] = rows(app)
    assert row.png_sha256 is None and row.attempts == 1 and "超时" in row.error
    # not again within the hour; then again, up to [screenshots] max_attempts (3) in all
    for minutes, attempts in ((10, 1), (70, 2), (140, 3), (300, 3), (1440, 3)):
        run_job(app, NOW + timedelta(minutes=minutes))
        assert rows(app)[0].attempts == attempts, minutes
    [shown] = pictures(app, sid)
    assert shown.png_sha256 is None and shown.attempts == 3 and "超时" in shown.error

    # the pool is none the worse: the next page is drawn, a WeChat article at a phone's width
    app.settings.screenshots.timeout_seconds = 15
    add_account(app, "wx", "u1", "https://mp.weixin.qq.com/s/x", platform="wechat")
    # as mp.weixin.qq.com sends it: the body hidden until the page's script shows it
    article = (
        "<h1 class='rich_media_title'>关于开展冬季安全生产大检查的通知</h1>"
        "<div class='rich_media_content' id='js_content' style='visibility: hidden;'>"
        "<p style='background: rgb(0, 0, 128); height: 40px'>正文</p></div>"
    )
    wx = _page_snapshot(app, "wx", article.encode(), NOW + timedelta(hours=30), "wechat")
    assert run_job(app, NOW + timedelta(hours=31)).drawn == 1
    [drawn] = pictures(app, wx)
    img = png_of(app, drawn.png_sha256).convert("RGB")
    assert drawn.width == 390 and img.size[0] == 390
    colours = {c for _, c in img.getcolors(1 << 20) or []}
    assert any(near(c, (0, 0, 128)) for c in colours)  # the body is shown
    assert rows(app)[0].attempts == 3  # and the failed one was left alone


def test_only_pages_that_show_something_new_wait_for_a_picture(app: App) -> None:
    """A page whose bytes change on every fetch (a timestamp) while it shows the same
    posts gets no picture per check: its looks share the first one's; the first job starts
    at [screenshots] backfill_days; a browser reader's snapshot that carries its own picture
    (taken while reading, as they once were) gets none."""
    add_unit(app, "u1")
    add_account(app, "a", "u1", "https://www.example.gov.cn/", platform="website")
    old = _page_snapshot(app, "a", b"<p>old</p>", NOW - timedelta(days=30), "webpage")
    ids = [
        _page_snapshot(
            app, "a", f"<p>same<!-- {i} --></p>".encode(), NOW + timedelta(hours=i), "webpage"
        )
        for i in range(3)
    ]
    # the same facts for all three (the helper's facts carry only the first 40 bytes)
    with session_scope(app.engine) as s:
        snaps = [s.get(Snapshot, i) for i in ids]
        for snap in snaps[1:]:
            assert snap is not None and snaps[0] is not None
            snap.facts_hash = snaps[0].facts_hash
            s.add(snap)
    add_account(app, "dy", "u1", "https://www.douyin.com/user/x", platform="douyin")
    with session_scope(app.engine) as s:
        shot = app.blobs.put(b"\xff\xd8\xff jpeg")
        page = app.blobs.put(b"<html>douyin</html>")
        s.add(Snapshot(account_id="dy", taken_at=NOW, reader="douyin", outcome="ok", artifacts=[
            {"kind": "page", "media_type": "text/html", "sha256": page, "size": 1},
            {"kind": "screenshot", "media_type": "image/jpeg", "sha256": shot, "size": 1},
        ]))  # fmt: skip
    stats = run_job(app, NOW + timedelta(hours=5))
    assert stats.drawn == 1 and stats.behind == 0
    [row] = rows(app)
    assert row.page_sha256 == pictures(app, ids[0])[0].html_sha256
    assert pictures(app, old)[0].png_sha256 is None  # before the backfill window: on demand
    # new bytes, the same content: the same picture
    shared = [pictures(app, i)[0] for i in ids]
    assert {p.png_sha256 for p in shared} == {row.png_sha256}
    assert len({p.html_sha256 for p in shared}) == 3


@pytest.mark.parametrize("backend", ["files", "database"])
def test_retention_keeps_a_picture_as_long_as_its_page(app: App, backend: str) -> None:
    app.settings.blobs.backend = backend  # before the evidence store is first used
    add_unit(app, "u1")
    add_account(app, "a", "u1", "https://www.example.gov.cn/", platform="website")
    keep = _page_snapshot(app, "a", b"<h1>kept</h1>", NOW, "webpage")
    gone = _page_snapshot(app, "a", b"<h1>thinned</h1>", NOW + timedelta(hours=1), "webpage")
    assert run_job(app, NOW + timedelta(hours=2)).drawn == 2
    kept_png, gone_png = (pictures(app, i)[0].png_sha256 for i in (keep, gone))
    assert kept_png and gone_png
    with session_scope(app.engine) as s:  # retention thinned the second look away
        s.delete(s.get(Snapshot, gone))
    refs = retention.referenced_blobs(app.engine)
    assert kept_png in refs and gone_png not in refs
    later = NOW + timedelta(days=1)  # past the grace that spares pictures being drawn
    assert retention.forget_pictures(app.engine, refs, drawn_before=later) == 1
    assert retention.collect_blobs(app.engine, app.blobs, grace=timedelta(0), refs=refs) == 2
    assert app.blobs.exists(kept_png) and not app.blobs.exists(gone_png)
    assert [r.png_sha256 for r in rows(app)] == [kept_png]
    assert pictures(app, keep)[0].png_sha256 == kept_png


def test_xuncha_run_draws_the_pictures_of_the_pages_it_patrols(
    tmp_path: Path, site: tuple[LocalServer, Tracker]
) -> None:
    """The whole way: ``xuncha run`` checks a government site and, in its own time, its
    probe role's job draws the page; the check never waited for it."""
    from tests.conftest import make_settings, open_app
    from tests.test_daemon import query, start, stop, wait_until

    server, tracker = site
    app = open_app(make_settings(tmp_path))
    add_unit(app, "u1")
    add_account(app, "site", "u1", server.url(PAGE), platform="website", reader="webpage",
                options=OPTIONS)  # fmt: skip
    app.close()
    cfg = tmp_path / "xuncha.toml"
    cfg.write_text(
        f'data_dir = "{tmp_path}"\nnode_name = "node-a"\n'
        "[patrol]\njitter_seconds = 1\n[http]\nretries = 0\n[alerts]\nenabled = false\n"
        "[metrics]\nenabled = false\n[selfwatch]\nenabled = false\n"
        '[screenshots]\ninterval_seconds = 5\n[logging]\nformat = "json"\n',
        encoding="utf-8",
    )
    db = tmp_path / "xuncha.db"
    log = tmp_path / "run.log"
    proc = start(cfg, log)
    try:
        wait_until(lambda: query(db, "select count(*) from snapshot")[0][0] >= 1, 60,
                   "the first check", proc)  # fmt: skip
        wait_until(
            lambda: (
                query(db, "select count(*) from page_screenshot where png_sha256 is not null")
                == [(1,)]
            ),
            90,
            "the page's picture",
            proc,
        )
    finally:
        code = stop(proc)
    assert code == 0, log.read_text()[-2000:]
    [(html, png, node)] = query(db, "select page_sha256, png_sha256, node from page_screenshot")
    [(artifacts,)] = query(db, "select artifacts from snapshot")
    assert html in artifacts and node == "node-a"
    assert png_of_file(tmp_path, png).size[0] == 1280
    assert set(server.hits) == {PAGE} and tracker.accepted == 0


def png_of_file(data_dir: Path, sha: str) -> Image.Image:
    import gzip

    data = gzip.decompress((data_dir / "blobs" / sha[:2] / sha[2:4] / f"{sha}.gz").read_bytes())
    assert hashlib.sha256(data).hexdigest() == sha
    return Image.open(io.BytesIO(data))
