"""Routing: for one finding, who is told, when it repeats and when it escalates.

Pure decisions, no database (docs/architecture.md): ``monitor`` describes the finding (``Subject``),
passes the configured routes and defaults, and gets a ``Plan`` back. The same function
answers ``xuncha routes test``, so what the command shows is what the dispatcher does.

Model: Alertmanager's route tree flattened to a list — the first route whose matchers all
match wins, and anything it leaves unset comes from the ``[alerts]`` defaults. A flat list
is what a supervising office can read and review; nesting buys little for four audiences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Audience = Literal["owner", "it", "ops"]


class AlertRoute(BaseModel):
    """One ``[[alerts.routes]]`` entry: matchers, then what to do with what matched.

    Empty matcher lists match everything; ``units`` matches a unit and every unit below it;
    ``kinds`` holds kind codes or 问题类别 codes (``install`` matches every app problem).
    """

    model_config = ConfigDict(extra="forbid")

    name: str = ""  # shown by `routes test`
    kinds: list[str] = Field(default_factory=list)
    severities: list[str] = Field(default_factory=list)
    platforms: list[str] = Field(default_factory=list)
    units: list[str] = Field(default_factory=list)
    # owner: the 主办单位's channels (nearest unit above with channels if it has none);
    # it: the unit's 技术联系渠道 (else owner); ops: [alerts].ops_channels
    audience: Audience | None = None
    channels: list[str] = Field(default_factory=list)  # told as well, whatever the audience
    group_wait_seconds: int | None = Field(None, ge=0)
    repeat_minutes: int | None = Field(None, ge=0)
    escalate_after_minutes: int | None = Field(None, ge=0)
    escalate_immediately: bool | None = None
    mute: bool = False  # matched findings are recorded, never sent


@dataclass(frozen=True)
class Subject:
    """What routing looks at: the finding's facts and the owner unit's line of supervisors.

    ``category`` is the kind's 问题类别 code from the kind catalogue (``probes.checks.kinds``,
    which this package does not import: ``monitor`` passes it in), so a setting can name a
    whole category (``it_kinds = ["install"]``) instead of every kind a detector emits.
    """

    kind: str
    severity: str
    platform: str
    unit_line: tuple[str, ...]  # owner unit code first, then its parent, grandparent, ...
    category: str = ""  # "" for a kind the catalogue does not know


def kind_in(codes: frozenset[str] | set[str] | list[str], s: Subject) -> bool:
    """The subject's kind is one of ``codes``, or falls under a category among them (the rule
    of ``probes.checks.kinds.in_category``)."""
    return s.kind in codes or (bool(s.category) and s.category in codes)


@dataclass(frozen=True)
class Defaults:
    group_wait_seconds: int
    repeat_minutes: int
    escalate_after_minutes: int | None
    escalate_immediately: frozenset[str]  # severities, kinds or categories
    it_kinds: frozenset[str]  # kinds or categories
    ops_kinds: frozenset[str]  # kinds or categories


@dataclass
class Plan:
    route: str  # the matching route's name, or "默认"
    audience: Audience
    extra_channels: list[str] = field(default_factory=list)
    group_wait_seconds: int = 60
    repeat_minutes: int = 0  # 0 = never
    escalate_after_minutes: int | None = None  # None = never
    escalate_immediately: bool = False
    mute: bool = False


def matches(route: AlertRoute, s: Subject) -> bool:
    return (
        (not route.kinds or kind_in(route.kinds, s))
        and (not route.severities or s.severity in route.severities)
        and (not route.platforms or s.platform in route.platforms)
        and (not route.units or any(u in route.units for u in s.unit_line))
    )


def plan(subject: Subject, routes: list[AlertRoute], d: Defaults) -> Plan:
    """The first matching route, completed from the defaults.

    The one place that keeps the patrol's own problems (``ops_kinds``: it could not fetch,
    read or date the account) away from units: they go to ops whatever a route says, never
    remind or escalate, and a route's extra ``channels`` carry them only when the route names
    the kind (or its category) itself — a broad route (by severity, platform or unit) that
    adds a unit's channel never drags them there. Every path that tells someone about a
    finding (its opening, reminders, escalations, digests) asks this plan.
    """
    route = next((r for r in routes if matches(r, subject)), None)
    ops = kind_in(d.ops_kinds, subject)
    if ops:
        audience: Audience = "ops"
    elif kind_in(d.it_kinds, subject):
        audience = "it"
    else:
        audience = "owner"
    immediate = subject.severity in d.escalate_immediately or kind_in(
        d.escalate_immediately, subject
    )
    p = Plan(
        route="默认",
        audience=audience,
        group_wait_seconds=d.group_wait_seconds,
        repeat_minutes=d.repeat_minutes,
        escalate_after_minutes=d.escalate_after_minutes,
        escalate_immediately=immediate,
    )
    if route is None:
        return _settle(p, subject)
    p.route = route.name or "（未命名路由）"
    if route.audience is not None and not ops:
        p.audience = route.audience
    if not ops or (route.kinds and kind_in(route.kinds, subject)):
        p.extra_channels = list(route.channels)
    if route.group_wait_seconds is not None:
        p.group_wait_seconds = route.group_wait_seconds
    if route.repeat_minutes is not None:
        p.repeat_minutes = route.repeat_minutes
    if route.escalate_after_minutes is not None:
        p.escalate_after_minutes = route.escalate_after_minutes
    if route.escalate_immediately is not None:
        p.escalate_immediately = route.escalate_immediately
    p.mute = route.mute
    return _settle(p, subject)


def _settle(p: Plan, s: Subject) -> Plan:
    # information needs no reminder and no supervisor; operator problems are not the unit's
    if s.severity == "info" or p.audience == "ops":
        p.repeat_minutes, p.escalate_after_minutes, p.escalate_immediately = 0, None, False
    return p
