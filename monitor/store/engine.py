"""Engines, sessions and the schema check.

SQLite is the embedded default and runs in WAL mode (readers never block the
writer; the CLI can read while ``xuncha run`` writes). The schema is owned by
Alembic (``monitor/migrations``); ``xuncha init`` upgrades it and every other
command refuses to run on an old schema rather than half-work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

# alembic is imported where a migration is read or run: importing it is a third of a CLI
# listing's time (bench/cli.py), and the everyday schema check needs none of it
if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
SQLITE_BUSY_MS = 30_000


class SchemaError(Exception):
    """The database is missing, old, or newer than this program."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # only takes effect on a database with no tables yet (new installs); retention then
    # frees pages with PRAGMA incremental_vacuum in small steps, never a full VACUUM
    cur.execute("PRAGMA auto_vacuum=INCREMENTAL")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            u,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False},
            # as many kept connections as worker threads (anyio's default limit is 40): a
            # smaller pool opened and closed overflow connections all the time, each paying
            # the pragmas below — 14 % of a patrol's CPU in bench/http_path.py
            pool_size=40,
            max_overflow=20,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(u, echo=echo, pool_pre_ping=True)


def make_async_engine(url: str) -> AsyncEngine:
    """The async engine APScheduler's data store uses, on the same database."""
    from sqlalchemy.ext.asyncio import create_async_engine

    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        u = u.set(drivername="sqlite+aiosqlite")
        engine = create_async_engine(u, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return create_async_engine(u, pool_pre_ping=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to head; returns (before, after)."""
    from alembic import command

    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, head_revision()


_REVISION_LINE = re.compile(r"""^(down_)?revision\b[^=\n]*=\s*(?:["']([^"']+)["']|None)""", re.M)


def _head_from_files() -> str | None:
    """The newest migration, from the ``revision``/``down_revision`` lines of the files, without
    alembic; None unless exactly one revision is no other's parent (alembic then decides).
    tests/test_cli_help.py holds it equal to alembic's head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, rev in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            if rev:
                (parents if down else revisions).add(rev)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stamped(engine: Engine) -> str | None:
    """The revision alembic stamped in the database (its ``alembic_version`` table); None if
    it cannot be read (no table yet: alembic then says what is wrong, a connection error
    included)."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError:
        return None


def check_schema(engine: Engine) -> None:
    """Refuse to run on a database that is not at this program's schema."""
    head = _head_from_files()
    if head is not None and _stamped(engine) == head:
        return  # the everyday answer, found without importing alembic
    from alembic.script import ScriptDirectory

    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaError("数据库尚未初始化，请先运行 `xuncha init`。")
    known = {s.revision for s in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if current not in known:
        raise SchemaError(
            f"数据库结构版本 {current} 比本程序新（本程序为 {head}），请升级 xuncha。"
        )
    raise SchemaError(
        f"数据库结构版本过旧（{current}，需要 {head}），请先运行 `xuncha init` 升级。"
    )
