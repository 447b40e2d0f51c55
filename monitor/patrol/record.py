"""What a check writes (DESIGN §2): snapshot → evaluate → reconcile → enqueue, in one transaction.

The snapshot, the finding changes and the outbox rows of one check are written in ONE
transaction, so a crash or SIGTERM leaves either all of a check or none of it. Blobs are
written (and made durable) before that transaction; a crash can leave an unreferenced blob
(collected later), never a snapshot pointing at a missing one.

:func:`write_batch` writes several checks' records in one transaction (group commit); it
is plain synchronous code so that it can run in the recorder's thread or in a writer
process of its own (:mod:`monitor.patrol.recorder`). Everything it takes and returns pickles.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlmodel import Session, col, select

from monitor.alerting import enqueue
from monitor.app import App
from monitor.store.engine import session_scope
from monitor.store.findings import Change, PendingEvent, open_findings_of, reconcile, write_events
from monitor.store.models import Account, Snapshot, Unit
from probes.checks import evaluate
from probes.checks.rules import RuleSet
from probes.checks.theft import observation_from_facts
from probes.model import Observation, Outcome, Signal, post_from_dict

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


@dataclass
class _Prepared:
    record: Record
    ruleset: RuleSet
    facts: dict[str, Any]
    facts_hash: str


def ruleset_for(account: Account) -> str:
    return account.ruleset or ("national" if account.kind == "publish" else "service")


def _latest_post_at(obs: Observation) -> datetime | None:
    times = [p.published_at for p in obs.posts if p.published_at and not p.pinned]
    return max(times) if times else None


def _prepare(app: App, record: Record) -> _Prepared:
    """What needs no database: the rule set (a missing one is the user's error) and facts."""
    account, obs = record.account, record.obs
    facts = obs.facts()
    seen = {k: facts[k] for k in ("outcome", "status_code", "profile", "posts")}
    facts_hash = hashlib.sha256(
        json.dumps(seen, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    # a closed account is watched only for coming back to life, not for posting often
    ruleset_name = "service" if account.status == "closed" else ruleset_for(account)
    ruleset = app.rulesets.get(ruleset_name)
    if ruleset is None:
        raise CheckError(f"账号 '{account.id}' 的更新规则 '{ruleset_name}' 未定义")
    return _Prepared(record, ruleset, facts, facts_hash)


Outcomes = list["CheckResult | BaseException"]


def write_batch(app: App, records: list[Record]) -> tuple[Outcomes, int]:
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


def _commit(app: App, batch: list[tuple[int, _Prepared]], outcomes: Outcomes) -> int:
    transactions = 0
    while batch:
        failed: list[tuple[int, _Prepared]] = []
        try:
            results = _transaction(app, batch, failed)
        except Exception as e:
            if failed:  # that check's fault: the others go again without it
                outcomes[failed[0][0]] = e
                batch = [j for j in batch if j is not failed[0]]
                continue
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


def _transaction(
    app: App, batch: list[tuple[int, _Prepared]], failed: list[tuple[int, _Prepared]]
) -> list[CheckResult]:
    jobs = [p for _, p in batch]
    try:
        digests = _put_blobs(app, [a.content for j in jobs for a in j.record.obs.artifacts])
    except Exception:
        if len(batch) == 1:
            failed.append(batch[0])
        raise
    ids = [j.record.account.id for j in jobs]
    results: list[CheckResult] = []
    with session_scope(app.engine) as s:
        last = _last_good_facts(s, ids)
        owners = {j.record.account.owner_code for j in jobs}
        units = {u.code: u for u in s.exec(select(Unit).where(col(Unit.code).in_(owners)))}
        current = open_findings_of(s, ids)
        snaps: list[Snapshot] = []
        signals: list[list[Signal]] = []
        at = 0
        for item, job in zip(batch, jobs, strict=True):
            try:
                n = len(job.record.obs.artifacts)
                snap, sigs = _snapshot(
                    s, app, job, digests[at : at + n], last.get(job.record.account.id), units
                )
                at += n
            except Exception:
                failed.append(item)
                raise
            s.add(snap)
            snaps.append(snap)
            signals.append(sigs)
        s.flush()  # every snapshot's id, in one round of INSERTs
        events: list[PendingEvent] = []
        changes: list[list[Change]] = []
        for item, job, snap, sigs in zip(batch, jobs, snaps, signals, strict=True):
            rec = job.record
            try:
                assert snap.id is not None
                changes.append(
                    reconcile(
                        s,
                        rec.account.id,
                        snap.id,
                        sigs,
                        content_seen=rec.obs.outcome is Outcome.ok,
                        now=rec.now,
                        current=current[rec.account.id],
                        events=events,
                    )
                )
            except Exception:
                failed.append(item)
                raise
        s.flush()  # the new findings' ids, for their events and notices
        write_events(s, events)
        for item, job, snap, sigs, chs in zip(batch, jobs, snaps, signals, changes, strict=True):
            rec = job.record
            try:
                unit = units.get(rec.account.owner_code)
                enqueue(s, app.settings, rec.account, unit, chs, now=rec.now)
            except Exception:
                failed.append(item)
                raise
            results.append(CheckResult(rec.account, snap, rec.obs, sigs, chs))
    return results


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
    job: _Prepared,
    digests: list[str],
    last: dict[str, Any] | None,
    units: dict[str, Unit],
) -> tuple[Snapshot, list[Signal]]:
    """One check's snapshot row and its signals (not yet flushed)."""
    account, obs, now = job.record.account, job.record.obs, job.record.now
    unit = units.get(account.owner_code)
    signals = evaluate(
        obs,
        ruleset=job.ruleset,
        calendar=app.calendar,
        now=now,
        history_posts=[post_from_dict(p) for p in last.get("posts", [])] if last else [],
        tz=app.settings.timezone,
        previous=observation_from_facts(last) if last else None,
        registered_name=account.name,
        home_province=unit.region if unit else "",  # the theft detector reads the province
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
