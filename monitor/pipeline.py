"""One check, end to end (DESIGN §2): observe → save snapshot → evaluate → reconcile → enqueue.

The snapshot, the finding changes and the outbox rows are written in ONE
transaction, so a crash or SIGTERM leaves either all of a check or none of it.
Blobs are written before that transaction; a crash can leave an unreferenced blob
(collected later), never a snapshot pointing at a missing one.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio
import structlog
from sqlmodel import Session, col, select

from monitor.app import App
from monitor.config import Settings
from monitor.db import session_scope
from monitor.findings import Change, reconcile
from monitor.models import Account, Snapshot, Unit
from monitor.outbox import enqueue
from probes.checks import evaluate
from probes.checks.links import resolve_short_links
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


def _last_good(session: Session, account_id: str) -> Snapshot | None:
    """The last snapshot whose fetch worked: history for the rules, identity for theft."""
    return session.exec(
        select(Snapshot)
        .where(Snapshot.account_id == account_id, Snapshot.outcome == Outcome.ok.value)
        .order_by(col(Snapshot.taken_at).desc())
        .limit(1)
    ).first()


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


def _record(app: App, account: Account, obs: Observation, now: datetime) -> CheckResult:
    """Store what was seen and what it means, in one transaction."""
    artifacts = []
    for a in obs.artifacts:
        digest = app.blobs.put(a.content)
        artifacts.append(
            {
                "kind": a.kind,
                "media_type": a.media_type,
                "sha256": digest,
                "size": len(a.content),
                "url": a.url,
            }
        )
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

    with session_scope(app.engine) as s:
        last = _last_good(s, account.id)
        unit = s.get(Unit, account.owner_code)
        signals = evaluate(
            obs,
            ruleset=ruleset,
            calendar=app.calendar,
            now=now,
            history_posts=[post_from_dict(p) for p in last.facts.get("posts", [])] if last else [],
            tz=app.settings.timezone,
            previous=observation_from_facts(last.facts) if last else None,
            registered_name=account.name,
            home_province=province_of(unit.region) if unit else "",
            account_status=account.status,
        )
        _pin_signer(s, account, signals)
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
            facts=facts,
            facts_hash=facts_hash,
            artifacts=artifacts,
        )
        s.add(snap)
        s.flush()
        assert snap.id is not None
        changes = reconcile(
            s, account.id, snap.id, signals, content_seen=obs.outcome is Outcome.ok, now=now
        )
        enqueue(s, app.settings, account, unit, changes, now=now)
    return CheckResult(account, snap, obs, signals, changes)


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
    result = await anyio.to_thread.run_sync(_record, app, account, obs, when)
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
