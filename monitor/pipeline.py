"""One check, end to end (DESIGN §2): observe → save snapshot → evaluate → reconcile → enqueue.

The snapshot, the finding changes and the outbox rows are written in ONE
transaction, so a crash or SIGTERM leaves either all of a check or none of it.
Blobs are written (and made durable) before that transaction; a crash can leave an
unreferenced blob (collected later), never a snapshot pointing at a missing one.
Under load several checks share a transaction (:class:`Recorder`, group commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.alerting import enqueue
from monitor.app import App
from monitor.config import Settings
from monitor.db import session_scope
from monitor.findings import Change, PendingEvent, open_findings_of, reconcile, write_events
from monitor.models import Account, Snapshot, Unit
from probes.checks import evaluate
from probes.checks.links import resolve_short_links
from probes.checks.rules import RuleSet
from probes.checks.theft import observation_from_facts
from probes.fetch.http import Fetcher
from probes.model import Observation, Outcome, Signal, Target, post_from_dict
from probes.platforms import READERS, observe

log = structlog.get_logger("xuncha.check")


class CheckError(Exception):
    """A check could not run at all (unknown account, bad rule set): the user's problem."""


@dataclass
class CheckResult:
    account: Account
    snapshot: Snapshot
    observation: Observation
    signals: list[Signal]
    changes: list[Change] = field(default_factory=list)


def reader_for(account: Account) -> str:
    """The account's reader: explicit, else the platform's own, else by its options."""
    if account.reader:
        return account.reader
    if account.platform in READERS:
        return account.platform
    return "webpage" if "item" in account.options else "rss"


def ruleset_for(account: Account) -> str:
    return account.ruleset or ("national" if account.kind == "publish" else "service")


def target_for(account: Account, settings: Settings) -> Target:
    platform = settings.platforms.get(account.platform)
    return Target(
        account_id=account.id,
        platform=account.platform,
        reader=reader_for(account),
        name=account.name,
        url=account.url,
        handle=account.handle,
        options=dict(account.options),
        origins=dict(platform.origins) if platform else {},
    )


def _load_account(app: App, account_id: str) -> Account:
    with Session(app.engine) as s:
        account = s.get(Account, account_id)
        if account is None:
            raise CheckError(f"账号 '{account_id}' 不在登记表中")
        s.expunge(account)
        return account


def province_of(region: str) -> str:
    """ "贵州省贵阳市" -> "贵州": the home province a post's IP location is compared with."""
    for suffix in ("省", "自治区", "市"):
        if suffix in region:
            head = region.split(suffix, 1)[0]
            for minority in ("壮族", "回族", "维吾尔"):
                head = head.removesuffix(minority)
            return head
    return region


def _latest_post_at(obs: Observation) -> datetime | None:
    times = [p.published_at for p in obs.posts if p.published_at and not p.pinned]
    return max(times) if times else None


@dataclass
class _Job:
    """One check's record, waiting for the writer (see :class:`Recorder`)."""

    account: Account
    obs: Observation
    now: datetime
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[CheckResult]
    ruleset: RuleSet | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    facts_hash: str = ""


def _prepare(app: App, job: _Job) -> None:
    """What needs no database: the rule set (a missing one is the user's error) and facts."""
    account, obs = job.account, job.obs
    job.facts = facts = obs.facts()
    seen = {k: facts[k] for k in ("outcome", "status_code", "profile", "posts")}
    job.facts_hash = hashlib.sha256(
        json.dumps(seen, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    # a closed account is watched only for coming back to life, not for posting often
    ruleset_name = "service" if account.status == "closed" else ruleset_for(account)
    job.ruleset = app.rulesets.get(ruleset_name)
    if job.ruleset is None:
        raise CheckError(f"账号 '{account.id}' 的更新规则 '{ruleset_name}' 未定义")


class Recorder:
    """Group commit: the records of several checks in one transaction, by one writer thread.

    A check hands its record to the queue and awaits its own result; the writer takes every
    record queued so far (up to ``max_batch``, one per account: a second record of the same
    account waits for the next batch) and writes them in one transaction. While a batch is
    being written the next one gathers, so under load each transaction carries many checks
    and when idle a check is written at once. A check is answered only after its
    transaction committed, so a SIGKILL loses nothing that was acknowledged.

    One check's snapshot, findings and outbox rows stay in one transaction with each other;
    a batch is one transaction holding several checks. If one check's record fails, the
    batch is written again without it, so the others are not lost. The batch's blobs are
    made durable together (:meth:`BlobStore.put_many`) before the transaction. The thread
    starts with the first record and ends after ``idle_seconds`` without one.
    """

    def __init__(
        self,
        app: App,
        *,
        max_batch: int = 64,
        gather_seconds: float = 0.02,
        idle_seconds: float = 2.0,
    ) -> None:
        self.app = app
        self.max_batch = max_batch
        self.gather_seconds = gather_seconds
        self.idle_seconds = idle_seconds
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._mutex = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0  # transactions committed (for benchmarks and tests)

    async def record(self, account: Account, obs: Observation, now: datetime) -> CheckResult:
        """Queue the record of one check; return once it is committed.

        Like a worker thread, the write is not abandoned when the caller is cancelled: the
        caller waits for it, so a shutdown knows each check is either written or not begun.
        """
        loop = asyncio.get_running_loop()
        job = _Job(account, obs, now, loop, loop.create_future())
        with self._mutex:
            self._queue.put(job)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="xuncha-recorder", daemon=True
                )
                self._thread.start()
        with anyio.CancelScope(shield=True):
            return await job.future

    def _run(self) -> None:
        carry: list[_Job] = []  # records of an account already in the last batch
        while True:
            if not carry:
                try:
                    first = self._queue.get(timeout=self.idle_seconds)
                except queue.Empty:
                    with self._mutex:
                        if self._queue.empty():
                            self._thread = None
                            return
                    continue
                carry = [first]
            batch: list[_Job] = []
            accounts: set[str] = set()
            rest: list[_Job] = []
            pending = carry
            deadline = time.monotonic() + self.gather_seconds
            while True:
                for job in pending:
                    if len(batch) < self.max_batch and job.account.id not in accounts:
                        batch.append(job)
                        accounts.add(job.account.id)
                    else:
                        rest.append(job)
                if len(batch) >= self.max_batch:
                    break
                # gather for a few ms: one transaction (and one disk sync) serves more checks,
                # and while the writer waits the probes have the interpreter to themselves
                left = deadline - time.monotonic()
                try:
                    pending = [
                        self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                    ]
                except queue.Empty:
                    break
            carry = rest
            try:
                self._write(batch)
            except BaseException as e:  # never leave a check waiting forever
                for job in batch:
                    _finish(job, error=e)
                log.exception("recorder_failed")

    def _write(self, batch: list[_Job]) -> None:
        """Commit ``batch``; a check whose record fails is dropped from it and told why."""
        ready: list[_Job] = []
        for job in batch:
            try:
                _prepare(self.app, job)
            except Exception as e:
                _finish(job, error=e)
            else:
                ready.append(job)
        self._commit(ready)

    def _commit(self, batch: list[_Job]) -> None:
        while batch:
            failed: list[_Job] = []
            try:
                results = self._transaction(batch, failed)
            except Exception as e:
                if failed:  # that check's fault: the others go again without it
                    _finish(failed[0], error=e)
                    batch = [j for j in batch if j is not failed[0]]
                    continue
                if len(batch) == 1:
                    _finish(batch[0], error=e)
                    return
                for job in batch:  # not one check's fault (a flush, the commit): one by one
                    self._commit([job])
                return
            self.batches += 1
            for job, result in zip(batch, results, strict=True):
                _finish(job, result=result)
            return

    def _transaction(self, batch: list[_Job], failed: list[_Job]) -> list[CheckResult]:
        app = self.app
        try:
            digests = _put_blobs(app, [a.content for j in batch for a in j.obs.artifacts])
        except Exception:
            if len(batch) == 1:
                failed.append(batch[0])
            raise
        ids = [j.account.id for j in batch]
        results: list[CheckResult] = []
        with session_scope(app.engine) as s:
            last = _last_good_facts(s, ids)
            units = {
                u.code: u
                for u in s.exec(
                    select(Unit).where(col(Unit.code).in_({j.account.owner_code for j in batch}))
                )
            }
            current = open_findings_of(s, ids)
            snaps: list[Snapshot] = []
            signals: list[list[Signal]] = []
            at = 0
            for job in batch:
                try:
                    n = len(job.obs.artifacts)
                    assert job.ruleset is not None
                    snap, sigs = _snapshot(
                        s, app, job, digests[at : at + n], last.get(job.account.id), units
                    )
                    at += n
                except Exception:
                    failed.append(job)
                    raise
                s.add(snap)
                snaps.append(snap)
                signals.append(sigs)
            s.flush()  # every snapshot's id, in one round of INSERTs
            events: list[PendingEvent] = []
            changes: list[list[Change]] = []
            for job, snap, sigs in zip(batch, snaps, signals, strict=True):
                try:
                    assert snap.id is not None
                    changes.append(
                        reconcile(
                            s,
                            job.account.id,
                            snap.id,
                            sigs,
                            content_seen=job.obs.outcome is Outcome.ok,
                            now=job.now,
                            current=current[job.account.id],
                            events=events,
                        )
                    )
                except Exception:
                    failed.append(job)
                    raise
            s.flush()  # the new findings' ids, for their events and notices
            write_events(s, events)
            for job, snap, sigs, chs in zip(batch, snaps, signals, changes, strict=True):
                try:
                    unit = units.get(job.account.owner_code)
                    enqueue(s, app.settings, job.account, unit, chs, now=job.now)
                except Exception:
                    failed.append(job)
                    raise
                results.append(CheckResult(job.account, snap, job.obs, sigs, chs))
        return results


def _finish(
    job: _Job, *, result: CheckResult | None = None, error: BaseException | None = None
) -> None:
    """Hand the outcome to the check awaiting it, on its own event loop."""

    def deliver() -> None:
        if job.future.done():
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)  # type: ignore[arg-type]

    with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
        job.loop.call_soon_threadsafe(deliver)


def _put_blobs(app: App, contents: list[bytes]) -> list[str]:
    """All of a batch's artifacts, durable before its transaction (one sync, not one each)."""
    put_many = getattr(app.blobs, "put_many", None)
    if put_many is not None:
        return list(put_many(contents))
    return [app.blobs.put(c) for c in contents]


def _last_good_facts(session: Session, account_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The facts of each account's last snapshot whose fetch worked, in one query.

    History for the rules and identity for theft. Read each time rather than cached: other
    nodes (or a CLI ``check``) write snapshots of the same accounts, and this query costs no
    more than checking a cache would (one index probe per account).
    """
    latest = (
        select(Snapshot.id)
        .where(Snapshot.account_id == Account.id, Snapshot.outcome == Outcome.ok.value)
        .order_by(col(Snapshot.taken_at).desc())
        .limit(1)
        .correlate(Account)
        .scalar_subquery()
    )
    ids = select(latest).where(col(Account.id).in_(account_ids))
    rows = session.exec(
        select(Snapshot.account_id, Snapshot.facts).where(col(Snapshot.id).in_(ids))
    ).all()
    return {account_id: facts for account_id, facts in rows}


def _snapshot(
    session: Session,
    app: App,
    job: _Job,
    digests: list[str],
    last: dict[str, Any] | None,
    units: dict[str, Unit],
) -> tuple[Snapshot, list[Signal]]:
    """One check's snapshot row and its signals (not yet flushed)."""
    account, obs = job.account, job.obs
    unit = units.get(account.owner_code)
    signals = evaluate(
        obs,
        ruleset=job.ruleset,
        calendar=app.calendar,
        now=job.now,
        history_posts=[post_from_dict(p) for p in last.get("posts", [])] if last else [],
        tz=app.settings.timezone,
        previous=observation_from_facts(last) if last else None,
        registered_name=account.name,
        home_province=province_of(unit.region) if unit else "",
        account_status=account.status,
    )
    _pin_signer(session, account, signals)
    artifacts = [
        {
            "kind": a.kind,
            "media_type": a.media_type,
            "sha256": digest,
            "size": len(a.content),
            "url": a.url,
        }
        for a, digest in zip(obs.artifacts, digests, strict=True)
    ]
    snap = Snapshot(
        account_id=account.id,
        taken_at=obs.fetched_at,
        node=app.settings.node_name,
        reader=obs.reader,
        url=obs.url,
        final_url=obs.final_url,
        outcome=obs.outcome.value,
        status_code=obs.status_code,
        detail=obs.detail,
        elapsed_ms=obs.elapsed_ms,
        latest_post_at=_latest_post_at(obs),
        post_count=len(obs.posts),
        facts=job.facts,
        facts_hash=job.facts_hash,
        artifacts=artifacts,
    )
    return snap, signals


def recorder(app: App) -> Recorder:
    """The app's recorder (one per app: its checks share batches)."""
    rec = app.extras.get("recorder")
    if rec is None:
        with _RECORDER_LOCK:
            rec = app.extras.get("recorder")
            if rec is None:
                rec = app.extras["recorder"] = Recorder(app)
    return rec


_RECORDER_LOCK = threading.Lock()


def _pin_signer(session: Session, account: Account, signals: list[Signal]) -> None:
    """An app registered without a signer gets the first verified one pinned (DOMAIN §4).

    Written with the snapshot that saw it; the info finding this signal opens tells the unit
    which certificate is now expected, and any later change is "signer changed".
    """
    for sig in signals:
        observed = sig.evidence.get("observed_signer")
        if (
            sig.kind == "app_signer_pinned"
            and observed
            and not account.options.get("signer_sha256")
        ):
            row = session.get(Account, account.id)
            assert row is not None
            row.options = {**row.options, "signer_sha256": observed}
            session.add(row)
            log.info("app_signer_pinned", account=account.id, signer=observed)


async def check(
    app: App, fetcher: Fetcher, account_id: str, *, now: datetime | None = None
) -> CheckResult:
    """Probe one account now and record the result."""
    account = await anyio.to_thread.run_sync(_load_account, app, account_id)
    target = target_for(account, app.settings)
    started = time.monotonic()
    with anyio.move_on_after(app.settings.patrol.probe_timeout_seconds) as scope:
        obs = await observe(target, fetcher, now=now)
    if not scope.cancelled_caught and obs.outcome is Outcome.ok:
        # detectors judge where a short link lands, not the link text
        with anyio.move_on_after(app.settings.http.timeout_seconds * 2):
            await resolve_short_links(obs, fetcher)
    if scope.cancelled_caught:
        obs = Observation(
            account_id=account.id,
            reader=target.reader,
            url=target.url,
            fetched_at=datetime.now(UTC),
            outcome=Outcome.error,
            detail=f"巡查超时（{app.settings.patrol.probe_timeout_seconds} 秒）",
        )
    when = now or datetime.now(UTC)
    # a check that is not run at wall-clock time (demo, tests) must date its evidence so
    if now is not None:
        obs.fetched_at = now
    try:
        result = await recorder(app).record(account, obs, when)
    except IntegrityError as e:
        # another writer opened the same finding meanwhile (``xuncha check`` by hand beside the
        # daemon): this record was rolled back whole; written again, it sees their finding
        log.warning("check_conflict_retry", account=account.id, error=str(e).splitlines()[0])
        result = await recorder(app).record(account, obs, when)
    log.info(
        "account_checked",
        account=account.id,
        platform=account.platform,
        outcome=obs.outcome.value,
        snapshot=result.snapshot.id,
        signals=[s.kind for s in result.signals],
        changes=[f"{c.event}:{c.finding.kind}" for c in result.changes],
        elapsed_ms=int((time.monotonic() - started) * 1000),
    )
    return result
