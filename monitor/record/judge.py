"""Judging one check: what the detectors say of it, given what the account showed before.

Pure: no database, no clock of its own, nothing written. :mod:`monitor.record.batch`
reads what a judgement needs (:class:`~monitor.store.snapshots.LastSeen`, the unit, the
rule set), calls :func:`judge` for each record of a batch, then writes the rows the
verdicts call for.
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

from monitor.config import Settings
from monitor.store.findings import FETCH_KINDS
from monitor.store.models import Account, Unit
from monitor.store.snapshots import LastSeen, profile_marks
from probes.checks import evaluate, kinds
from probes.checks.calendar import WorkCalendar
from probes.checks.lists import Lists
from probes.checks.rules import RuleSet
from probes.checks.staleness import evaluate_staleness, posts_from_digest, quiet_until
from probes.model import Observation, Outcome, Signal, observation_from_facts, post_from_dict

# what a check that found the page unchanged judges again: the rules that move with time
# (``FindingKind.timed``), and the fetch (an ok answer ends a fetch problem); the rest stays
# as the page showed it
TIME_KINDS: frozenset[str] = kinds.TIME_KINDS
UNCHANGED_JUDGES = TIME_KINDS | FETCH_KINDS

DATA = Path(__file__).resolve().parents[2] / "probes" / "data"


@dataclass(frozen=True)
class Verdict:
    signals: list[Signal]
    profile_hash: str
    profile_changed: bool
    # an app registered without a signer gets the first verified one pinned (DOMAIN §4):
    # written with the snapshot that saw it; a later change is "signer changed"
    pin_signer: str | None = None
    # the kinds these signals speak for (None: every kind; see store.findings.reconcile)
    judged: frozenset[str] | None = None
    # an unchanged look's: until when its time rules stay silent (None: they spoke)
    quiet_until: datetime | None = None


def judging_fingerprint(settings: Settings) -> str:
    """What judging depends on besides the page: rule sets, calendar files, the lexicons,
    word lists, rosters and domain lists (shipped and the user's), the program's version.
    An unchanged page is judged again in full (read again) when this differs from what its
    last full judgement was made with."""
    h = hashlib.sha256()
    h.update(metadata.version("xuncha").encode())
    h.update(json.dumps(settings.rulesets, sort_keys=True, default=str).encode())
    h.update(json.dumps(sorted(settings.content.disable)).encode())
    user = settings.lists_path  # the user's own lists (probes.checks.lists)
    files = [Path(p) for p in settings.calendar.extra_files] + sorted(DATA.rglob("*.*"))
    files += sorted(p for p in user.rglob("*") if p.is_file()) if user.is_dir() else []
    for f in files:
        h.update(str(f).encode())
        try:
            h.update(f.read_bytes())
        except OSError:
            h.update(b"-")
    return h.hexdigest()[:32]


def judge_unchanged(
    digest: dict[str, Any], ruleset: RuleSet, previous_profile_hash: str, *, calendar: WorkCalendar,
    tz: str, now: datetime,
) -> Verdict | None:  # fmt: skip
    """The verdict on a page unchanged since its last full judgement: its time-dependent
    rules judged again from the posts' digest, and until when they stay silent. None when
    the digest cannot serve."""
    posts = posts_from_digest(digest)
    if posts is None:
        return None
    signals = evaluate_staleness(posts, ruleset, calendar, now, tz)
    quiet = quiet_until(posts, ruleset, calendar, now, tz)
    return Verdict(signals, previous_profile_hash, False, None, UNCHANGED_JUDGES, quiet)


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
    lists: Lists | None = None,
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
        owner_name=unit.name if unit else "",  # the certification should name the unit
        owner_code=account.owner_code,  # posts are checked against its roster
        lists=lists,  # the word lists and rosters, the user's laid over the shipped
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
        if sig.spec.pins_signer and observed:
            return str(observed)
    return None


# -- the time a judgement may take -----------------------------------------------------------


class JudgeTimeout(Exception):
    """A check's judging ran past its budget (``[patrol] judge_timeout_seconds``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"判定超时（{seconds:g} 秒）")
        self.seconds = seconds


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise :class:`JudgeTimeout` in the code under it once ``seconds`` have passed.

    Why a signal: judging is pure Python (nothing written, nothing to clean up) run by the
    writer process's main thread, and SIGALRM's handler runs there between two bytecodes of
    whatever detector is busy and raises where it stands, so one page's judgement stops
    while the batch's other records go on. A thread cannot be stopped from outside, and a
    process per judgement would cost more than most judgements. Off the main thread (the
    one-off commands' recorder thread) or without ``setitimer`` the budget is not kept.
    An outer alarm (pytest-timeout's) that comes first keeps the timer; a later one is
    set again, less the time spent here, when the judgement ends.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    outer_left, outer_interval = signal.getitimer(signal.ITIMER_REAL) if usable else (0.0, 0.0)
    if not usable or seconds <= 0 or (outer_left and outer_left <= seconds):
        yield
        return
    fired = False

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if not fired:  # once: the judge is interrupted, never the writing after it
            fired = True
            raise JudgeTimeout(seconds)

    outer = signal.signal(signal.SIGALRM, on_alarm)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        for _ in range(2):  # the alarm may ring as the judgement ends: it is too late then
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, outer)
                if outer_left:
                    left = max(outer_left - (time.monotonic() - started), 0.001)
                    signal.setitimer(signal.ITIMER_REAL, left, outer_interval)
                break
            except JudgeTimeout:
                continue


def timed_out(obs: Observation, error: JudgeTimeout) -> Observation:
    """What a check whose judging was cut off records: the page as read (posts, profile,
    evidence files), as a failed check saying so, judged like a failed fetch (a
    ``fetch_failed`` finding, content findings left as they were) and read in full again
    next time."""
    detail = f"{error}：共 {len(obs.posts)} 条内容未能判定，已保留抓取结果"
    return replace(obs, outcome=Outcome.error, detail=detail, capped=dict(obs.capped))
