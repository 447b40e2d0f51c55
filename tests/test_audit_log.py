"""Issue 33 (等保 2.0 安全审计): the audit log records what an acceptance check asks for, no
user can change it, and ``xuncha audit verify`` finds a row edited or deleted by someone
who went around the application (the database's owner, triggers dropped).

The commands run as an operator runs them (``xuncha …`` in-process, the clock pinned);
every test runs on SQLite and on the local PostgreSQL.
"""

from __future__ import annotations

import getpass
import hashlib
import itertools
import json
import re
import threading
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import structlog
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.app import App
from monitor.cli import app as cli
from monitor.config import Settings
from monitor.patrol.daemon import _audit_reload
from monitor.store import audit
from monitor.store.engine import session_scope
from monitor.store.models import AuditLog, Finding
from monitor.web import auth
from tests.conftest import add_account, add_unit, make_settings, open_app
from tests.test_web import FAST_HASHER, NOW

CLI_AT = "2026-11-24T14:00:00+08:00"  # NOW in Beijing
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)


@pytest.fixture
def cfg(settings: Settings, tmp_path: Path) -> Path:
    c = tmp_path / "xuncha.toml"
    c.write_text(
        f'data_dir = "{tmp_path}"\n[logging]\nlevel = "warning"\n'
        f'[database]\nurl = "{settings.database_url}"\n',
        encoding="utf-8",
    )
    xapp = open_app(settings)
    add_unit(xapp, "GZ", "贵州省人民政府办公厅")
    add_account(xapp, "gz-weibo", "GZ", "https://weibo.example/gz", name="贵州发布")
    with session_scope(xapp.engine) as s:
        s.add(Finding(account_id="gz-weibo", kind="stale", severity="veto", title="超期未更新",
                      detail="", rule="national.max_gap_days(14)", opened_at=NOW,
                      updated_at=NOW))  # fmt: skip
    xapp.close()
    return c


def xuncha(cfg: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    saved = structlog.get_config()
    try:
        r = CliRunner().invoke(
            cli, ["--config", str(cfg), *args], input=input, env={"XUNCHA_CLOCK": CLI_AT}
        )
    finally:
        structlog.configure(**saved)
    return r.exit_code, r.stdout, r.stderr


def verify(cfg: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out, err = xuncha(cfg, "audit", "verify", "--json")
    assert code in (0, 1), err
    return code, json.loads(out)


def operate(cfg: Path, tmp_path: Path) -> None:
    """A morning's administration, every kind the log must hold."""
    steps = [
        ("users", "add", "zhang", "--role", "supervisor", "--unit", "GZ", "--password-stdin"),
        ("users", "passwd", "zhang", "--password-stdin"),
        ("users", "token", "zhang", "--label", "大屏"),
        ("users", "token", "zhang", "--revoke-all"),
        ("users", "role", "zhang", "duty", "--unit", "GZ"),
        ("users", "totp", "zhang"),
        ("users", "disable", "zhang"),
        ("users", "enable", "zhang"),
        ("silence", "add", "--unit", "GZ", "--for", "2h", "--why", "系统维护"),
        ("silence", "expire", "1"),
        ("ack", "1", "--note", "已通知主办单位"),
    ]
    passwords = iter(["First pass-1\n", "Second pass-2\n"])
    for step in steps:
        needs = "--password-stdin" in step
        code, _, err = xuncha(cfg, *step, input=next(passwords) if needs else None)
        assert code == 0, (step, err)
    sample = tmp_path / "registry.xlsx"
    assert xuncha(cfg, "registry", "template", str(sample))[0] == 0
    code, _, err = xuncha(cfg, "registry", "import", str(sample))
    assert code == 0, err


def test_the_log_holds_what_was_done_by_whom(settings: Settings, cfg: Path, tmp_path: Path) -> None:
    operate(cfg, tmp_path)
    code, out, _ = xuncha(cfg, "audit", "list", "--json", "--limit", "0")
    assert code == 0
    rows = json.loads(out)[::-1]  # oldest first
    assert [r["action"] for r in rows] == [
        "user_add", "user_passwd", "token_issue", "token_revoke", "user_role", "user_totp",
        "user_disable", "user_enable", "silence_add", "silence_expire", "ack",
        "registry_import",
    ]  # fmt: skip
    assert [r["seq"] for r in rows] == list(range(1, 13))
    me = f"cli:{getpass.getuser()}"
    assert {r["actor"] for r in rows} == {me} and {r["via"] for r in rows} == {"cli"}
    assert re.fullmatch(r"2026-11-24T14:00:\d\d\.\d{6}\+08:00", rows[0]["at"])  # to the µs
    assert rows[4]["detail"] == {"from": {"role": "supervisor", "unit": "GZ"},
                                 "to": {"role": "duty", "unit": "GZ"}}  # fmt: skip
    assert rows[10]["target"] == "问题 #1" and rows[10]["detail"]["note"] == "已通知主办单位"
    assert rows[11]["detail"]["accounts_added"] >= 1
    assert all(r["algo"] == "sm3" for r in rows)  # this machine's OpenSSL offers SM3
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    text = json.dumps(rows, ensure_ascii=False)
    assert "Second pass" not in text and "secret=" not in text  # no secret is recorded
    # the table for people, and the filters
    code, out, _ = xuncha(cfg, "audit", "list", "--action", "user_role")
    assert code == 0 and "更改角色" in out and "user_add" not in out
    code, _, err = xuncha(cfg, "audit", "list", "--action", "nope")
    assert code == 2 and "没有操作 'nope'" in err
    code, out, _ = xuncha(cfg, "audit", "list", "--since", "2026-11-25", "--json")
    assert code == 0 and json.loads(out) == []
    code, out = verify(cfg)
    assert code == 0 and out["intact"] and out["rows"] == 12 and out["last_seq"] == 12


def test_exports_carry_the_chain_and_are_recorded(cfg: Path, tmp_path: Path) -> None:
    operate(cfg, tmp_path)
    path = tmp_path / "audit.json"
    code, out, _ = xuncha(cfg, "audit", "export", str(path))
    assert code == 0 and "已导出审计记录 12 条" in out
    rows = json.loads(path.read_text(encoding="utf-8"))
    # the file alone proves the chain: every row re-hashed from its exported fields
    prev = ""
    for r in rows:
        fields = {k: v for k, v in r.items() if k in AuditLog.model_fields}
        row = AuditLog(**{**fields, "at": datetime.fromisoformat(r["at"]),
                          "detail": audit._canonical(r["detail"])})  # fmt: skip
        assert row.prev_hash == prev and audit.row_hash(row) == r["hash"]
        prev = r["hash"]
    csv_path = tmp_path / "audit.csv"
    assert xuncha(cfg, "audit", "export", str(csv_path), "--action", "ack")[0] == 0
    lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("序号,时间,操作人,途径,操作,") and len(lines) == 2
    code, out, _ = xuncha(cfg, "audit", "list", "--action", "audit_export", "--json")
    assert [r["target"] for r in json.loads(out)] == [str(csv_path), str(path)]


def test_no_user_can_change_a_row(app: App) -> None:
    """The database refuses UPDATE and DELETE of audit rows, whoever asks; and the code has
    no statement that would."""
    with session_scope(app.engine) as s:
        audit.record(s, audit.cli_actor(), "user_add", NOW, target="zhang")
    for sql in ("UPDATE audit_log SET target = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), app.engine.begin() as c:
            c.execute(sa.text(sql))
    if app.engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), app.engine.begin() as c:
            c.execute(sa.text("TRUNCATE audit_log"))
    with Session(app.engine) as s:
        assert [r.target for r in s.exec(select(AuditLog)).all()] == ["zhang"]
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "monitor").rglob("*.py"))
    assert not re.search(r"(update|delete)\(\s*AuditLog", code)
    assert not re.search(r"(UPDATE|DELETE FROM)\s+audit_log", code)


def tamper(app: App, sql: str, **params: object) -> None:
    """What the database's owner can do around the application: triggers off, then ``sql``."""
    with app.engine.begin() as c:
        if app.engine.dialect.name == "postgresql":
            c.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            c.execute(sa.text(sql), params)
            c.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        else:
            c.execute(sa.text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            c.execute(sa.text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
            c.execute(sa.text(sql), params)


def test_verify_finds_an_edited_row(app: App, cfg: Path, tmp_path: Path) -> None:
    operate(cfg, tmp_path)
    assert verify(cfg)[0] == 0
    # someone hides who was given a role: the row no longer matches its hash
    tamper(app, "UPDATE audit_log SET target = 'li' WHERE seq = 5")
    code, out = verify(cfg)
    assert code == 1 and not out["intact"]
    assert out["problems"] == [{"seq": 5, "problem": "第 5 条的内容与其哈希不符（被改动）"}]
    code, said, _ = xuncha(cfg, "audit", "verify")
    assert code == 1 and "审计记录链被破坏" in said and "第 5 条的内容与其哈希不符" in said


def test_verify_finds_a_row_rewritten_with_a_new_hash(app: App, cfg: Path, tmp_path: Path) -> None:
    """An editor who re-hashes the row breaks the next row's link instead."""
    operate(cfg, tmp_path)
    with Session(app.engine) as s:
        row = s.get(AuditLog, 5)
        assert row is not None
        row.target = "li"
        new_hash = audit.row_hash(row)
    tamper(app, "UPDATE audit_log SET target = 'li', hash = :h WHERE seq = 5", h=new_hash)
    code, out = verify(cfg)
    assert code == 1
    assert [p["problem"] for p in out["problems"]] == ["与第 5 条的链接不符（第 5 条被改动或替换）"]


def test_verify_finds_a_deleted_row_and_deleted_last_rows(
    app: App, cfg: Path, tmp_path: Path
) -> None:
    operate(cfg, tmp_path)
    tamper(app, "DELETE FROM audit_log WHERE seq = 3")
    code, out = verify(cfg)
    assert code == 1 and out["rows"] == 11
    assert [p["problem"] for p in out["problems"]] == ["第 3 条缺失（被删除）"]
    tamper(app, "DELETE FROM audit_log WHERE seq >= 11")  # the newest: the head remembers
    code, out = verify(cfg)
    assert code == 1
    assert [p["problem"] for p in out["problems"]] == [
        "第 3 条缺失（被删除）",
        "第 11–12 条缺失（末尾的记录被删除）",
    ]


def test_rows_get_their_place_one_at_a_time(app: App) -> None:
    """Twenty writers at once (threads, each its own connection and transaction): 1…20,
    no gap, no fork, the chain intact."""
    barrier = threading.Barrier(20)

    def write(i: int) -> None:
        barrier.wait()
        with session_scope(app.engine) as s:
            audit.record(s, audit.Actor(f"user{i}", "web", "127.0.0.1"), "login", NOW)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with Session(app.engine) as s:
        rows = s.exec(select(AuditLog).order_by(AuditLog.seq)).all()
        assert [r.seq for r in rows] == list(range(1, 21))
        assert {r.actor for r in rows} == {f"user{i}" for i in range(20)}
        v = audit.verify(s)
    assert v.intact and v.rows == 20


def test_sm3_where_offered_sha256_elsewhere(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    # GB/T 32905-2016 Appendix A.1: SM3("abc")
    assert hashlib.new("sm3", b"abc").hexdigest() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    assert audit.chain_algo() == "sm3"
    with session_scope(app.engine) as s:
        audit.record(s, audit.cli_actor(), "user_add", NOW, target="a")
    real_new = hashlib.new

    def no_sm3(name: str, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        if name.lower() == "sm3":
            raise ValueError("unsupported hash type sm3")
        return real_new(name, *args, **kw)

    monkeypatch.setattr(hashlib, "new", no_sm3)
    assert audit.chain_algo() == "sha256"
    with session_scope(app.engine) as s:
        audit.record(s, audit.cli_actor(), "user_add", NOW, target="b")
        v = audit.verify(s)
    assert v.algos == {"sm3", "sha256"}
    assert [t for _, t in v.problems] == ["第 1 条用 sm3 记录，本机无此算法，无法校验"]
    monkeypatch.setattr(hashlib, "new", real_new)
    with Session(app.engine) as s:
        assert audit.verify(s).intact  # a machine with SM3 checks both


def test_a_configuration_reload_is_recorded(app: App, tmp_path: Path) -> None:
    rt = SimpleNamespace(app=app, config_path=tmp_path / "xuncha.toml")
    import anyio

    anyio.run(_audit_reload, rt, True, {"changed": ["alerts"], "needs_restart": []})
    anyio.run(_audit_reload, rt, False, {"error": "第 3 行：格式错误"})
    with Session(app.engine) as s:
        rows = s.exec(select(AuditLog).order_by(AuditLog.seq)).all()
    assert [(r.action, r.success, r.via) for r in rows] == [
        ("config_reload", True, "daemon"),
        ("config_reload", False, "daemon"),
    ]
    assert rows[0].actor == "daemon:test-node" and json.loads(rows[0].detail)["changed"] == [
        "alerts"
    ]


def test_the_chain_survives_a_move_to_postgresql(tmp_path: Path, pg_url: str) -> None:
    """``xuncha db copy`` (SQLite → PostgreSQL) carries every row and the head: the chain
    verifies on the new database, and goes on from where it was."""
    from monitor.cli.db_copy import copy_database
    from monitor.store.engine import make_engine, upgrade

    sqlite_app = open_app(make_settings(tmp_path))
    with session_scope(sqlite_app.engine) as s:
        for i in range(5):
            audit.record(s, audit.cli_actor(), "user_add", NOW, target=f"user{i}",
                         detail={"role": "duty", "中文": "单位"})  # fmt: skip
    target = make_engine(pg_url)
    upgrade(target)
    copy_database(sqlite_app.engine, target)
    sqlite_app.close()
    with session_scope(target) as s:
        assert audit.verify(s).intact
        audit.record(s, audit.cli_actor(), "user_passwd", NOW, target="user1")
    with Session(target) as s:
        v = audit.verify(s)
    assert v.intact and v.rows == 6 and v.last_seq == 6
    target.dispose()
