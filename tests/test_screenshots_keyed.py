"""Evidence pictures keyed by what the page showed, drawn when it matters and at a bounded
rate, their cost on /metrics (issue 32). Real Chromium, the real blob store, SQLite and
PostgreSQL; the helpers are ``tests/test_screenshots.py``'s.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from prometheus_client import generate_latest

from monitor.app import App
from monitor.service.metrics import REGISTRY
from monitor.store.engine import session_scope
from monitor.store.models import Finding, Snapshot
from tests.conftest import add_account, add_unit
from tests.screenshot_site import NOW, shots_dir
from tests.test_screenshots import _page_snapshot, pictures, rows, run_job

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


def _same_facts(app: App, source: int, *others: int) -> None:
    """Give ``others`` the facts of ``source``: looks that saw the same content."""
    with session_scope(app.engine) as s:
        src = s.get(Snapshot, source)
        assert src is not None
        for i in others:
            snap = s.get(Snapshot, i)
            assert snap is not None
            snap.facts_hash = src.facts_hash
            s.add(snap)


def test_a_finding_opened_on_content_seen_before_gets_its_picture(app: App) -> None:
    """A look that saw nothing new is not drawn — unless a finding opened at it (say the
    account fell silent): the finding's evidence then has its picture, drawn once."""
    add_unit(app, "u1")
    add_account(app, "a", "u1", "https://www.example.gov.cn/", platform="website")
    page = "<h1>市政府门户网站</h1><p>关于做好冬季安全生产工作的通知</p>"
    seen = _page_snapshot(app, "a", page.encode(), NOW - timedelta(days=30), "webpage")
    quiet = _page_snapshot(app, "a", (page + "<!-- 1 -->").encode(), NOW, "webpage")
    opened = _page_snapshot(
        app, "a", (page + "<!-- 2 -->").encode(), NOW + timedelta(hours=1), "webpage"
    )
    _same_facts(app, seen, quiet, opened)
    with session_scope(app.engine) as s:
        s.add(Finding(account_id="a", kind="stale", severity="warning", title="长期未更新",
                      opened_at=NOW + timedelta(hours=1), first_snapshot_id=opened))  # fmt: skip
    stats = run_job(app, NOW + timedelta(hours=2))
    assert (stats.drawn, stats.failed) == (1, 0)
    [row] = rows(app)
    assert row.page_sha256 == pictures(app, opened)[0].html_sha256
    # the three looks saw the same content: all show the one picture
    assert {pictures(app, i)[0].png_sha256 for i in (seen, quiet, opened)} == {row.png_sha256}
    assert run_job(app, NOW + timedelta(hours=3)).drawn == 0


def test_pictures_are_bounded_per_hour_and_their_cost_is_on_metrics(app: App) -> None:
    """``[screenshots] per_hour`` holds what waits beyond it for the next hour, in order; the
    count, bytes and CPU of the pictures drawn are in /metrics; a tall page is cut at
    ``max_height`` as a WebP a 通报 annex can carry."""
    app.settings.screenshots.per_hour = 2
    add_unit(app, "u1")
    add_account(app, "a", "u1", "https://www.example.gov.cn/", platform="website")
    rows_html = "".join(f"<p>第{i}条 关于做好冬季安全生产工作的通知</p>" for i in range(400))
    tall = f"<h1 style='background:#b8151b;color:#fff'>政务动态</h1>{rows_html}"
    pages = [f"<h1>第{i}版</h1>{tall}".encode() for i in range(3)]
    ids = [
        _page_snapshot(app, "a", html, NOW + timedelta(minutes=i), "webpage")
        for i, html in enumerate(pages)
    ]

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels or None) or 0.0

    before = (
        sample("xuncha_screenshots_total", outcome="drawn"),
        sample("xuncha_screenshot_bytes_total"),
        sample("xuncha_screenshot_cpu_seconds_total"),
    )
    first = run_job(app, NOW + timedelta(hours=1))
    held = run_job(app, NOW + timedelta(hours=1, minutes=30))
    later = run_job(app, NOW + timedelta(hours=2, minutes=1))
    assert [(r.drawn, r.behind) for r in (first, held, later)] == [(2, 1), (0, 0), (1, 0)]
    assert [bool(pictures(app, i)[0].png_sha256) for i in ids] == [True, True, True]

    drawn = rows(app)
    assert sample("xuncha_screenshots_total", outcome="drawn") - before[0] == 3
    assert sample("xuncha_screenshot_bytes_total") - before[1] == sum(r.size for r in drawn)
    assert sample("xuncha_screenshot_cpu_seconds_total") > before[2]
    text = generate_latest(REGISTRY).decode()
    assert 'xuncha_screenshots_total{outcome="drawn"}' in text
    assert "xuncha_screenshot_cpu_seconds_total" in text

    shot = pictures(app, ids[0])[0]
    assert shot.page_height > shot.height == app.settings.screenshots.max_height == 4000
    assert shot.cut and shot.media_type == "image/webp"
    assert shot.png_sha256
    data = app.blobs.get(shot.png_sha256)
    img = Image.open(io.BytesIO(data))
    assert (img.format, img.size) == ("WEBP", (1280, 4000))
    img.save(shots_dir() / f"tall-cut-1280-{app.engine.dialect.name}.webp")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_pictures_drawn_before_0020_keep_their_page_and_format(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """An installation upgraded past 0020: its rows keep their key (the page's sha256), name
    that page as the one drawn, and read as PNGs; the model reads them."""
    import sqlalchemy as sa
    from alembic import command

    from monitor.store.engine import alembic_config, make_engine
    from monitor.store.screenshots import rows_for

    url = (
        request.getfixturevalue("pg_url")
        if backend == "postgresql"
        else (f"sqlite:///{tmp_path / 'old.db'}")
    )
    engine = make_engine(url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0018")
    page, png = "a" * 64, "b" * 64
    with engine.begin() as c:
        c.execute(sa.text(
            "INSERT INTO page_screenshot (html_sha256, png_sha256, width, height, page_height,"
            " browser, rendered_at, elapsed_ms, attempts, error, node) VALUES (:h, :p, 1280,"
            " 900, 900, 'Chromium 120', :t, 10, 1, '', 'n')"
        ), {"h": page, "p": png, "t": NOW})  # fmt: skip
    command.upgrade(cfg, "head")
    with engine.connect() as c:
        row = rows_for(c, [page])[page]
    assert (row.page_sha256, row.png_sha256, row.media_type, row.size) == (page, png, "", 0)
    engine.dispose()
