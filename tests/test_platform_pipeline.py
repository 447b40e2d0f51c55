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
from probes.fetch.browser import DEFAULT_EXECUTABLE
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
            add_account(app, "dy", "u1", "", platform="douyin", reader="", handle="MS4wLjABAAAAok")

            async def go():
                async with app.probing() as fetcher:
                    return await check(app, fetcher, "dy", now=NOW)

            r = anyio.run(go)
        finally:
            app.close()
        assert r.snapshot.outcome == "ok", r.snapshot.detail
        assert r.snapshot.reader == "douyin"
        assert r.signals == []  # posted two hours ago; the 90-day-old pin does not count
        with Session(app.engine) as s:
            snap = s.exec(select(Snapshot)).one()
        kinds = {a["kind"] for a in snap.artifacts}
        assert {"json", "page", "screenshot"} <= kinds
        shot = next(a for a in snap.artifacts if a["kind"] == "screenshot")
        assert app.blobs.get(shot["sha256"])[:2] == b"\xff\xd8"
        assert settings.interval_minutes("douyin") == 240  # browser platforms: less often
