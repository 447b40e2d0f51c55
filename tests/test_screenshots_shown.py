"""Pictures of stored pages as people get them: the console's snapshot page (the figure, its
hashes and drawing time, or "尚未生成网页截图"), the PNG served to those who may see the
snapshot and to nobody else, the API, and ``xuncha snapshot N [--screenshot] [--raw -o]``.

The console is looked at in a real Chromium at 1280 and 390 pixels; the pictures go to
``$TMPDIR/xuncha-evidence-shots``.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
import uvicorn
from PIL import Image
from sqlmodel import Session

from monitor.app import App
from monitor.service import screenshots
from monitor.store.engine import session_scope
from monitor.store.history import snapshot_detail
from monitor.store.models import PageScreenshot
from monitor.web import auth
from monitor.web.app import create_app
from monitor.web.auth import add_user, new_api_token
from monitor.web.server import bind
from probes.fetch.browser import CHROMIUM_ARGS
from tests.conftest import add_account, add_unit, make_settings, open_app
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
from tests.test_cli import xuncha
from tests.test_unchanged import patrol
from tests.test_web import FAST_HASHER, PASSWORD, client_for, login

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


@dataclass
class Scene:
    app: App
    drawn: int  # a snapshot whose page has its picture
    waiting: int  # one whose changed page has none yet
    png: str
    html: str
    tokens: dict[str, str] = field(default_factory=dict)


def draw_due(app: App) -> None:
    async def go() -> None:
        async with app.probing() as tools:
            assert tools.browser is not None
            await screenshots.render_due(
                app.engine, app.settings, app.blobs, tools.browser, NOW + timedelta(minutes=3)
            )

    anyio.run(go)


def build_scene(app: App, server: LocalServer, tracker: Tracker) -> Scene:
    """贵阳's government site checked twice (its news column changed in between), the job run
    after the first check only; and a user of 贵阳 and one of an unrelated unit."""
    add_unit(app, "GZ-GY", "贵阳市人民政府办公厅")
    add_unit(app, "XZ", "西藏自治区人民政府办公厅")
    add_account(app, "gy-site", "GZ-GY", server.url(PAGE), name="贵阳市人民政府门户网站",
                platform="website", reader="webpage", options=OPTIONS)  # fmt: skip
    first = patrol(app, "gy-site", NOW)
    draw_due(app)
    server[PAGE] = page_reply(
        news_page(server.base, tracker.url, ("关于2026年元旦放假安排的通知", "2026-11-24"))
    )
    second = patrol(app, "gy-site", NOW + timedelta(hours=1))
    with Session(app.engine) as s:
        d = snapshot_detail(s, first.snapshot.id)
        assert d is not None and d.screenshots[0].png_sha256
        scene = Scene(app, first.snapshot.id, second.snapshot.id,
                      d.screenshots[0].png_sha256, d.screenshots[0].html_sha256)  # fmt: skip
    with session_scope(app.engine) as s:
        for name, unit in (("duty_gy", "GZ-GY"), ("duty_xz", "XZ")):
            user = add_user(s, name, "duty", unit, PASSWORD, NOW)
            scene.tokens[name] = new_api_token(s, user, NOW)
    return scene


@pytest.fixture
def site() -> Iterator[tuple[LocalServer, Tracker]]:
    with government_site() as s:
        yield s


@pytest.fixture
def scene(
    tmp_path: Path, site: tuple[LocalServer, Tracker], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Scene]:
    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)  # hashing speed is not under test
    app = open_app(make_settings(tmp_path))
    yield build_scene(app, *site)
    app.close()


def test_the_snapshot_page_shows_the_picture_to_those_who_may_see_it(scene: Scene) -> None:
    sid, png_url = scene.drawn, f"/snapshots/{scene.drawn}/screenshots/0"
    gy = login(client_for(scene.app), "duty_gy")
    page = gy.get(f"/snapshots/{sid}").text
    assert "网页截图" in page and "不运行页面脚本" in page
    assert f'src="{png_url}"' in page and 'width="1280"' in page
    assert scene.png in page and scene.html in page and "校验通过" in page
    assert "2026-11-24 10:03:00" in page  # when it was drawn, in Beijing time
    assert "Chromium " in page and "宽 1280 像素" in page
    r = gy.get(png_url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    assert hashlib.sha256(r.content).hexdigest() == scene.png
    assert r.headers["x-content-type-options"] == "nosniff"
    assert gy.get(f"/snapshots/{sid}/screenshots/1").status_code == 404

    waiting = gy.get(f"/snapshots/{scene.waiting}").text
    assert "尚未生成网页截图" in waiting
    assert f"xuncha snapshot {scene.waiting} --screenshot" in waiting
    assert gy.get(f"/snapshots/{scene.waiting}/screenshots/0").status_code == 404

    xz = login(client_for(scene.app), "duty_xz")  # another unit's: as if it did not exist
    assert xz.get(png_url).status_code == 404
    assert xz.get(f"/snapshots/{sid}").status_code == 404

    api = client_for(scene.app)
    bearer = {"Authorization": f"Bearer {scene.tokens['duty_gy']}"}
    [shot] = api.get(f"/api/v1/snapshots/{sid}", headers=bearer).json()["screenshots"]
    assert shot["png_sha256"] == scene.png and shot["html_sha256"] == scene.html
    assert shot["rendered_at"] == "2026-11-24T10:03:00+08:00" and shot["width"] == 1280
    r = api.get(f"/api/v1{png_url}", headers=bearer)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == scene.png
    other = {"Authorization": f"Bearer {scene.tokens['duty_xz']}"}
    assert api.get(f"/api/v1{png_url}", headers=other).status_code == 404
    assert api.get(f"/api/v1{png_url}").status_code == 401

    # a picture whose blob was damaged is said to be, and not served
    path = scene.app.blobs.path(scene.png)
    path.write_bytes(b"not what was stored")
    page = gy.get(f"/snapshots/{sid}").text
    assert f"证据文件 {scene.png[:12]} 无法读取" in page and f'src="{png_url}"' not in page
    assert gy.get(png_url).status_code == 410


def test_the_console_with_the_picture_in_a_real_browser(scene: Scene) -> None:
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        create_app(scene.app, clock=lambda: NOW), log_config=None, access_log=False,
        lifespan="off",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
            for width in (1280, 390):
                ctx = browser.new_context(base_url=base, viewport={"width": width, "height": 900},
                                          locale="zh-CN")  # fmt: skip
                page = ctx.new_page()
                page.goto("/login?next=/snapshots/" + str(scene.drawn))
                page.get_by_label("用户名").fill("duty_gy")
                page.get_by_label("密码").fill(PASSWORD)
                page.get_by_role("button", name="登录").click()
                page.wait_for_url(f"**/snapshots/{scene.drawn}")
                img = page.locator("figure.page-shot img.shot")
                img.scroll_into_view_if_needed()  # loaded lazily: when it comes into view
                page.wait_for_function(
                    "() => document.querySelector('figure.page-shot img.shot').complete"
                )
                assert img.evaluate("i => i.naturalWidth") == 1280
                shown = img.bounding_box()
                assert shown is not None and shown["width"] <= width  # never wider than the screen
                page.screenshot(path=str(shots_dir() / f"console-snapshot-{width}.png"),
                                full_page=True)  # fmt: skip
                page.goto(f"/snapshots/{scene.waiting}")
                assert page.get_by_text("尚未生成网页截图").is_visible()
                ctx.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_snapshot_command_draws_and_writes_the_picture(
    tmp_path: Path, site: tuple[LocalServer, Tracker]
) -> None:
    cfg = tmp_path / "xuncha.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n[logging]\nlevel = "warning"\n', encoding="utf-8")
    assert xuncha(cfg, "init").returncode == 0
    server, tracker = site
    app = App.open(make_settings(tmp_path))  # the same database and evidence store
    add_unit(app, "u1")
    add_account(app, "site", "u1", server.url(PAGE), platform="website", reader="webpage",
                options=OPTIONS)  # fmt: skip
    add_account(app, "wb", "u1", "http://127.0.0.1:9/feed.xml")
    sid = patrol(app, "site", NOW).snapshot.id
    fetched = len(server.requests)

    shown = xuncha(cfg, "snapshot", str(sid))
    assert shown.returncode == 0, shown.stderr
    assert "网页截图" in shown.stdout and "尚未生成" in shown.stdout
    assert f"xuncha snapshot {sid} --screenshot" in shown.stdout
    out = tmp_path / "page.webp"
    made = xuncha(cfg, "snapshot", str(sid), "--screenshot", "--raw", "-o", str(out))
    assert made.returncode == 0, made.stderr
    written = Image.open(io.BytesIO(out.read_bytes()))
    assert written.format == "WEBP" and written.size[0] == 1280
    assert len(server.requests) == fetched and tracker.accepted == 0  # drawn offline
    as_json = json.loads(xuncha(cfg, "snapshot", str(sid), "--json").stdout)
    [shot] = as_json["screenshots"]
    assert shot["png_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert shot["verified"] is True and shot["html_sha256"] == as_json["artifacts"][0]["sha256"]
    again = xuncha(cfg, "snapshot", str(sid))
    assert shot["png_sha256"] in again.stdout and "校验通过" in again.stdout
    assert "绘制于" in again.stdout and "1280×" in again.stdout

    wb = patrol(app, "wb", NOW, as_patrol=False).snapshot.id  # a failed feed: no page
    none = xuncha(cfg, "snapshot", str(wb), "--screenshot", "--raw", "-o", str(out))
    assert none.returncode == 2 and "没有可截图的网页" in none.stderr
    app.close()


def test_a_page_drawn_on_demand_is_one_the_job_then_leaves_alone(
    scene: Scene, site: tuple[LocalServer, Tracker]
) -> None:
    """``--screenshot`` and the job share the table: what one drew, the other does not."""
    app = scene.app
    with Session(app.engine) as s:
        d = snapshot_detail(s, scene.waiting)
        assert d is not None

    async def on_demand() -> int:
        async with app.probing() as tools:
            assert tools.browser is not None
            return await screenshots.draw_snapshot(
                app.engine, app.settings, app.blobs, tools.browser, d.screenshots,
                d.summary.reader, NOW + timedelta(hours=2),
            )  # fmt: skip

    assert anyio.run(on_demand) == 1
    before = len(site[0].requests)

    async def job() -> screenshots.RenderStats:
        async with app.probing() as tools:
            assert tools.browser is not None
            return await screenshots.render_due(
                app.engine, app.settings, app.blobs, tools.browser, NOW + timedelta(hours=3)
            )

    assert anyio.run(job).drawn == 0
    assert len(site[0].requests) == before


def test_a_picture_drawn_before_pictures_were_keyed_by_content_is_still_shown(
    scene: Scene,
) -> None:
    """An installation upgraded from PNG pictures keyed by the page's bytes: such a row (as
    migration 0020 leaves it) is found for the snapshot whose page it shows and served as
    the PNG it is; the console says so like any other picture."""
    app = scene.app
    with Session(app.engine) as s:
        d = snapshot_detail(s, scene.waiting)
        assert d is not None and d.screenshots[0].png_sha256 is None
        html = d.screenshots[0].html_sha256
    png = io.BytesIO()
    Image.new("RGB", (1280, 900), (0xB8, 0x15, 0x1B)).save(png, "PNG")
    old = app.blobs.put(png.getvalue())
    with session_scope(app.engine) as s:
        s.add(PageScreenshot(html_sha256=html, page_sha256=html, png_sha256=old, width=1280,
                             height=900, page_height=900, browser="Chromium 120",
                             rendered_at=NOW, attempts=1))  # fmt: skip
    gy = login(client_for(app), "duty_gy")
    url = f"/snapshots/{scene.waiting}/screenshots/0"
    page = gy.get(f"/snapshots/{scene.waiting}").text
    assert f'src="{url}"' in page and old in page and "尚未生成网页截图" not in page
    r = gy.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert hashlib.sha256(r.content).hexdigest() == old
    # the job draws it anew under what the page showed, and that one is shown from then on
    draw_due(app)
    with Session(app.engine) as s:
        d = snapshot_detail(s, scene.waiting)
        assert d is not None
    assert d.screenshots[0].png_sha256 not in (None, old)
    assert d.screenshots[0].media_type == "image/webp"
    assert gy.get(url).headers["content-type"] == "image/webp"
