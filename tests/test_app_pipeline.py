"""A mobile client through the whole pipeline: first signer pinned, a changed signer alerted."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from monitor.demo.platform import SimulatedPlatform
from monitor.store.models import Account, Finding
from tests.conftest import add_account, add_unit
from tests.test_patrol import run_check

APKS = Path(__file__).parent / "fixtures" / "apks"
APK = "application/vnd.android.package-archive"


def open_kinds(app, account: str) -> set[str]:
    with Session(app.engine) as s:
        rows = s.exec(select(Finding).where(Finding.account_id == account)).all()
        return {f.kind for f in rows if f.status == "open"}


def test_first_signer_is_pinned_then_a_new_signer_is_a_finding(app) -> None:
    platform = SimulatedPlatform().start()
    try:
        platform.add("/dl/app.apk", (APKS / "v123.apk").read_bytes(), APK)
        add_unit(app, "u1")
        url = f"{platform.base_url}/dl/app.apk"
        add_account(app, "gov-app", "u1", url, platform="app", reader="app", name="掌上政务")

        r = run_check(app, "gov-app")
        assert r.observation.app is not None and r.observation.app.is_apk
        kinds = {s.kind for s in r.signals}
        assert "app_signer_pinned" in kinds
        assert "stale" not in kinds  # an app has no posts to be stale about
        with Session(app.engine) as s:
            pinned = s.get(Account, "gov-app").options["signer_sha256"]
        assert pinned == r.observation.app.signer_sha256

        # the same file again: nothing new; the pin notice resolves quietly
        r = run_check(app, "gov-app")
        assert not r.signals

        # a repackaged APK signed by another key
        platform.add("/dl/app.apk", (APKS / "otherkey.apk").read_bytes(), APK)
        r = run_check(app, "gov-app")
        assert "app_signer_changed" in {s.kind for s in r.signals}
        assert "app_signer_changed" in open_kinds(app, "gov-app")
    finally:
        platform.stop()
