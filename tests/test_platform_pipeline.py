"""A browser platform through the whole pipeline: config origins, the pool, evidence stored."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from localserver import LocalServer
from simulator import NOW, Simulator
from sqlmodel import Session, select

from monitor.patrol.pipeline import check
from monitor.store.models import Snapshot
from probes.fetch.browser import DEFAULT_EXECUTABLE, BrowserError, BrowserPool
from tests.conftest import add_account, add_unit, make_settings, open_app

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_EXECUTABLE).exists(), reason=f"{DEFAULT_EXECUTABLE} is not installed"
)


def test_douyin_account_is_probed_through_the_configured_origin(tmp_path: Path) -> None:
    with LocalServer(Simulator().routes()) as srv:
        settings = make_settings(
            tmp_path,
            platforms={"douyin": {"origins": {"www": srv.base}}},
            browser={"page_timeout_seconds": 10},
        )
        app = open_app(settings)
        try:
            add_unit(app, "u1", "示例市委网信办")
            add_account(
                app,
                "dy",
                "u1",
                "",
                name="示例市融媒体中心",
                platform="douyin",
                reader="",
                handle="MS4wLjABAAAAok",
            )

            async def go():
                async with app.probing() as tools:
                    return await check(app, tools, "dy", now=NOW)

            r = anyio.run(go)
        finally:
            app.close()
        assert r.snapshot.outcome == "ok", r.snapshot.detail
        assert r.snapshot.reader == "douyin"
        assert r.signals == []  # posted two hours ago; the 90-day-old pin does not count
        with Session(app.engine) as s:
            snap = s.exec(select(Snapshot)).one()
        kinds = {a["kind"] for a in snap.artifacts}
        # the page's HTML and the captured answers; its picture is drawn later from the stored
        # HTML (service/screenshots.py), never during the visit
        assert {"json", "page"} <= kinds and "screenshot" not in kinds
        assert settings.interval_minutes("douyin") == 240  # browser platforms: less often


def test_probing_hands_out_the_configured_pool_and_closes_it(tmp_path: Path) -> None:
    """One pool per ``probing()``, from ``[browser]``, in the tools; closed when it ends."""
    settings = make_settings(tmp_path, browser={"max_pages": 3})
    app = open_app(settings)

    async def go() -> tuple[BrowserPool | None, str]:
        async with app.probing() as tools:
            pool = tools.browser
            assert tools.http.settings.timeout_seconds == settings.http.timeout_seconds
        try:
            assert pool is not None
            await pool.visit("douyin", "http://127.0.0.1:9/")
        except BrowserError as e:
            return pool, e.message
        return pool, ""

    try:
        pool, after = anyio.run(go)
    finally:
        app.close()
    assert pool is not None and pool.settings.max_pages == 3
    assert after == "浏览器池已关闭" and not pool.running
