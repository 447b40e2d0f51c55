"""Several ``xuncha run`` nodes on one PostgreSQL: roles, event broker, cluster-wide locks.

APScheduler 4's SQLAlchemy data store shares schedules and jobs between nodes and
moves a dead node's jobs on when their lease runs out; its psycopg event broker
(PostgreSQL ``NOTIFY``) wakes every node when a job is added. Two things it does
not give, and PostgreSQL does: "this account is probed by one node at a time"
(``max_running_jobs`` counts per task, cluster-wide, so it would cap the whole
cluster) and "this job runs once at a time across nodes". Both are session-level
advisory locks held on one connection per node, so a node that dies releases
them as soon as the server sees its connection drop. On SQLite (one node) the
same calls are an in-process set.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import anyio
import structlog
from sqlalchemy.engine import make_url

log = structlog.get_logger("xuncha.cluster")

ROLES = ("probe", "alerts", "web")
# the roles that own APScheduler jobs; each gets its own data store (a PostgreSQL schema)
# so that a node without the role never picks up that role's jobs
SCHEDULED_ROLES = ("probe", "alerts")


class RoleError(ValueError):
    """Roles the user asked for that cannot be served."""


def parse_roles(values: Iterable[str] | None) -> tuple[str, ...]:
    """``["probe,alerts", "web"]`` → ordered roles; none given = all."""
    picked: list[str] = []
    for v in values or []:
        for part in v.replace("，", ",").split(","):
            role = part.strip().lower()
            if not role:
                continue
            if role not in ROLES:
                raise RoleError(f"未知角色 '{role}'，可选: {', '.join(ROLES)}")
            if role not in picked:
                picked.append(role)
    return tuple(r for r in ROLES if r in picked) if picked else ROLES


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def check_roles(roles: tuple[str, ...], url: str) -> None:
    """Splitting the scheduled roles across nodes needs a shared PostgreSQL."""
    scheduled = [r for r in roles if r in SCHEDULED_ROLES]
    if scheduled and len(scheduled) < len(SCHEDULED_ROLES) and not is_postgres(url):
        raise RoleError(
            "把巡查（probe）和提醒（alerts）分到不同节点需要 PostgreSQL 数据库；"
            "SQLite 只支持单个节点运行全部角色（见 docs/scale-out.md）"
        )


def conninfo(url: str) -> str:
    """A libpq connection string from our SQLAlchemy URL (psycopg's own connect)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name`` (same on every node)."""
    digest = hashlib.sha256(f"xuncha:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class NodeLocks:
    """Try-locks by name, cluster-wide on PostgreSQL, process-wide on SQLite."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.shared = is_postgres(url)
        self._held: set[str] = set()
        self._conn = None  # psycopg.AsyncConnection, opened lazily
        self._io = anyio.Lock()

    async def _connection(self):  # type: ignore[no-untyped-def]
        import psycopg

        if self._conn is None or self._conn.closed:
            if self._conn is not None:  # the old connection dropped: its locks went with it
                log.error("cluster_locks_lost", held=len(self._held))
            self._conn = await psycopg.AsyncConnection.connect(conninfo(self.url), autocommit=True)
        return self._conn

    async def _call(self, sql: str, key: int) -> bool:
        async with self._io:
            conn = await self._connection()
            cur = await conn.execute(sql, (key,))
            row = await cur.fetchone()
            return bool(row and row[0])

    async def acquire(self, name: str) -> bool:
        if name in self._held:  # PostgreSQL's locks nest per session: this node holds it
            return False
        self._held.add(name)
        try:
            got = not self.shared or await self._call(
                "SELECT pg_try_advisory_lock(%s)", lock_key(name)
            )
        except BaseException:
            self._held.discard(name)
            raise
        if not got:
            self._held.discard(name)
        return got

    async def release(self, name: str) -> None:
        if name not in self._held:
            return
        self._held.discard(name)
        if self.shared:
            with anyio.CancelScope(shield=True):
                try:
                    await self._call("SELECT pg_advisory_unlock(%s)", lock_key(name))
                except Exception as e:  # the connection is gone: so is the lock
                    log.warning("cluster_unlock_failed", lock=name, error=str(e))

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        """``async with locks.hold("probe:a1") as mine:`` — ``mine`` False if held elsewhere."""
        got = await self.acquire(name)
        try:
            yield got
        finally:
            if got:
                await self.release(name)

    async def close(self) -> None:
        """Free this node's locks now, then hang up.

        Hanging up alone frees them too, but only once the server has seen the
        connection go — a moment later, so another node asking right away would be
        refused. Unlocking first makes a clean stop hand its accounts over at once.
        """
        if self._conn is not None:
            with anyio.CancelScope(shield=True):
                if self._held and not self._conn.closed:
                    try:
                        with anyio.fail_after(5):
                            async with self._io:
                                await self._conn.execute("SELECT pg_advisory_unlock_all()")
                    except Exception as e:  # gone or stuck: hanging up frees them anyway
                        log.warning("cluster_unlock_failed", lock="*", error=str(e))
                await self._conn.close()
            self._conn = None
        self._held.clear()


@asynccontextmanager
async def startup_lock(url: str) -> AsyncIterator[None]:
    """Nodes starting together set up the shared schedules one after another, not at once."""
    if not is_postgres(url):
        yield
        return
    import psycopg

    conn = await psycopg.AsyncConnection.connect(conninfo(url), autocommit=True)
    try:
        await conn.execute("SELECT pg_advisory_lock(%s)", (lock_key("startup"),))
        yield
    finally:
        with anyio.CancelScope(shield=True):
            await conn.close()  # closing the session releases the lock
