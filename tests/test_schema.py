"""The schema the migrations build is the one the code expects, on both backends.

A model changed without its migration works in every test that creates tables from the
models, and fails on the first upgraded production database; this catches it here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel

import monitor.store.models  # noqa: F401  (registers every table on SQLModel.metadata)
from monitor.store.blobs_db import blob_table
from monitor.store.engine import alembic_config, make_engine, upgrade
from monitor.store.facts import clear_cache, content_of, snapshot_facts
from monitor.store.models import UTCDateTime
from probes.model import Observation, Outcome, Post, Profile


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'x.db'}"


def differences(engine) -> list:  # type: ignore[no-untyped-def]
    metadata = SQLModel.metadata
    if blob_table.name not in metadata.tables:
        blob_table.to_metadata(metadata)
    with engine.connect() as c:
        return compare_metadata(MigrationContext.configure(c), metadata)


def test_migrations_build_the_models_schema_and_undo_cleanly(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        assert differences(engine) == []
        command.downgrade(alembic_config(engine), "base")  # every step can be undone...
        upgrade(engine)  # ...and redone
        assert differences(engine) == []
    finally:
        engine.dispose()


T0 = datetime(2026, 11, 1, 2, 0, 0, 250000, tzinfo=UTC)


def _old_facts(i: int) -> dict[str, Any]:
    """Facts as a check at revision 0008 stored them: three accounts, whose pages change
    every 1,000 checks."""
    posts = [Post(f"p{k}", T0 - timedelta(days=k), title=f"通知{k}") for k in range(i // 1000 + 1)]
    return Observation(
        account_id=f"a{i % 3}", reader="rss", url=f"https://weibo.example/a{i % 3}",
        fetched_at=T0 + timedelta(minutes=i), outcome=Outcome.ok, status_code=200,
        elapsed_ms=100 + i % 7, profile=Profile(name=f"账号{i % 3}", followers=5),
        posts=posts,
    ).facts()  # fmt: skip


def _subset_hash(facts: dict[str, Any]) -> str:  # what 0008's checks wrote as facts_hash
    seen = {k: facts[k] for k in ("outcome", "status_code", "profile", "posts")}
    return hashlib.sha256(json.dumps(seen, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def test_facts_move_into_their_table_and_back(url: str) -> None:
    """Snapshots written at revision 0008 (their facts on the row) read the same facts
    through the new API after 0009, and find them back in the column after a downgrade;
    more snapshots than one batch of the migration."""
    engine = make_engine(url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0008")
    unit = sa.table("unit", *(sa.column(n) for n in ("code", "name", "level", "region")),
                    sa.column("channels", sa.JSON), sa.column("it_channels", sa.JSON),
                    sa.column("updated_at", UTCDateTime()))  # fmt: skip
    account = sa.table(
        "account", *(sa.column(n) for n in ("id", "platform", "name", "handle", "url")),
        *(sa.column(n) for n in ("reader", "owner_code", "kind", "ruleset", "status")),
        sa.column("operator"), sa.column("is_lead"), sa.column("options", sa.JSON),
        sa.column("updated_at", UTCDateTime()),
    )  # fmt: skip
    snapshot = sa.table(  # as revision 0008 has it
        "snapshot", *(sa.column(n) for n in ("account_id", "node", "reader", "url", "outcome")),
        *(sa.column(n) for n in ("detail", "elapsed_ms", "post_count", "facts_hash")),
        sa.column("taken_at", UTCDateTime()), sa.column("facts", sa.JSON),
        sa.column("artifacts", sa.JSON), sa.column("id"),
    )  # fmt: skip
    old = [_old_facts(i) for i in range(2500)]
    odd = {**_old_facts(1), "fetched_at": "2026-11-01T10:01:00.250000+08:00"}  # another zone
    rows = [
        {"taken_at": T0 + timedelta(minutes=i), "facts": f, "facts_hash": _subset_hash(f),
         "elapsed_ms": f["elapsed_ms"], "account_id": f["account_id"]}
        for i, f in enumerate(old)
    ] + [
        {"taken_at": T0, "facts": {}, "facts_hash": "", "elapsed_ms": 0, "account_id": "a0"},
        {"taken_at": T0 + timedelta(minutes=1), "facts": odd, "facts_hash": _subset_hash(odd),
         "elapsed_ms": odd["elapsed_ms"], "account_id": "a1"},
    ]  # fmt: skip
    with engine.begin() as c:
        c.execute(unit.insert().values(code="u", name="u", level="", region="", channels=[],
                                       it_channels=[], updated_at=T0))  # fmt: skip
        c.execute(
            account.insert(),
            [
                {"id": f"a{k}", "platform": "weibo", "name": "", "handle": "", "url": "",
                 "reader": "", "owner_code": "u", "kind": "publish", "ruleset": "",
                 "status": "active", "operator": "", "is_lead": False, "options": {},
                 "updated_at": T0}
                for k in range(3)
            ],
        )  # fmt: skip
        c.execute(
            snapshot.insert(),
            [{"node": "", "reader": "", "url": "", "outcome": "ok", "detail": "", "post_count": 0,
              "artifacts": [], **r} for r in rows],
        )  # fmt: skip
        # a finding pointing at a snapshot: the column must go without copying the table
        c.execute(
            sa.table("finding", *(sa.column(n) for n in ("account_id", "kind", "severity")),
                     *(sa.column(n) for n in ("status", "title", "detail", "rule")),
                     sa.column("evidence", sa.JSON), sa.column("first_snapshot_id"),
                     sa.column("opened_at", UTCDateTime()), sa.column("updated_at", UTCDateTime()),
                     ).insert().values(
                account_id="a0", kind="stale", severity="high", status="open", title="",
                detail="", rule="", evidence={}, first_snapshot_id=1, opened_at=T0,
                updated_at=T0,
            )
        )  # fmt: skip
    before = [r["facts"] for r in rows]
    try:
        command.upgrade(cfg, "0009")
        clear_cache()  # what the table holds
        with Session(engine) as s:
            snaps = s.execute(
                sa.select(snapshot.c.id, snapshot.c.facts_hash, snapshot.c.taken_at,
                          snapshot.c.elapsed_ms).order_by(snapshot.c.id)
            ).all()  # fmt: skip
            assert snapshot_facts(s, snaps) == before
        # one row per account and page, and the odd one; the empty facts none
        with engine.connect() as c:
            stored = c.execute(sa.text("SELECT count(*) FROM facts")).scalar()
        assert stored == 3 * 3 + 1
        assert [s.facts_hash for s in snaps[:2500]] == [content_of(f)[0] for f in old]
        assert snaps[2500].facts_hash == "" and snaps[2501].facts_hash not in {
            s.facts_hash for s in snaps[:2500]
        }

        command.downgrade(cfg, "0008")
        with engine.connect() as c:
            back = c.execute(
                sa.select(snapshot.c.facts, snapshot.c.facts_hash).order_by(snapshot.c.id)
            ).all()
        assert [f for f, _ in back] == before
        assert [h for _, h in back] == [r["facts_hash"] for r in rows]
    finally:
        engine.dispose()
