"""What a check writes (docs/architecture.md): read → judge → write, one transaction for a batch.

Read: each account's last good look (``monitor.store.snapshots.last_seen``), its unit, its
open findings. Judge: :func:`monitor.record.judge.judge`, pure. Write: the snapshot rows,
the finding changes (``monitor.store.findings.reconcile``), their alert items
(``monitor.alerting.enqueue``) and a first app signer pinned in the registry.

The snapshot, the finding changes and the outbox rows of one check are written in ONE
transaction, so a crash or SIGTERM leaves either all of a check or none of it. Blobs are
written (and made durable) before that transaction; a crash can leave an unreferenced blob
(collected later), never a snapshot pointing at a missing one.

:func:`write_batch` writes several checks' records in one transaction (group commit); it
is plain synchronous code so that it can run in the recorder's thread or in a writer
process of its own (:mod:`monitor.record.recorder`). Everything it takes and returns pickles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.alerting import enqueue
from monitor.config import Settings
from monitor.record.judge import (
    JudgeTimeout,
    Verdict,
    judge,
    judge_unchanged,
    time_budget,
    timed_out,
)
from monitor.record.quick import earlier_snapshots, is_quiet, quiet_key, with_open_findings
from monitor.record.recheck import Loop
from monitor.record.rows import insert_snapshots, same_snapshot, snapshot
from monitor.registry.accounts import ruleset_for
from monitor.store.blobs import BlobStore
from monitor.store.blobs_db import DatabaseBlobStore
from monitor.store.engine import session_scope
from monitor.store.facts import content_of, put_contents
from monitor.store.findings import Change, PendingEvent, open_findings_of, reconcile, write_events
from monitor.store.models import Account, Snapshot, Unit
from monitor.store.snapshots import LastSeen, last_seen
from monitor.store.states import (
    LastLook,
    Look,
    digests_of,
    forget_look,
    last_looks,
    write_states,
)
from probes.checks.calendar import WorkCalendar
from probes.checks.lists import Lists
from probes.checks.rules import RuleSet
from probes.checks.staleness import digest_posts, quiet_until
from probes.model import MAX_LINKS, Observation, Outcome, Signal, cap_posts, observation_from_facts
from probes.sight import UNSEEN, settle, unseen_posts

T = TypeVar("T")


class WriteContext(Protocol):
    """What writing a check needs: the app's wiring (``monitor.app.App``) in the patrol's
    process, or the writer process's own (``monitor.record.writer``)."""

    settings: Settings
    engine: Engine

    @property
    def blobs(self) -> BlobStore | DatabaseBlobStore: ...

    @property
    def calendar(self) -> WorkCalendar: ...

    @property
    def rulesets(self) -> dict[str, RuleSet]: ...

    @property
    def judged_with(self) -> str: ...

    @property
    def word_lists(self) -> Lists: ...


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


@dataclass
class Record:
    """One check's record, as handed to the writer."""

    account: Account
    obs: Observation
    now: datetime
    # the patrol's claim (monitor.patrol.claims): written with the snapshot, the account is
    # released by ``claimed_by`` and due again at ``next_due``; None for a check by hand
    next_due: datetime | None = None
    claimed_by: str | None = None
    # the account's last full look as the claim returned it (an unchanged page refers to
    # it); None: read in the write, for an unchanged record that came without it
    last: LastLook | None = None


@dataclass
class _Prepared:
    record: Record
    ruleset: RuleSet
    facts: dict[str, Any]
    facts_hash: str
    facts_data: bytes = b""  # the canonical JSON of ``facts`` (content_of)

    @property
    def unchanged(self) -> bool:
        return self.record.obs.unchanged

    @property
    def full_ok(self) -> bool:
        """A page read and judged in full: the account's last look from now on."""
        return not self.unchanged and self.record.obs.outcome is Outcome.ok


def _may_have_unseen(obs: Observation, last_facts: dict[str, Any]) -> bool:
    """Whether :func:`probes.sight.unseen_posts` can find anything: the page shows a post
    counter, or the last look carried a counted update. Most pages (feeds, web pages) do
    neither, and their last look is not rebuilt for nothing (``judge`` rebuilds it too)."""
    if obs.profile.posts_count is not None:
        return True
    return any(str(p.get("id", "")).startswith(UNSEEN) for p in last_facts.get("posts") or [])


def _prepare(app: WriteContext, record: Record) -> _Prepared:
    """What needs no database: the rule set (a missing one is the user's error) and facts."""
    # capped by observe() already (any record is, here); a short link's final URL is
    # appended after that, so the writer leaves a post room for them
    account, obs = record.account, cap_posts(record.obs, max_links=3 * MAX_LINKS)
    settle(obs)  # as observe() does: any record is judged on what it showed
    # an unchanged look refers to the earlier look's facts: none of its own to build
    facts = {} if obs.unchanged else obs.facts()
    # its key and canonical JSON (monitor.store.facts), made once: the row is written of it
    facts_hash, data = ("", b"") if obs.unchanged else content_of(facts)
    # a closed account is watched only for coming back to life, not for posting often
    ruleset_name = "service" if account.status == "closed" else ruleset_for(account)
    ruleset = app.rulesets.get(ruleset_name)
    if ruleset is None:
        raise CheckError(f"账号 '{account.id}' 的更新规则 '{ruleset_name}' 未定义")
    return _Prepared(record, ruleset, facts, facts_hash, data)


Outcomes = list["CheckResult | BaseException"]


class _RecordFailed(Exception):
    """One record of a batch failed at ``index``: the others are written again without it."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(str(error))
        self.index, self.error = index, error


def _each(index: int, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """Run one record's step; its failure names the record (the one place that does)."""
    try:
        return fn(*args, **kw)
    except Exception as e:
        raise _RecordFailed(index, e) from e


def write_batch(app: WriteContext, records: list[Record]) -> tuple[Outcomes, int]:
    """Write ``records`` (one per account) with as few transactions as possible.

    Returns each record's result or the exception that kept it out, in order, and the number
    of transactions committed. A record that fails is dropped from the batch and the rest
    written again without it, so one bad record loses no other.
    """
    outcomes: Outcomes = [RuntimeError("not written")] * len(records)
    ready: list[tuple[int, _Prepared]] = []
    for i, rec in enumerate(records):
        try:
            ready.append((i, _prepare(app, rec)))
        except Exception as e:
            outcomes[i] = e
    return outcomes, _commit(app, ready, outcomes)


def _commit(app: WriteContext, batch: list[tuple[int, _Prepared]], outcomes: Outcomes) -> int:
    transactions = 0
    while batch:
        try:
            results = _transaction(app, [p for _, p in batch])
        except _RecordFailed as e:  # that check's fault: the others go again without it
            outcomes[batch[e.index][0]] = e.error
            batch = batch[: e.index] + batch[e.index + 1 :]
            continue
        except Exception as e:
            if len(batch) == 1:
                outcomes[batch[0][0]] = e
                return transactions
            for job in batch:  # not one check's fault (a flush, the commit): one by one
                transactions += _commit(app, [job], outcomes)
            return transactions
        for (i, _), result in zip(batch, results, strict=True):
            outcomes[i] = result
        return transactions + 1
    return transactions


def _transaction(app: WriteContext, jobs: list[_Prepared]) -> list[CheckResult]:
    """Read what the judges need, judge (pure), write: one transaction for the batch.

    A record whose page was unchanged (``obs.unchanged``) brings no page: its snapshot
    refers to the earlier one that has it (``same_as``: its facts and artifacts), and only
    its time-dependent rules are judged again, from the posts' digest the last full
    judgement left in ``account_state`` — unless they promised silence and the account has
    no finding open (:mod:`monitor.record.quick`): then nothing is judged or read for it.
    """
    digests = _put_blobs(
        app, [a.content for j in jobs if not j.unchanged for a in j.record.obs.artifacts]
    )
    with session_scope(app.engine) as s:
        # read (the last looks the claims returned are not read again)
        again = [j.record for j in jobs if j.unchanged]
        looks = {r.account.id: r.last for r in again if r.last is not None}
        looks |= last_looks(s, [r.account.id for r in again if r.last is None])
        earlier = earlier_snapshots(s, [look.snapshot_id for look in looks.values()])
        quick = _quick(app, s, jobs, looks, earlier)
        slow = [i for i in range(len(jobs)) if i not in quick]
        ids = [jobs[i].record.account.id for i in slow]
        seen = last_seen(s, [jobs[i].record.account.id for i in slow if not jobs[i].unchanged])
        judging = [jobs[i].record.account.id for i in slow if jobs[i].unchanged]
        unread = [a for a in judging if a in looks and looks[a].digest is None]  # the claim's
        for a, digest in digests_of(s, unread).items():
            looks[a] = replace(looks[a], digest=digest)
        owners = {jobs[i].record.account.owner_code for i in slow}
        units = {u.code: u for u in s.exec(select(Unit).where(col(Unit.code).in_(owners)))}
        loop = Loop.load(s, current := open_findings_of(s, ids))  # 误报 kept out; rechecks
        # judge (a judgement past its budget makes its job a failed check: jobs[i] replaced)
        verdicts: dict[int, Verdict] = {
            i: _each(i, _judge_unchanged, app, jobs[i], looks, earlier)
            if jobs[i].unchanged
            else _each(i, _judge_full, app, jobs, i, units, seen)
            for i in slow
        }
        # write: snapshots (one INSERT … RETURNING, no ORM objects), then findings (their
        # events need their own ids: one flush), then alert items, the registry's signer
        # pins, and the accounts' state (the claim released, the next due time, the last look)
        put_contents(s, [(j.facts_hash, j.facts_data) for j in jobs if not j.unchanged])  # once
        snaps: list[Snapshot] = []
        at = 0
        node = app.settings.node_name
        for i, j in enumerate(jobs):
            account_id, obs = j.record.account.id, j.record.obs
            if j.unchanged:
                last = looks[account_id]
                snaps.append(same_snapshot(node, account_id, obs, earlier[last.snapshot_id]))
                continue
            n = len(obs.artifacts)
            snaps.append(
                snapshot(node, account_id, obs, j.facts_hash, verdicts[i], digests[at : at + n])
            )
            at += n
        insert_snapshots(s, snaps)
        events: list[PendingEvent] = []
        changes: dict[int, list[Change]] = {
            i: _each(
                i,
                reconcile,
                s,
                jobs[i].record.account.id,
                snaps[i].id,
                loop.keep(jobs[i].record.account.id, verdicts[i].signals),
                content_seen=jobs[i].record.obs.outcome is Outcome.ok,
                now=jobs[i].record.now,
                current=current[jobs[i].record.account.id],
                events=events,
                judged=verdicts[i].judged,
            )
            for i in slow
        }
        s.flush()
        write_events(s, events)
        # 已整改: the recheck passed or failed (a quick look's account has no finding open)
        loop.decide(s, app, [jobs[i] for i in slow], [snaps[i] for i in slow], units)
        results: list[CheckResult] = []
        for i, (j, snap) in enumerate(zip(jobs, snaps, strict=True)):
            account = j.record.account
            if i in quick:  # judged silent, no finding open: nothing to tell or pin
                results.append(CheckResult(account, snap, j.record.obs, [], []))
                continue
            v, chs = verdicts[i], changes[i]
            unit = units.get(account.owner_code)
            _each(
                i, enqueue, s, app.settings, account, unit, chs, now=j.record.now,
                rulesets=app.rulesets,
            )  # fmt: skip
            if v.pin_signer:
                _pin_signer(s, account, v.pin_signer)
            results.append(CheckResult(account, snap, j.record.obs, v.signals, chs))
        write_states(
            s,
            [_look(app, j, snaps[i], verdicts.get(i)) for i, j in enumerate(jobs)],
            app.judged_with,
        )
    return results


def _quick(
    app: WriteContext,
    s: Session,
    jobs: list[_Prepared],
    looks: dict[str, LastLook],
    earlier: dict[int, Any],
) -> set[int]:
    """The batch's looks written without judging (:mod:`monitor.record.quick`): unchanged,
    their time rules silent under the account's rule set until after now, the earlier
    snapshot there, and no finding open."""
    tz = app.settings.timezone
    maybe = {
        i: j.record.account.id
        for i, j in enumerate(jobs)
        if j.unchanged
        and is_quiet(look := looks.get(j.record.account.id), quiet_key(j.ruleset, tz), j.record.now)
        and look is not None
        and look.snapshot_id in earlier
    }
    held = with_open_findings(s, list(maybe.values())) if maybe else set()
    return {i for i, a in maybe.items() if a not in held}


def _look(app: WriteContext, job: _Prepared, snap: Snapshot, verdict: Verdict | None) -> Look:
    """What the account's state keeps of this look. ``verdict``: None for a quick look
    (its promise of silence stands as it was made)."""
    rec, obs = job.record, job.record.obs
    # a page a later check can compare with: by its bytes, or by what it said
    full = job.full_ok and bool(obs.body_sha256 or obs.meaning)
    tz = app.settings.timezone
    quiet: tuple[datetime | None, str] | None = None
    if full:  # the rules judged from its posts later on: silent until when?
        until = quiet_until(obs.posts, job.ruleset, app.calendar, rec.now, tz)
        quiet = (until, quiet_key(job.ruleset, tz))
    elif obs.unchanged and verdict is not None:
        quiet = (verdict.quiet_until, quiet_key(job.ruleset, tz))
    return Look(
        rec.account.id,
        rec.now,
        rec.claimed_by,
        rec.next_due,
        obs.unchanged,
        obs.etag,
        obs.last_modified,
        obs.body_sha256 if full else "",
        snap.id if full else None,
        digest_posts(obs.posts) if full else None,
        obs.meaning if full else "",
        obs.profile.posts_count if full else None,
        quiet,
    )


def _judge_full(
    app: WriteContext,
    jobs: list[_Prepared],
    i: int,
    units: dict[str, Unit],
    seen: dict[str, LastSeen],
) -> Verdict:
    """``jobs[i]`` judged within ``[patrol] judge_timeout_seconds``; past it, ``jobs[i]``
    becomes the failed check that says so (:func:`monitor.record.judge.timed_out`)."""
    j = jobs[i]
    account = j.record.account

    def run(obs: Observation, facts: dict[str, Any]) -> Verdict:
        return judge(
            obs, facts, account, units.get(account.owner_code), j.ruleset,
            seen.get(account.id), calendar=app.calendar, tz=app.settings.timezone,
            now=j.record.now, lists=app.word_lists,
        )  # fmt: skip

    last = seen.get(account.id)
    unseen = (
        unseen_posts(j.record.obs, observation_from_facts(last.facts))
        if last is not None and _may_have_unseen(j.record.obs, last.facts)
        else []
    )
    if unseen:
        # the counter grew and the list does not show it: kept in the facts, so the next
        # look carries the update (probes.sight); rare, so facts are rebuilt only then
        j.record.obs.posts.extend(unseen)
        facts = j.record.obs.facts()
        sha, data = content_of(facts)
        j = jobs[i] = replace(j, facts=facts, facts_hash=sha, facts_data=data)
    budget = app.settings.patrol.judge_timeout_seconds
    try:
        with time_budget(budget):
            return run(j.record.obs, j.facts)
    except JudgeTimeout as e:
        obs = timed_out(j.record.obs, e)
        log.error(
            "judge_timeout", account=account.id, seconds=budget, posts=len(obs.posts),
            detail=obs.detail,
        )  # fmt: skip
        facts = obs.facts()
        sha, data = content_of(facts)
        jobs[i] = replace(
            j, record=replace(j.record, obs=obs), facts=facts, facts_hash=sha, facts_data=data
        )
        return run(obs, facts)


class LookAgain(CheckError):
    """The last look an unchanged page refers to is not there any more: the account is due
    again at once and its page is read in full."""


def _judge_unchanged(
    app: WriteContext,
    job: _Prepared,
    looks: dict[str, LastLook],
    earlier: dict[int, Any],
) -> Verdict:
    account_id = job.record.account.id
    last = looks.get(account_id)
    snap = earlier.get(last.snapshot_id) if last is not None else None
    verdict = None
    if last is not None and snap is not None:
        verdict = judge_unchanged(
            last.digest or {},
            job.ruleset,
            snap.profile_hash,
            calendar=app.calendar,
            tz=app.settings.timezone,
            now=job.record.now,
        )
    if verdict is None:
        forget_look(app.engine, account_id, job.record.now)
        raise LookAgain(f"账号 '{account_id}' 的上次快照已不在，下次将完整读取页面")
    return verdict


def _put_blobs(app: WriteContext, contents: list[bytes]) -> list[str]:
    """All of a batch's artifacts, durable before its transaction (one sync, not one each)."""
    put_many = getattr(app.blobs, "put_many", None)
    if put_many is not None:
        return list(put_many(contents))
    return [app.blobs.put(c) for c in contents]


def _pin_signer(session: Session, account: Account, signer: str) -> None:
    """Pin the first verified signer of an app registered without one, with the snapshot
    that saw it; the info finding this opens tells the unit which certificate is expected."""
    row = session.get(Account, account.id)
    assert row is not None
    row.options = {**row.options, "signer_sha256": signer}
    session.add(row)
    log.info("app_signer_pinned", account=account.id, signer=signer)
