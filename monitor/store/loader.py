"""Registry rows for the checks starting now, read together (one query, one thread hop)."""

from __future__ import annotations

import asyncio

import anyio
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.store.models import Account


class UnknownAccount(LookupError):
    """The registry has no such account (the message says which, in the user's words)."""


class AccountLoader:
    """Registry rows for the checks starting now, read together (one query, one thread hop).

    A check starts by reading its account; under load dozens start within a millisecond,
    and a query each (a session, a thread hop) cost a probe's worth of interpreter time.
    Requests made while a read is running wait for the next one. Rows are read fresh each
    time, never cached: the registry changes under a running patrol. One loader serves one
    event loop (``App.loader``).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._waiting: dict[str, list[asyncio.Future[Account]]] = {}
        self._task: asyncio.Task[None] | None = None  # the read under way, if any

    async def get(self, account_id: str) -> Account:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Account] = loop.create_future()
        self._waiting.setdefault(account_id, []).append(future)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._read())  # kept: a bare task may be collected
        return await future

    async def _read(self) -> None:
        waiting: dict[str, list[asyncio.Future[Account]]] = {}
        try:
            while self._waiting:
                await asyncio.sleep(0)  # the checks started in this tick join the read
                waiting, self._waiting = self._waiting, {}
                try:
                    rows: dict[str, Account] | Exception = await anyio.to_thread.run_sync(
                        self._load, list(waiting)
                    )
                except Exception as e:
                    rows = e
                for account_id, futures in waiting.items():
                    for f in futures:
                        if f.done():  # its check was cancelled meanwhile
                            continue
                        if isinstance(rows, Exception):
                            f.set_exception(rows)
                        elif account_id in rows:
                            f.set_result(rows[account_id])
                        else:
                            f.set_exception(UnknownAccount(f"账号 '{account_id}' 不在登记表中"))
                waiting = {}
        finally:
            for futures in (*waiting.values(), *self._waiting.values()):
                for f in futures:  # the loop is stopping: nobody is left hanging
                    f.cancel()

    def _load(self, ids: list[str]) -> dict[str, Account]:
        with Session(self.engine) as s:
            rows = s.exec(select(Account).where(col(Account.id).in_(ids))).all()
            for row in rows:
                s.expunge(row)
            return {row.id: row for row in rows}
