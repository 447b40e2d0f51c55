"""已整改, 确认 and 误报 from the command line (``xuncha rectify``, ``confirm``, ``dismiss``):
real processes on a real database; refusals in Chinese with exit code 2, nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from monitor.config import load_settings
from monitor.store.engine import session_scope
from monitor.store.models import AccountState, AuditLog, Finding, FindingEvent
from tests.conftest import add_account, add_unit, open_app
from tests.test_cli import cfg, xuncha  # noqa: F401

AT = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
LATER = datetime(2100, 1, 1, tzinfo=UTC)  # when the account was due before 已整改


def _world(cfg: Path) -> tuple[int, int]:  # noqa: F811
    app = open_app(load_settings(cfg))
    try:
        add_unit(app, "qx", "青溪县人民政府办公室")
        add_account(app, "wb-qx", "qx", "https://weibo.example/qx", name="青溪发布")
        ids = []
        with session_scope(app.engine) as s:
            s.add(AccountState(account_id="wb-qx", due_at=LATER,
                               etag='"v1"', judged_with="j1"))  # fmt: skip
            for kind in ("stale", "wording"):
                f = Finding(account_id="wb-qx", kind=kind, severity="warning", title=kind,
                            opened_at=AT, updated_at=AT)  # fmt: skip
                s.add(f)
                s.flush()
                ids.append(f.id or 0)
        return ids[0], ids[1]
    finally:
        app.close()


def _events(cfg: Path, finding: int) -> list[str]:  # noqa: F811
    app = open_app(load_settings(cfg))
    try:
        with Session(app.engine) as s:
            q = select(FindingEvent.event).where(FindingEvent.finding_id == finding)
            return list(s.exec(q.order_by(col(FindingEvent.id))).all())
    finally:
        app.close()


def test_rectify_confirm_and_dismiss_from_the_command_line(cfg: Path) -> None:  # noqa: F811
    stale, wording = _world(cfg)
    r = xuncha(cfg, "rectify", str(stale))
    assert r.returncode == 2 and "请填写整改说明" in r.stderr
    r = xuncha(cfg, "rectify", str(stale), "-m", "已发布新内容", "--by", "值班员张三")
    assert r.returncode == 0, r.stderr
    assert f"问题 #{stale}：已提交整改，将立即复查（值班员张三）" in r.stdout
    r = xuncha(cfg, "rectify", str(stale), "-m", "再次提交")
    assert r.returncode == 2 and "正在等待复查" in r.stderr
    r = xuncha(cfg, "dismiss", str(stale), "-m", "误报")
    assert r.returncode == 2 and "不属于需要复核的问题类别" in r.stderr
    r = xuncha(cfg, "dismiss", str(wording))
    assert r.returncode == 2 and "请填写误报原因" in r.stderr
    assert xuncha(cfg, "confirm", str(wording), "-m", "确属错别字").returncode == 0

    assert _events(cfg, stale) == ["rectified"]
    assert _events(cfg, wording) == ["confirmed"]
    app = open_app(load_settings(cfg))
    try:
        with Session(app.engine) as s:
            state = s.get(AccountState, "wb-qx")
            assert state is not None and state.judged_with == "" and state.etag == ""
            assert state.due_at < LATER  # due at once (the command's own clock), read in full
            actions = s.exec(select(AuditLog.action).order_by(col(AuditLog.seq))).all()
        assert [a for a in actions if a != "login"] == ["rectify", "review_confirm"]
    finally:
        app.close()
