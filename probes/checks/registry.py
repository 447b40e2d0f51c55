"""The detector registry: what a detector is given (:class:`Context`) and where it registers.

A module of its own so that detectors import it without importing the package that imports
them (no import cycle); :mod:`probes.checks` imports the detectors so they register, and runs
them in :func:`probes.checks.evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from probes.checks.kinds import FindingKind
from probes.checks.rules import RuleSet
from probes.model import Observation, Post, Signal

if TYPE_CHECKING:
    from probes.checks.calendar import WorkCalendar
    from probes.checks.lists import Lists


@dataclass(frozen=True)
class Context:
    """What detectors may use besides the observation; grows as detectors need more."""

    ruleset: RuleSet
    calendar: WorkCalendar
    now: datetime
    posts: Sequence[Post]  # the observation's posts merged with history, newest version kept
    tz: str = "Asia/Shanghai"
    # theft detection compares against the registry and the last good snapshot
    previous: Observation | None = None  # last ok snapshot (profile + posts), None if unknown
    registered_name: str = ""  # the name filed in the registry (Target.name)
    # "贵州", or the unit's region "贵州省贵阳市": IP locations outside it are a theft sign
    home_province: str = ""
    account_status: str = "active"  # "closed": the unit closed/cancelled it; posts are a sign
    # the account's 主办单位 code: the content detector checks posts against its roster
    owner_code: str = ""
    # the owner unit's name (主办单位, Unit.name): the certification should name it
    owner_name: str = ""
    # the word lists, rosters and domain lists, the user's overlaid on the shipped
    # (probes.checks.lists); None: the shipped ones alone
    lists: Lists | None = None


Detector = Callable[[Observation, Context], list[Signal]]

DETECTORS: dict[str, Detector] = {}
# detectors that judge a mobile client (Observation.app); the others judge posts, and an app
# has none (an app judged for staleness would be "never updated")
APP_DETECTORS: set[str] = set()
#: detector name -> the codes of the kinds it declared it emits
EMITS: dict[str, frozenset[str]] = {}


def register(
    name: str, kinds: Iterable[FindingKind], *, apps: bool = False
) -> Callable[[Detector], Detector]:
    """Add a content detector, emitting ``kinds`` (its module's declared
    :class:`~probes.checks.kinds.FindingKind` s); it runs on every observation whose fetch
    succeeded.

    ``apps=True``: it judges mobile clients and runs only on observations that carry
    ``app`` facts; otherwise it runs only on observations that do not.
    """

    def add(fn: Detector) -> Detector:
        if name in DETECTORS:
            raise ValueError(f"detector {name!r} is already registered")
        DETECTORS[name] = fn
        EMITS[name] = frozenset(k.code for k in kinds)
        if apps:
            APP_DETECTORS.add(name)
        return fn

    return add


def unregister(name: str) -> None:
    """Take a detector out again (one a test registered for itself)."""
    DETECTORS.pop(name, None)
    EMITS.pop(name, None)
    APP_DETECTORS.discard(name)


def declared(name: str, signals: list[Signal]) -> list[Signal]:
    """``signals`` as detector ``name`` gave them, each of a kind it declared: a kind declared
    nowhere would reach people as a bare code, so it is a programming error, named here."""
    emits = EMITS.get(name, frozenset())
    for s in signals:
        if s.kind not in emits:
            raise ValueError(f"detector {name!r} emitted {s.kind!r}, a kind it does not declare")
    return signals
