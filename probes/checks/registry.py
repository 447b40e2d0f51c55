"""The detector registry: what a detector is given (:class:`Context`) and where it registers.

A module of its own so that detectors import it without importing the package that imports
them (no import cycle); :mod:`probes.checks` imports the detectors so they register, and runs
them in :func:`probes.checks.evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

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


def register(name: str, *, apps: bool = False) -> Callable[[Detector], Detector]:
    """Add a content detector; it runs on every observation whose fetch succeeded.

    ``apps=True``: it judges mobile clients and runs only on observations that carry
    ``app`` facts; otherwise it runs only on observations that do not.
    """

    def add(fn: Detector) -> Detector:
        if name in DETECTORS:
            raise ValueError(f"detector {name!r} is already registered")
        DETECTORS[name] = fn
        if apps:
            APP_DETECTORS.add(name)
        return fn

    return add
