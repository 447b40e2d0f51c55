"""History, snapshot detail and diffs, as the CLI and the console show them."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlmodel import Session
from typer.testing import CliRunner

from monitor.app import App
from monitor.cli import app as cli
from monitor.store.changes import diff_snapshots, posting_timeline, profile_changes
from monitor.store.engine import session_scope
from monitor.store.history import account_history, snapshot_detail, verify_artifacts
from monitor.store.models import Finding, Snapshot, UTCDateTime
from monitor.store.scope import units_below
from monitor.store.snapshots import add_snapshot
from tests.conftest import add_account, add_unit

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def post(pid: str, at: datetime, title: str = "") -> dict[str, Any]:
    return {"id": pid, "published_at": at.isoformat(), "title": title or f"通知 {pid}"}


def add_snap(
    app: App,
    account: str,
    at: datetime,
    *,
    posts: list[dict[str, Any]] = (),  # type: ignore[assignment]
    profile: dict[str, Any] | None = None,
    outcome: str = "ok",
    artifacts: list[dict[str, Any]] | None = None,
    sight: str | None = None,
    detail: str = "",
) -> int:
    """A snapshot as the writer stores it. ``sight`` as migration 0016 records it ("posts",
    "undated", "none"); left None, the row is like those written before it (legacy)."""
    profile = profile or {"name": account}
    seen = {"outcome": outcome, "status_code": 200, "profile": profile, "posts": list(posts)}
    if sight is not None:
        seen["sight"] = "posts" if sight == "undated" else sight
    if detail:
        seen["detail"] = detail
    facts = {**seen, "fetched_at": at.isoformat()}
    dated = [p["published_at"] for p in posts if p.get("published_at") and not p.get("pinned")]
    latest = max((datetime.fromisoformat(d) for d in dated), default=None)
    with session_scope(app.engine) as s:
        snap = Snapshot(
            account_id=account,
            taken_at=at,
            outcome=outcome,
            status_code=200,
            detail=detail,
            latest_post_at=latest,
            post_count=len(posts),
            sight=sight,
            artifacts=artifacts or [],
        )
        add_snapshot(s, snap, facts)  # its facts stored, its profile marked, as a check would
        s.flush()
        assert snap.id is not None
        return snap.id


@pytest.fixture
def acct(app: App) -> App:
    add_unit(app, "gz", "贵州省网信办")
    add_unit(app, "gy", "贵阳市政府", parent="gz")
    add_unit(app, "gy-hx", "花溪区政府", parent="gy")
    add_unit(app, "zy", "遵义市政府", parent="gz")
    add_account(app, "a1", "gy", "http://127.0.0.1/a1", name="贵阳发布")
    add_account(app, "a2", "zy", "http://127.0.0.1/a2", name="遵义发布")
    return app


def test_history_pages_newest_first_without_repeats(acct: App) -> None:
    ids = [add_snap(acct, "a1", T0 + timedelta(hours=i)) for i in range(7)]
    # two snapshots at the same moment are ordered by id, and neither is skipped
    ids.append(add_snap(acct, "a1", T0 + timedelta(hours=6)))
    add_snap(acct, "a2", T0)
    with Session(acct.engine) as s:
        pages, before = [], None
        while page := account_history(s, "a1", before_id=before, limit=3):
            pages.append([x.id for x in page])
            before = page[-1].id
        got = [i for p in pages for i in p]
        assert got == [ids[7], ids[6], *reversed(ids[:6])]
        assert [len(p) for p in pages] == [3, 3, 2]
        assert account_history(s, "a1", before_id=99999) == []
        # JSON times: the display zone (default Asia/Shanghai) with its offset, to the second
        assert account_history(s, "a2")[0].to_dict()["taken_at"] == "2026-11-01T10:00:00+08:00"
        assert account_history(s, "a2")[0].to_dict("UTC")["taken_at"] == "2026-11-01T02:00:00+00:00"


def test_snapshot_detail_and_blob_verification(acct: App) -> None:
    digest = acct.blobs.put(b"<html>page</html>")
    sid = add_snap(
        acct,
        "a1",
        T0,
        posts=[post("p1", T0 - timedelta(days=1))],
        artifacts=[{"kind": "page", "media_type": "text/html", "sha256": digest, "size": 17}],
    )
    with Session(acct.engine) as s:
        d = snapshot_detail(s, sid)
        assert snapshot_detail(s, sid + 100) is None
    assert d is not None
    assert (d.account_name, d.owner_code, d.owner_name) == ("贵阳发布", "gy", "贵阳市政府")
    assert d.facts["posts"][0]["id"] == "p1"
    [art] = verify_artifacts(acct.blobs, d.artifacts)
    assert art.verified and art.present
    # a tampered blob is reported, not trusted
    path = acct.blobs.path(digest)
    import gzip

    path.write_bytes(gzip.compress(b"<html>changed</html>"))
    [art] = verify_artifacts(acct.blobs, d.artifacts)
    assert art.present and not art.verified and "不符" in art.problem
    json.dumps(d.to_dict(), ensure_ascii=False)


def test_diff_reports_profile_posts_outcome(acct: App) -> None:
    a = add_snap(
        acct,
        "a1",
        T0,
        posts=[post("p1", T0 - timedelta(days=2)), post("p2", T0 - timedelta(days=1))],
        profile={"name": "贵阳发布", "verified": True, "followers": 10},
    )
    b = add_snap(
        acct,
        "a1",
        T0 + timedelta(days=1),
        posts=[post("p2", T0 - timedelta(days=1)), post("p3", T0 + timedelta(hours=5))],
        profile={"name": "贵阳发布官方", "verified": True, "followers": 12},
    )
    c = add_snap(acct, "a2", T0)
    with Session(acct.engine) as s:
        d = diff_snapshots(s, a, b)
        with pytest.raises(ValueError, match="不属于同一账号"):
            diff_snapshots(s, a, c)
        with pytest.raises(ValueError, match="不存在"):
            diff_snapshots(s, a, 424242)
    assert {(x.field, x.old, x.new) for x in d.profile} == {
        ("name", "贵阳发布", "贵阳发布官方"),
        ("followers", 10, 12),
    }
    assert [p["id"] for p in d.posts_added] == ["p3"]
    assert [p["id"] for p in d.posts_removed] == ["p1"]
    assert ("latest_post_at", T0 - timedelta(days=1), T0 + timedelta(hours=5)) in {
        (x.field, x.old, x.new) for x in d.changes
    }
    assert d.a_is_older and not d.empty
    assert d.to_dict()["profile"][0]["field"] == "name"


def test_timeline_counts_each_post_once_on_local_days(acct: App) -> None:
    # 2026-11-01 17:00 UTC is 11-02 01:00 in Beijing: counted on the local day
    late = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)
    p1, p2 = post("p1", T0), post("p2", late)
    add_snap(acct, "a1", T0 + timedelta(hours=1), posts=[p1])
    add_snap(acct, "a1", T0 + timedelta(hours=2), posts=[p1])  # same content again
    add_snap(acct, "a1", late + timedelta(hours=1), posts=[p2, p1])
    now = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)
    with Session(acct.engine) as s:
        tl = posting_timeline(s, "a1", days=5, now=now)
    assert tl == [
        (date(2026, 10, 30), 0),
        (date(2026, 10, 31), 0),
        (date(2026, 11, 1), 1),
        (date(2026, 11, 2), 1),
        (date(2026, 11, 3), 0),
    ]


def test_timeline_finds_posts_that_only_older_snapshots_show(acct: App) -> None:
    # a feed that shows only its newest post: each post is in one snapshot only
    for day in range(1, 6):
        when = datetime(2026, 11, day, 2, tzinfo=UTC)
        add_snap(acct, "a1", when + timedelta(hours=1), posts=[post(f"p{day}", when)])
        add_snap(acct, "a1", when + timedelta(hours=2), posts=[post(f"p{day}", when)])
    add_snap(acct, "a1", datetime(2026, 11, 5, 6, tzinfo=UTC), outcome="error")
    now = datetime(2026, 11, 5, 12, tzinfo=UTC)
    with Session(acct.engine) as s:
        tl = posting_timeline(s, "a1", days=4, now=now)
    assert [c for _, c in tl] == [1, 1, 1, 1]


def test_profile_changes_newest_first(acct: App) -> None:
    add_snap(acct, "a1", T0, profile={"name": "贵阳发布", "bio": "旧简介", "followers": 1})
    add_snap(acct, "a1", T0 + timedelta(hours=1), profile={"name": "贵阳发布", "bio": "旧简介"})
    s2 = add_snap(acct, "a1", T0 + timedelta(hours=2), profile={"name": "贵阳发布", "bio": "新"})
    s3 = add_snap(acct, "a1", T0 + timedelta(hours=3), profile={"name": "假冒发布", "bio": "新"})
    with Session(acct.engine) as s:
        ch = profile_changes(s, "a1")
    assert [(c.snapshot_id, c.field, c.old, c.new) for c in ch] == [
        (s3, "name", "贵阳发布", "假冒发布"),
        (s2, "bio", "旧简介", "新"),
    ]


def test_profile_changes_are_pinned_to_the_exact_snapshot(acct: App) -> None:
    ids = []
    for i in range(20):
        name = "贵阳发布" if i < 7 else "贵阳发布2"
        bio = "旧" if i < 13 else "新"
        outcome = "error" if i in (6, 10, 11) else "ok"
        prof = {"name": name, "bio": bio, "followers": i}
        ids.append(add_snap(acct, "a1", T0 + timedelta(hours=i), profile=prof, outcome=outcome))
    with Session(acct.engine) as s:
        ch = profile_changes(s, "a1")
        one = profile_changes(s, "a1", limit=1)
    assert [(c.snapshot_id, c.previous_snapshot_id, c.field) for c in ch] == [
        (ids[13], ids[12], "bio"),
        (ids[7], ids[5], "name"),  # 6 failed: the change is between the ok ones around it
    ]
    assert [c.field for c in one] == ["bio"]


def test_a_change_undone_between_two_looks_is_still_listed(acct: App) -> None:
    ids = [
        add_snap(acct, "a1", T0 + timedelta(hours=i), profile={"name": n, "followers": i})
        for i, n in enumerate(["贵阳发布"] * 50 + ["澳门赌场"] + ["贵阳发布"] * 50)
    ]
    with Session(acct.engine) as s:
        ch = profile_changes(s, "a1")
    assert [(c.snapshot_id, c.old, c.new) for c in ch] == [
        (ids[51], "澳门赌场", "贵阳发布"),
        (ids[50], "贵阳发布", "澳门赌场"),
    ]


def test_units_below_walks_the_tree(acct: App) -> None:
    with Session(acct.engine) as s:
        assert units_below(s, "gz") == {"gz", "gy", "gy-hx", "zy"}
        assert units_below(s, "gy") == {"gy", "gy-hx"}
        assert units_below(s, "nope") == set()


# -- CLI --------------------------------------------------------------------------------------


def _cli(app: App, *args: str, env: dict[str, str] | None = None) -> Any:
    """The CLI in-process (fast); logging, which it points at the runner's captured streams,
    is put back afterwards so later tests do not log into a closed file."""
    cfg = Path(app.settings.data_dir) / "xuncha.toml"
    cfg.write_text(
        f'data_dir = "{app.settings.data_dir}"\n[database]\nurl = "{app.settings.database_url}"\n'
    )
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return CliRunner().invoke(cli, ["--config", str(cfg), *args], env=env)
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)


def test_cli_snapshot_diff_and_raw(acct: App, tmp_path: Path) -> None:
    digest = acct.blobs.put(b"<script>alert(1)</script>\x00binary")
    art = [{"kind": "page", "media_type": "text/html", "sha256": digest, "size": 33}]
    a = add_snap(acct, "a1", T0, posts=[post("p1", T0, "[bold]假[/]")], artifacts=art)
    b = add_snap(acct, "a1", T0 + timedelta(hours=1), posts=[post("p2", T0)], artifacts=art)

    r = _cli(acct, "snapshot", str(a))  # scraped text is shown, never interpreted
    assert r.exit_code == 0, r.output
    assert "[bold]假[/]" in r.output and "通过" in r.output

    r = _cli(acct, "snapshot", str(a), "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["artifacts"][0]["verified"] is True and d["facts"]["posts"][0]["id"] == "p1"

    out = tmp_path / "raw.bin"
    r = _cli(acct, "snapshot", str(a), "--raw", "--output", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == b"<script>alert(1)</script>\x00binary"
    r = _cli(acct, "snapshot", str(a), "--raw")  # raw bytes never go to a terminal
    assert r.exit_code == 2 and "--output" in r.output

    r = _cli(acct, "diff", str(a), str(b), "--json")
    assert r.exit_code == 0, r.output
    assert [p["id"] for p in json.loads(r.stdout)["posts_added"]] == ["p2"]
    r = _cli(acct, "diff", str(a), str(b))
    assert r.exit_code == 0 and "p2" in r.output

    r = _cli(acct, "snapshot", "999999")
    assert r.exit_code == 2 and "不存在" in r.output
    other = add_snap(acct, "a2", T0)
    r = _cli(acct, "diff", str(a), str(other))
    assert r.exit_code == 2 and "不属于同一账号" in r.output

    r = _cli(acct, "history", "a1", "--json", "--limit", "1")
    assert r.exit_code == 0, r.output
    h = json.loads(r.stdout)
    assert [x["id"] for x in h["snapshots"]] == [b] and h["next_before"] == b
    r = _cli(acct, "history", "a1", "--json", "--before", str(b))
    assert [x["id"] for x in json.loads(r.stdout)["snapshots"]] == [a]


def test_cli_shows_times_in_the_display_zone(acct: App) -> None:
    """One zone, one format: a post's time reads the same in the snapshot's header and in its
    posts table (local, to the minute), the snapshot's own time to the second, and every
    ``--json`` time is ISO with the zone's offset; the stored facts and evidence stay UTC."""
    published = datetime(2026, 10, 31, 17, 5, 30, tzinfo=UTC)  # 11-01 01:05 in Beijing
    taken = T0 + timedelta(seconds=7)
    a = add_snap(acct, "a1", T0 - timedelta(days=1), posts=[post("p0", published)])
    b = add_snap(acct, "a1", taken, posts=[post("p1", published), post("p2", T0 - timedelta(2))])
    with session_scope(acct.engine) as s:
        s.add(Finding(
            account_id="a1", kind="stale", severity="veto", title="已 15 天未更新",
            opened_at=taken, updated_at=taken, deadline=datetime(2026, 11, 3, 15, 59, tzinfo=UTC),
            first_snapshot_id=b, last_snapshot_id=b,
            evidence={"latest_post_at": published.isoformat()},
        ))  # fmt: skip
        s.add(Finding(
            account_id="a1", kind="gone", severity="high", title="账号无法访问", status="resolved",
            opened_at=T0, updated_at=T0, resolved_at=datetime(2026, 11, 1, 16, 30, tzinfo=UTC),
        ))  # fmt: skip
    env = {"COLUMNS": "200", "XUNCHA_CLOCK": "2026-11-02T09:00:00+08:00"}

    r = _cli(acct, "snapshot", str(b), env=env)
    assert r.exit_code == 0, r.output
    header = {k.strip(): v for k, _, v in (ln.partition("：") for ln in r.output.splitlines())}
    assert header["时间"] == "2026-11-01 10:00:07"  # the snapshot's own time: to the second
    assert header["最新发布"] == "2026-11-01 01:05"
    [row] = [ln for ln in r.output.splitlines() if "通知 p1" in ln]
    assert "2026-11-01 01:05" in row  # the same time, the same way, in the posts table
    assert "2026-10-30 10:00" in next(ln for ln in r.output.splitlines() if "通知 p2" in ln)
    assert "+00:00" not in r.output and "T17:05" not in r.output

    r = _cli(acct, "snapshot", str(b), "--json", env=env)
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["taken_at"] == "2026-11-01T10:00:07+08:00"
    assert d["latest_post_at"] == "2026-11-01T01:05:30+08:00"
    # the facts are the record (what facts_hash covers): handed on as stored, in UTC
    assert d["facts"]["posts"][0]["published_at"] == "2026-10-31T17:05:30+00:00"

    r = _cli(acct, "history", "a1", "--json", env=env)
    assert r.exit_code == 0, r.output
    h = json.loads(r.stdout)
    assert [x["taken_at"] for x in h["snapshots"]] == [
        "2026-11-01T10:00:07+08:00",
        "2026-10-31T10:00:00+08:00",
    ]
    assert h["snapshots"][0]["latest_post_at"] == "2026-11-01T01:05:30+08:00"
    stale = next(f for f in h["findings"] if f["kind"] == "stale")
    assert (stale["opened_at"], stale["deadline"]) == (
        "2026-11-01T10:00:07+08:00",
        "2026-11-03T23:59:00+08:00",
    )

    r = _cli(acct, "findings", "--all", "--json", env=env)
    assert r.exit_code == 1, r.output  # one is open
    found = {f["kind"]: f for f in json.loads(r.stdout)}
    assert found["stale"]["opened_at"] == "2026-11-01T10:00:07+08:00"
    assert found["gone"]["resolved_at"] == "2026-11-02T00:30:00+08:00"
    assert found["stale"]["evidence"] == {"latest_post_at": "2026-10-31T17:05:30+00:00"}
    r = _cli(acct, "findings", env=env)
    assert "2026-11-01 10:00" in r.output and "2026-11-03 23:59" in r.output

    r = _cli(acct, "diff", str(a), str(b), "--json", env=env)
    assert r.exit_code == 0, r.output
    diff = json.loads(r.stdout)
    assert diff["b"]["taken_at"] == "2026-11-01T10:00:07+08:00"
    assert [(p["id"], p["published_at"]) for p in diff["posts_added"]] == [
        ("p1", "2026-11-01T01:05:30+08:00"),
        ("p2", "2026-10-30T10:00:00+08:00"),
    ]
    r = _cli(acct, "diff", str(a), str(b), env=env)
    assert "+ 内容 p1 2026-11-01 01:05" in r.output

    # a refusal says when, on the same clock as everything else
    gone = found["gone"]["id"]
    r = _cli(acct, "ack", str(gone), env=env)
    assert r.exit_code == 2 and "已于 2026-11-02 00:30 解决" in r.output and "UTC" not in r.output


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_marks_profile_changes_in_existing_history(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """Snapshots written before revision 0006 get their fingerprints and change marks."""
    import sqlalchemy as sa
    from alembic import command

    from monitor.store.engine import alembic_config, make_engine, upgrade

    url = (
        request.getfixturevalue("pg_url")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'old.db'}"
    )
    engine = make_engine(url)
    command.upgrade(alembic_config(engine), "0005")
    names = ["贵阳发布", "贵阳发布", "澳门赌场", "澳门赌场", "贵阳发布"]
    old_unit = sa.table(  # the unit table as revision 0005 had it
        "unit", *(sa.column(n) for n in ("code", "name", "level", "region")),
        sa.column("channels", sa.JSON()), sa.column("it_channels", sa.JSON()),
        sa.column("updated_at", UTCDateTime()),
    )  # fmt: skip
    with engine.begin() as c:
        c.execute(
            old_unit.insert().values(
                code="u",
                name="u",
                level="",
                region="",
                channels=[],
                it_channels=[],
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    old_account = sa.table(  # the account table as revision 0005 had it
        "account",
        *(sa.column(n) for n in ("id", "platform", "name", "handle", "url", "reader")),
        *(sa.column(n) for n in ("owner_code", "kind", "ruleset", "status", "operator")),
        sa.column("is_lead", sa.Boolean()),
        sa.column("options", sa.JSON()),
        sa.column("updated_at", UTCDateTime()),
    )
    with engine.begin() as c:
        c.execute(
            old_account.insert().values(
                id="a1", platform="weibo", name="a1", handle="", url="", reader="",
                owner_code="u", kind="publish", ruleset="", status="active", operator="",
                is_lead=False, options={}, updated_at=T0,
            )
        )  # fmt: skip
    old_snapshot = sa.table(  # the snapshot table as revision 0005 had it
        "snapshot",
        *(sa.column(n) for n in ("account_id", "node", "reader", "url", "outcome", "detail")),
        *(sa.column(n) for n in ("elapsed_ms", "post_count", "facts_hash")),
        sa.column("taken_at", UTCDateTime()),
        sa.column("facts", sa.JSON()),
        sa.column("artifacts", sa.JSON()),
    )
    with engine.begin() as c:
        for i, name in enumerate(names):
            c.execute(
                old_snapshot.insert().values(
                    account_id="a1", node="", reader="", url="", outcome="ok", detail="",
                    elapsed_ms=0, post_count=0, facts_hash="", artifacts=[],
                    taken_at=T0 + timedelta(hours=i),
                    facts={"profile": {"name": name, "followers": i}},
                )
            )  # fmt: skip
    upgrade(engine)
    with Session(engine) as s:
        ch = profile_changes(s, "a1")
    assert [(c.old, c.new) for c in ch] == [("澳门赌场", "贵阳发布"), ("贵阳发布", "澳门赌场")]
    engine.dispose()
