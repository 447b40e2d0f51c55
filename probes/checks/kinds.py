"""The registry of finding kinds: every kind a detector can emit, declared beside its detector.

A detector's ``Signal.kind`` is a code; its :class:`FindingKind` says everything else about it
— the label a message, the console, the CLI and the report show, the problem category in the
national inspection's own terms (问题类别, seed 003's eight problems), the severity it usually
carries, the verb its deadline takes ("须在 … 前更新" or "前整改"), the advice a message
gives, and how monitor treats it (who hears, whether it counts in the 通报, whether it needs
复核, whether a fetch alone settles it). Monitor asks these questions of the spec; it keeps no
list of codes.

A kind is declared with :func:`declare` in its detector's kinds module — the detector module
itself where importing it is cheap (``probes.checks.staleness``, the fetch kinds in
``probes.checks``), a ``<detector>_kinds`` module beside it where the detector loads lexicons,
domain lists or an HTTP client: the console and the CLI name every kind without loading them.
:data:`KIND_MODULES` lists those modules, in the order kinds are shown; ``tests/test_kinds.py``
fails, naming the module, when a module declares kinds and is not listed. Routing reads the
category too: ``[alerts] it_kinds = ["install"]`` sends every app problem to the unit's
技术联系渠道.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from types import MappingProxyType
from typing import Any, Literal

from probes.severity import Severity


@dataclass(frozen=True)
class Category:
    """A problem category as inspection bulletins name it."""

    code: str
    label: str


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("update", "更新不及时"),  # 运维保障差: 长期不更新
        Category("ads", "刊登或链接商业广告"),  # 功能定位不清
        Category("interaction", "互动服务不实"),
        Category("vetting", "审核把关不严"),  # 领导姓名职务、错别字、规范表述
        Category("entertainment", "过度娱乐化"),
        Category("privacy", "隐私泄露"),  # 身份证号、手机号、银行卡号未脱敏
        Category("theft", "账号被盗用"),  # 管理底数不清
        Category("install", "无法安装或使用"),  # 运维保障差: 移动客户端
        Category("access", "账号无法访问"),  # deleted, banned, cancelled
        Category("patrol", "暂时无法检查"),  # our fetch failed: no verdict on the unit
    )
}


@dataclass(frozen=True)
class FindingKind:
    code: str
    # what people read for this kind; never in brackets, and never repeating its category:
    # messages and the 通报 show it as 类别（label）
    label: str
    category: str  # a CATEGORIES code
    severity: Severity  # what its detector usually says (a signal may say otherwise)
    remedy: str = "整改"  # the deadline's verb: 须在 X 前{remedy}
    # 整改期限: hours from the finding's opening by which the unit must have acted, where
    # the detector sets no deadline of its own (staleness does). None: nothing for the unit
    # to put right (our own fetch problems, a record kept for later comparison).
    fix_hours: int | None = None
    # 复核: a detector's judgement a person must confirm or dismiss as 误报 (the console's
    # /review queue, monitor/store/rectify.py); rules that only count (staleness) need none
    review: bool = False
    # what the unit should do, in one line (``alerts.advice``; a message carries it on the
    # notice). "" for the patrol's own problems: ops read one line for all of them
    advice: str = ""
    # counts in the quarter's 通报 (扣分) when it held warning or high; not what the patrol
    # could not see, nor a warning that the account is about to fall short (``report_weight``)
    counted: bool = True
    # a problem with the fetch itself (the page gone, refused, failed): every fetch settles
    # it, one that saw no content included (``monitor.store.findings.reconcile``)
    fetch: bool = False
    # its verdict moves with the clock alone (staleness): a page found unchanged is judged
    # again for it (``monitor.record.judge``)
    timed: bool = False
    # the kind whose open finding this one ends quietly when it opens ("superseded", no
    # "resolved" notice): a breach replaces its own early warning
    supersedes: str = ""
    # the signal carries the app signer first seen (evidence ``observed_signer``), which the
    # account keeps as its baseline (DOMAIN §4)
    pins_signer: bool = False

    @property
    def category_label(self) -> str:
        return CATEGORIES[self.category].label

    @property
    def audience(self) -> Literal["unit", "ops"]:
        """Who hears of it: the patrol's own problems (暂时无法检查: it could not fetch, read or
        date the account) are no verdict on the unit and go to ops only (``alerts`` routing)."""
        return "ops" if self.category == "patrol" else "unit"


#: the modules that declare kinds, in the order kinds are listed (console, CLI, reports)
KIND_MODULES = (
    "probes.checks.staleness",
    "probes.checks",  # the fetch itself
    "probes.checks.commercial_kinds",
    "probes.checks.theft_kinds",
    "probes.checks.interaction_kinds",
    "probes.checks.content_kinds",
    "probes.checks.install_kinds",
)

_KINDS: dict[str, FindingKind] = {}
_DECLARED_IN: dict[str, str] = {}  # code -> the module that declared it
_VIEW: Mapping[str, FindingKind] = MappingProxyType(_KINDS)
_loaded = False
_LOADING = threading.RLock()  # a thread's first lookup waits for the declarations


def declare(module: str, *specs: FindingKind) -> tuple[FindingKind, ...]:
    """Add ``specs``, declared in ``module`` (its ``__name__``); a code declared twice, or one
    under an unknown category, is a programming error."""
    for s in specs:
        if s.category not in CATEGORIES:
            raise ValueError(f"kind {s.code!r} ({module}): unknown category {s.category!r}")
        old = _DECLARED_IN.get(s.code)
        if old is not None and (old != module or _KINDS[s.code] != s):
            raise ValueError(f"kind {s.code!r} ({module}) is already declared in {old}")
        _KINDS[s.code], _DECLARED_IN[s.code] = s, module
    return specs


def withdraw(*specs: FindingKind) -> None:
    """Take ``specs`` out again (a kind a test declared for itself)."""
    for s in specs:
        _KINDS.pop(s.code, None)
        _DECLARED_IN.pop(s.code, None)


def load() -> Mapping[str, FindingKind]:
    """Every declared kind, read-only, in :data:`KIND_MODULES` order (kinds declared outside
    them, by a test, last). Imports the declaring modules on first use, not with this one:
    they import it to declare."""
    global _loaded
    if _loaded:
        return _VIEW
    with _LOADING:
        if not _loaded:
            for name in KIND_MODULES:
                import_module(name)
            rank = {m: i for i, m in enumerate(KIND_MODULES)}
            ordered = sorted(_KINDS.values(), key=lambda k: rank.get(_DECLARED_IN[k.code], 99))
            _KINDS.clear()
            _KINDS.update((k.code, k) for k in ordered)
            _loaded = True
    return _VIEW


def declared_in(code: str) -> str | None:
    """The module that declared ``code``."""
    load()
    return _DECLARED_IN.get(code)


def kinds_where(**attrs: Any) -> frozenset[str]:
    """The codes of every kind whose spec has each of ``attrs`` (``review=True``)."""
    return frozenset(
        code for code, k in load().items() if all(getattr(k, a) == v for a, v in attrs.items())
    )


def kind(code: str) -> FindingKind | None:
    return load().get(code)


def spec(code: str) -> FindingKind:
    """The spec of a kind that must be declared (a detector's signal); KeyError otherwise."""
    k = load().get(code)
    if k is None:
        raise KeyError(f"finding kind {code!r} is declared nowhere (probes.checks.kinds)")
    return k


def label(code: str) -> str:
    """The kind's Chinese label; an unknown code as it is (never an empty cell)."""
    k = kind(code)
    return k.label if k else code


def category_label(code: str) -> str:
    """The 问题类别 a kind falls under, for reports; an unknown code as it is."""
    k = kind(code)
    return k.category_label if k else code


def remedy(code: str) -> str:
    k = kind(code)
    return k.remedy if k else "整改"


def advice(code: str) -> str:
    """What the unit should do about ``code``; "" when its spec says nothing (the message
    falls back to its category's line)."""
    k = kind(code)
    return k.advice if k else ""


def fix_deadline(code: str, opened_at: datetime) -> datetime | None:
    """A finding's 整改期限 when its detector gave none: its opening plus the kind's window."""
    k = kind(code)
    return opened_at + timedelta(hours=k.fix_hours) if k and k.fix_hours else None


def in_category(codes: frozenset[str] | set[str], kind_code: str) -> bool:
    """``kind_code`` is one of ``codes``, or falls under a category among them."""
    if kind_code in codes:
        return True
    k = kind(kind_code)
    return k is not None and k.category in codes


def supersedes() -> dict[str, str]:
    """Kind -> the kind its opening ends quietly ("superseded")."""
    return {code: k.supersedes for code, k in load().items() if k.supersedes}


def report_weight(code: str, severity: str) -> str:
    """How a finding that held ``severity`` in a quarter counts in that quarter's 通报: "veto"
    (单项否决), "deduct" (扣分) or "" (not counted). The one rule: the report's problem lines
    (``monitor.report.problems``) and the recovery message ("本季度通报仍计入…") both ask it,
    so what a unit is told when a problem clears is what the 通报 will show."""
    if severity == "veto":
        return "veto"
    k = kind(code)
    if severity in ("high", "warning") and (k is None or k.counted):
        return "deduct"
    return ""


#: the sets monitor asks for by name, each a question asked of every spec (PEP 562: worked
#: out on first use, once every kind is declared)
_SETS = {
    # the patrol's own problems: no verdict on the unit, told to ops only, shown apart as
    # 巡查异常; an account with nothing else in a period is 无法判定 in the 通报
    "PATROL_KINDS": {"category": "patrol"},
    "OPS_KINDS": {"audience": "ops"},
    # the judgement kinds (commercial, content, theft): a supervisor confirms each finding or
    # dismisses it as 误报 (复核); a dismissed one does not come back for the same evidence
    "REVIEW_KINDS": {"review": True},
    # what the patrol could not see, or a warning ahead of a breach: no points in the 通报
    "NOT_DEDUCTED": {"counted": False},
    "FETCH_KINDS": {"fetch": True},
    "TIME_KINDS": {"timed": True},
}


def __getattr__(name: str) -> Any:
    if name == "KINDS":
        return load()
    if name in _SETS:
        value = kinds_where(**_SETS[name])
        globals()[name] = value
        return value
    raise AttributeError(f"module 'probes.checks.kinds' has no attribute {name!r}")
