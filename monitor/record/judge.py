"""Judging one check: what the detectors say of it, given what the account showed before.

Pure: no database, no clock of its own, nothing written. :mod:`monitor.record.batch`
reads what a judgement needs (:class:`~monitor.store.snapshots.LastSeen`, the unit, the
rule set), calls :func:`judge` for each record of a batch, then writes the rows the
verdicts call for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.store.models import Account, Unit
from monitor.store.snapshots import LastSeen, profile_marks
from probes.checks import evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.rules import RuleSet
from probes.checks.theft import observation_from_facts
from probes.model import Observation, Signal, post_from_dict


@dataclass(frozen=True)
class Verdict:
    signals: list[Signal]
    profile_hash: str
    profile_changed: bool
    # an app registered without a signer gets the first verified one pinned (DOMAIN §4):
    # written with the snapshot that saw it; a later change is "signer changed"
    pin_signer: str | None = None


def judge(
    obs: Observation,
    facts: dict[str, Any],
    account: Account,
    unit: Unit | None,
    ruleset: RuleSet,
    last: LastSeen | None,
    *,
    calendar: WorkCalendar,
    tz: str,
    now: datetime,
) -> Verdict:
    """Every detector's signals for ``obs``, and the snapshot's profile marks."""
    signals = evaluate(
        obs,
        ruleset=ruleset,
        calendar=calendar,
        now=now,
        history_posts=[post_from_dict(p) for p in last.facts.get("posts", [])] if last else [],
        tz=tz,
        previous=observation_from_facts(last.facts) if last else None,
        registered_name=account.name,
        home_province=unit.region if unit else "",  # the theft detector reads the province
        account_status=account.status,
    )
    profile_hash, changed = profile_marks(
        facts, obs.outcome.value, last.profile_hash if last else ""
    )
    return Verdict(signals, profile_hash, changed, _signer_to_pin(account, signals))


def _signer_to_pin(account: Account, signals: list[Signal]) -> str | None:
    if account.options.get("signer_sha256"):
        return None
    for sig in signals:
        observed = sig.evidence.get("observed_signer")
        if sig.kind == "app_signer_pinned" and observed:
            return str(observed)
    return None
