"""Evidence in the database (``[blobs] backend = "database"``), on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.app import App
from monitor.config import Settings
from monitor.service.retention import collect_blobs
from monitor.store.blobs import BlobCorrupt, BlobStore
from monitor.store.blobs_db import DatabaseBlobStore, blob_table
from monitor.store.engine import session_scope
from monitor.store.models import Account, Snapshot, Unit
from tests.conftest import make_settings, open_app


@pytest.fixture(params=["sqlite", "postgresql"])
def db_app(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    over: dict = {"blobs": {"backend": "database"}}
    if request.param == "postgresql":
        over["database"] = {"url": request.getfixturevalue("pg_url")}
    app = open_app(make_settings(tmp_path, **over))
    yield app
    app.close()


def test_the_config_picks_the_store(db_app: App, tmp_path: Path) -> None:
    assert isinstance(db_app.blobs, DatabaseBlobStore)
    files_settings = make_settings(tmp_path, blobs={"dir": str(tmp_path / "b")})
    files = App(settings=files_settings, engine=db_app.engine)
    assert isinstance(files.blobs, BlobStore)
    assert files.blobs.root == tmp_path / "b"
    # the old top-level key keeps working
    legacy = Settings(data_dir=tmp_path, blobs_dir=tmp_path / "old")
    assert legacy.blob_path == tmp_path / "old"


def test_a_page_is_stored_once_and_read_back_verified(db_app: App) -> None:
    store = db_app.blobs
    page = "<html>贵州省人民政府</html>".encode() * 100
    d1 = store.put(page)
    d2 = DatabaseBlobStore(db_app.engine).put(page)  # another node, the same page
    assert d1 == d2
    assert store.exists(d1)
    assert store.get(d1) == page
    with db_app.engine.connect() as c:
        rows = c.execute(sa.select(blob_table.c.size, sa.func.length(blob_table.c.data))).all()
    assert len(rows) == 1
    size, stored = rows[0]
    assert size == len(page) and stored < size  # compressed


def test_missing_or_altered_evidence_is_said_not_returned(db_app: App) -> None:
    store = db_app.blobs
    digest = store.put(b"original page")
    with db_app.engine.begin() as c:
        c.execute(
            blob_table.update()
            .where(blob_table.c.digest == digest)
            .values(data=gzip.compress(b"forged page"))
        )
    with pytest.raises(BlobCorrupt, match="与哈希不符"):
        store.get(digest)
    with pytest.raises(BlobCorrupt, match="不在数据库中"):
        store.get("0" * 64)
    assert not store.exists("0" * 64)


def test_retention_collects_unreferenced_blobs_in_the_database(db_app: App) -> None:
    store = db_app.blobs
    kept = store.put(b"evidence of a finding")
    orphan = store.put(b"a page no snapshot refers to any more")
    with session_scope(db_app.engine) as s:
        s.add(Unit(code="u", name="单位"))
        s.flush()
        s.add(Account(id="a", platform="weibo", name="a", owner_code="u", url="http://x"))
        s.flush()
        s.add(Snapshot(account_id="a", outcome="ok", artifacts=[{"sha256": kept}]))
    # nothing younger than the grace period goes (it may belong to a check in flight)
    assert collect_blobs(db_app.engine, store) == 0
    assert collect_blobs(db_app.engine, store, grace=timedelta(seconds=-1)) == 1
    assert store.exists(kept)
    assert not store.exists(orphan)


def test_a_batch_of_checks_stores_its_pages_together(db_app: App) -> None:
    store = db_app.blobs
    known = store.put(b"page seen before")
    digests = store.put_many([b"page seen before", b"new page", b"new page", b"other page"])
    assert digests[0] == known and digests[1] == digests[2]
    assert [store.get(d) for d in digests] == [
        b"page seen before",
        b"new page",
        b"new page",
        b"other page",
    ]
    assert store.count() == 3
    assert store.put_many([]) == []
