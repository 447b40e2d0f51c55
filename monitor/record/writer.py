"""A writer process: checks' records written outside the patrol's interpreter.

Why a process: writing a check (ORM objects, detectors, JSON, SQL, evidence files) costs
about as much Python as fetching and parsing it. In a thread it holds the interpreter lock
the event loop needs to drive the probes, so the whole pipeline ran at 44 % of a bare
fetch of the same pages (``bench/http_path.py``, 10,000 accounts); in a process of its
own it runs on another core. Records and results travel pickled over a pipe (about 4 KB
a check, tens of microseconds), their rows (the account, the snapshot) as plain column
values (:mod:`monitor.store.plain_rows`).

Lifecycle: started with the first batch, it lives until :meth:`ProcessWriter.close` (or
the end of the parent). It ignores SIGTERM and SIGINT — a terminal's Ctrl-C or a ``kill``
of the process group reaches it too, while the parent still has records to hand over
during its stop grace (systemd's ``KillMode=mixed`` signals only the parent) — and leaves
when its pipe closes, after the batch in hand; so a SIGKILLed parent leaves no orphan
behind for longer than one batch. If it dies, the checks of the batch in flight
fail with :class:`WriterDied` (nothing is acknowledged that was not committed) and the next
batch starts a new one.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import pickle
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import structlog

from monitor.config import Settings
from monitor.record.batch import CheckResult, Outcomes, Record, write_batch
from monitor.service import logs, metrics
from monitor.store.models import Account, Snapshot
from monitor.store.plain_rows import built, flat

log = structlog.get_logger("xuncha.writer")


class WriterDied(Exception):
    """The writer process ended or hung while it held a batch: its checks are not confirmed."""


class ProcessWriter:
    """Hands batches to a child process and returns its answers (see the module)."""

    def __init__(
        self,
        settings: Settings,
        open_context: Callable[[Settings], Any],
        *,
        answer_timeout: float = 300.0,
    ) -> None:
        self.settings = settings
        # how the child builds its wiring (``App.for_writer``): passed by reference, so this
        # module needs no import of the wiring it is part of
        self.open_context = open_context
        self.answer_timeout = answer_timeout
        self._lock = threading.Lock()
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self._secrets: frozenset[str] = frozenset()
        self.started = 0  # processes started (tests, metrics)
        self._closed = False
        atexit.register(self.close)  # before multiprocessing's own exit hook joins children

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def write(self, records: list[Record]) -> tuple[Outcomes, int]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the writer process is closed")
            if self._proc is not None and not self._proc.is_alive():
                # it died between batches: nothing was lost, but reap it and its pipe
                log.error("writer_process_lost", why=f"退出码 {self._stop(0)}", checks=0)
            if self._proc is None:
                self._start()
            assert self._conn is not None and self._proc is not None
            secrets = logs.secrets()
            try:
                batch = [_packed(r) for r in records]
                self._conn.send(("batch", batch, secrets if secrets != self._secrets else None))
                self._secrets = secrets
                if not self._conn.poll(self.answer_timeout):
                    raise TimeoutError(f"{self.answer_timeout:.0f} 秒无应答")
                answers, transactions = self._conn.recv()
            except (EOFError, OSError, TimeoutError) as e:
                why = self._discard(e)
                log.error("writer_process_lost", why=why, checks=len(records))
                return [WriterDied(why)] * len(records), 0
        outcomes: Outcomes = []
        for rec, answer in zip(records, answers, strict=True):
            if isinstance(answer, BaseException):
                outcomes.append(answer)
            else:
                snapshot, signals, changes = answer
                snap = built(Snapshot, snapshot)
                outcomes.append(CheckResult(rec.account, snap, rec.obs, signals, changes))
        return outcomes, transactions

    def reload(self, settings: Settings) -> None:
        """The same process writes the next batches by ``settings``: it rebuilds its rules,
        calendar and evidence store between two batches (a later start uses them too)."""
        with self._lock:
            self.settings = settings
            if self._proc is None or self._conn is None or not self._proc.is_alive():
                return  # the next start reads self.settings
            try:
                self._conn.send(("reload", settings))
                if not self._conn.poll(self.answer_timeout):
                    raise TimeoutError(f"{self.answer_timeout:.0f} 秒无应答")
                self._conn.recv()
            except (EOFError, OSError, TimeoutError) as e:
                log.error("writer_process_lost", why=self._discard(e), checks=0)

    def close(self, timeout: float = 30.0) -> None:
        """Let the process finish the batch in hand and leave; kill it after ``timeout``."""
        with self._lock:  # waits for a batch in flight
            self._closed = True
            self._stop(timeout)
        atexit.unregister(self.close)

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # never fork a process with threads
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(
            target=_serve, args=(self.settings, self.open_context, theirs), name="xuncha-writer"
        )
        proc.start()
        theirs.close()
        self._proc, self._conn = proc, mine
        self._secrets = frozenset()
        self.started += 1
        metrics.WRITER_STARTS.inc()
        log.info("writer_process_started", pid=proc.pid, restart=self.started > 1)

    def _discard(self, error: BaseException) -> str:
        code = self._stop(1.0)
        what = str(error) or type(error).__name__
        return f"记录进程意外结束（{what}，退出码 {code}），本批检查未确认写入"

    def _stop(self, grace: float) -> int | None:
        """Close the pipe (the process leaves after the batch in hand), wait ``grace``
        seconds, then kill it; its exit code. Called with ``_lock`` held."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is None:
            return None
        proc.join(grace)
        if proc.is_alive():
            log.error("writer_process_killed", pid=proc.pid, after_seconds=grace)
            proc.kill()
            proc.join(5)
        return proc.exitcode


def _serve(settings: Settings, open_context: Callable[[Settings], Any], conn: Connection) -> None:
    """The child: write each batch received, answer, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logs.setup_logging(settings.logging.level, settings.logging.format)
    context = open_context(settings)
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            if message[0] == "reload":
                context.close()
                context = open_context(message[1])
                log.info("writer_process_reloaded")
                with contextlib.suppress(OSError):
                    conn.send("reloaded")
                continue
            _, batch, secrets = message
            if secrets is not None:
                logs.register_secrets(secrets)
            outcomes, transactions = write_batch(context, [_unpacked(r) for r in batch])
            with contextlib.suppress(OSError):  # the parent is gone: the batch is written
                conn.send(([_answer(o) for o in outcomes], transactions))
    finally:
        context.close()


def _answer(outcome: CheckResult | BaseException) -> object:
    """What crosses back: the parent has the account and observation already."""
    if isinstance(outcome, CheckResult):
        return (flat(outcome.snapshot), outcome.signals, outcome.changes)
    try:
        pickle.dumps(outcome)
    except Exception:
        return RuntimeError(f"{type(outcome).__name__}: {outcome}")
    return outcome


# -- rows across the pipe: as column values (monitor.store.plain_rows says why) ----------------


def _packed(record: Record) -> tuple[Any, ...]:
    return (flat(record.account), record.obs, record.now, record.next_due,
            record.claimed_by, record.last)  # fmt: skip


def _unpacked(packed: tuple[Any, ...]) -> Record:
    account, *rest = packed
    return Record(built(Account, account), *rest)
