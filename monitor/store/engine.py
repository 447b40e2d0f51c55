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


class DatabaseUnavailable(Exception):
    """The database cannot be opened where the configuration says it is."""


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
            try:
                Path(u.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise DatabaseUnavailable(f"无法创建数据库所在目录（{e.strerror}）") from e
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


# what drivers say when the database cannot be reached or opened, in words ops act on
_REASONS = (
    (re.compile(r"connection refused|could not connect", re.I),
     "连接被拒绝（数据库服务未运行，或地址、端口不对）"),
    (re.compile(r"timeout expired|timed out", re.I), "连接超时（检查地址和防火墙）"),
    (re.compile(r"could not translate host name|name or service not known|nodename nor servname",
                re.I), "主机名无法解析"),
    (re.compile(r"password authentication failed|no password supplied|authentication failed",
                re.I), "用户名或密码错误"),
    (re.compile(r'database "([^"]+)" does not exist', re.I), "数据库 {0} 不存在（请先创建）"),
    (re.compile(r'role "([^"]+)" does not exist', re.I), "数据库用户 {0} 不存在"),
    (re.compile(r"file is not a database|file is encrypted", re.I), "该文件不是 SQLite 数据库"),
    (re.compile(r"unable to open database file", re.I), "无法打开数据库文件（检查路径和权限）"),
    (re.compile(r"readonly database|read-only", re.I), "数据库只读（检查文件权限）"),
    (re.compile(r"database is locked", re.I), "数据库被锁定（另一进程长时间占用）"),
    (re.compile(r"disk I/O error|database disk image is malformed", re.I),
     "数据库文件损坏或磁盘出错"),
)  # fmt: skip
_DRIVERS = frozenset({"psycopg", "psycopg2", "MySQLdb", "pymysql", "cx_Oracle", "pyodbc"})


def shown_url(url: str) -> str:
    """The database's address for people: the password replaced by ``***`` ("" when it is
    not an address at all, and may hold anything)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return ""


CONFIG_HINT = "请检查配置 [database] url（或环境变量 XUNCHA_DATABASE__URL）与数据库服务"


def database_problem(
    error: BaseException, url: str | None = None, hint: str = CONFIG_HINT
) -> str | None:
    """One line saying why the database at ``url`` cannot be used, if ``error`` (or what
    caused it) is the database being unreachable or misconfigured; None for anything else
    (a bug keeps its traceback). ``hint`` says where the address came from."""
    shown = shown_url(url) if url else ""
    where = f"（{shown}）" if shown else ""
    hint = f"。{hint}" if hint else ""
    seen: set[int] = set()
    e: BaseException | None = error
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        reason = _reason(e)
        if reason is not None:
            return f"数据库不可用{where}：{reason}{hint}"
        e = e.__cause__ or e.__context__
    return None


def _reason(e: BaseException) -> str | None:
    if isinstance(e, DatabaseUnavailable):
        return str(e)
    if isinstance(e, sa.exc.NoSuchModuleError):
        return "不支持的数据库类型（xuncha 支持 sqlite:/// 与 postgresql://）"
    if isinstance(e, sa.exc.ArgumentError) and "URL" in str(e):
        return "数据库地址格式错误（应如 postgresql://用户@主机:5432/库名 或 sqlite:///路径）"
    if isinstance(e, ModuleNotFoundError) and e.name in _DRIVERS:
        return f"缺少数据库驱动 {e.name}（xuncha 支持 SQLite 与 PostgreSQL）"
    if isinstance(e, sa.exc.OperationalError | sa.exc.InterfaceError) or (
        isinstance(e, sa.exc.DatabaseError) and "not a database" in str(e)
    ):
        text = str(getattr(e, "orig", None) or e)
        for pattern, words in _REASONS:
            if m := pattern.search(text):
                return words.format(*m.groups())
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(e).__name__)
        return first[:200]
    return None
