"""Detectors: turn one observation into signals.

A small registry in the manner of urlwatch's: each content detector is a function
``(observation, context) -> [Signal]`` registered under a name, so commercial-link and theft
detectors plug in beside staleness without touching :func:`evaluate`.

Content is judged only from a fetch that worked. A page that is gone, a fetch blocked by
anti-bot measures or one that failed says nothing about how often the account posts: those give
one fetch signal and no staleness judgement (a failed fetch is never "stale").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any

from probes.checks import registry as _registry
from probes.checks.kinds import FindingKind, declare
from probes.checks.registry import Context, Detector, register
from probes.checks.rules import RuleSet
from probes.checks.staleness import FINDING_KINDS as STALENESS_KINDS
from probes.checks.staleness import evaluate_staleness
from probes.evidence import Fetch
from probes.model import Observation, Outcome, Post, Severity, Signal
from probes.sight import settle, unseen_posts

if TYPE_CHECKING:
    from probes.checks.calendar import WorkCalendar
    from probes.checks.lists import Lists

__all__ = [
    "APP_DETECTORS",
    "DETECTORS",
    "Context",
    "Detector",
    "evaluate",
    "merge_posts",
    "register",
]


#: the fetch's own kinds (:data:`_FETCH_SIGNALS`): the page gone is the unit's to explain;
#: the rest are the patrol's own problems, told to ops
FINDING_KINDS = declare(
    __name__,
    FindingKind(
        "gone", "账号疑似关停、注销或删除", "access", Severity.high, fix_hours=72, fetch=True,
        advice="核实账号状况：被平台封禁的请申诉；已依规关停的请在登记表中注销；"
        "更换了地址的请更新登记表",
    ),
    FindingKind(
        "blocked", "被平台反爬拦截", "patrol", Severity.warning, counted=False, fetch=True
    ),
    FindingKind(
        "fetch_failed", "无法抓取账号页面", "patrol", Severity.warning, counted=False,
        fetch=True,
    ),
    # read, but nothing could be read of it: not settled by a fetch that saw no content
    FindingKind(
        "unreadable", "无法读取内容，页面可能改版或不是有效订阅源", "patrol", Severity.warning,
        counted=False,
    ),
)  # fmt: skip

#: the modules whose import registers a detector (``@register``), in the order they run
#: after staleness; ``tests/test_kinds.py`` names any module that registers one and is not here
DETECTOR_MODULES = (
    "probes.checks.commercial",
    "probes.checks.content",
    "probes.checks.install",
    "probes.checks.interaction",
    "probes.checks.theft",
)


@register("staleness", STALENESS_KINDS)
def _staleness(obs: Observation, ctx: Context) -> list[Signal]:
    return evaluate_staleness(ctx.posts, ctx.ruleset, ctx.calendar, ctx.now, ctx.tz)


def merge_posts(current: Sequence[Post], history: Sequence[Post]) -> list[Post]:
    """Current posts plus history posts not seen now (by id): a short feed still shows a week.

    The current version of a post wins (it may have been pinned or edited since).
    """
    seen = {_key(p) for p in current}
    return [*current, *(p for p in history if _key(p) not in seen)]


def _key(p: Post) -> tuple[str, ...]:
    # a reader that found no id still gives a stable identity: time, address, title
    if p.id:
        return (p.id,)
    when = p.published_at.isoformat() if p.published_at else ""
    return ("", when, p.url, p.title)


def _fetch_evidence(obs: Observation) -> dict[str, Any]:
    moved = obs.final_url if obs.final_url and obs.final_url != obs.url else None
    fetch = Fetch(outcome=Outcome(obs.outcome).value, url=obs.url, final_url=moved,
                  status_code=obs.status_code, reason=obs.detail or None)  # fmt: skip
    return fetch.to_dict()


_FETCH_SIGNALS: dict[Outcome, tuple[str, Severity, str]] = {
    Outcome.not_found: ("gone", Severity.high, "账号或页面已不存在"),
    Outcome.blocked: ("blocked", Severity.warning, "被平台反爬拦截，暂时无法检查"),
    Outcome.error: ("fetch_failed", Severity.warning, "抓取失败，暂时无法检查"),
    Outcome.unreadable: ("unreadable", Severity.warning, "无法读取内容"),
}


def evaluate(
    observation: Observation,
    *,
    ruleset: RuleSet,
    calendar: WorkCalendar,
    now: datetime,
    history_posts: Sequence[Post] = (),
    tz: str = "Asia/Shanghai",
    previous: Observation | None = None,
    registered_name: str = "",
    home_province: str = "",
    account_status: str = "active",
    owner_name: str = "",
    owner_code: str = "",
    lists: Lists | None = None,
) -> list[Signal]:
    """All signals for one observation: a fetch signal, or what every content detector says.

    The keyword arguments after ``tz`` feed the theft detector; left out, it judges only what
    the observation itself shows (spam, night bursts), never identity drift. The registry's
    (``registered_name``, ``home_province``, ``owner_name``) is judged on every check, the
    first one included; ``previous`` adds what changed since the last look. For a closed
    account (``account_status="closed"``) a page that is gone is no finding, and any new post
    is a theft sign. ``lists``: the word lists and rosters the content and commercial
    detectors judge by (:func:`probes.checks.lists.load_lists`; None: the shipped ones).
    """
    settle(observation)  # made outside observe() (a test, a tool): judged on what it saw too
    outcome = Outcome(observation.outcome)
    if outcome is Outcome.not_found and account_status == "closed":
        return []  # a closed account must stay closed: its page being gone is the goal
    if outcome is not Outcome.ok:
        kind, severity, title = _FETCH_SIGNALS[outcome]
        return [
            Signal(
                kind=kind,
                severity=severity,
                title=title,
                detail=observation.detail,
                rule=f"fetch.{outcome.value}",
                evidence=_fetch_evidence(observation),
            )
        ]
    ctx = Context(
        ruleset=ruleset,
        calendar=calendar,
        now=now,
        # updates the counter shows but the list does not (probes.sight.unseen_posts) count
        posts=merge_posts(
            [*observation.posts, *unseen_posts(observation, previous)], history_posts
        ),
        tz=tz,
        previous=previous,
        registered_name=registered_name,
        home_province=home_province,
        account_status=account_status,
        owner_name=owner_name,
        owner_code=owner_code,
        lists=lists,
    )
    is_app = observation.app is not None
    signals: list[Signal] = []
    detectors, app_detectors = _detectors()
    for name, detect in detectors.items():
        if (name in app_detectors) == is_app:
            signals.extend(_registry.declared(name, detect(observation, ctx)))
    return signals


def _detectors() -> tuple[dict[str, Detector], set[str]]:
    """Every detector, registered. The content detectors register themselves on import
    (:data:`DETECTOR_MODULES`), done here on first use rather than with the package: reading
    the kinds or the rules (the CLI, the console) does not load their lexicons and domain
    lists. Staleness, above, registered first, is the first run (signals keep that order)."""
    for name in DETECTOR_MODULES:
        import_module(name)
    return _registry.DETECTORS, _registry.APP_DETECTORS


def __getattr__(name: str) -> Any:
    if name in ("DETECTORS", "APP_DETECTORS"):  # the registry, with every detector in it
        _detectors()
        return getattr(_registry, name)
    raise AttributeError(f"module 'probes.checks' has no attribute {name!r}")
