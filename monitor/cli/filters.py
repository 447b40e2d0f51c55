"""The filters of ``findings`` and ``accounts``: a code or its Chinese name, as people type it.

``--severity 单项否决`` and ``--severity veto`` are one filter; a platform may be written as
the registry accepts it (``公众号``, ``B站``); a kind by its code, its label or its 问题类别
(``--kind 隐私泄露`` takes every kind in that category). Options repeat, or take several
values separated by commas. A value that names nothing is bad usage: the message lists what
the option takes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from monitor.cli.common import EXIT_USAGE, fail


def values(given: Iterable[str] | None) -> list[str]:
    """``["veto,high", "预警"]`` -> ``["veto", "high", "预警"]``."""
    return [v for item in given or () for v in re.split(r"[,，、]", item) if v.strip()]


def _resolve(option: str, given: list[str], names: Mapping[str, set[str]]) -> set[str]:
    """Codes for the values given, by ``names`` (spelling -> codes); bad usage if one names
    nothing."""
    from monitor.registry.columns import norm

    index: dict[str, set[str]] = {}
    for spelling, codes in names.items():
        index.setdefault(norm(spelling), set()).update(codes)
    out: set[str] = set()
    for v in given:
        codes = index.get(norm(v))
        if not codes:
            fail(f"{option} 不认识 '{v}'：{_choices(names)}", EXIT_USAGE)
        out |= codes
    return out


def _choices(names: Mapping[str, set[str]]) -> str:
    shown = [s for s in names if not re.fullmatch(r"[a-z_]+", s)]  # the Chinese spellings
    return "可用 " + "、".join(shown[:40]) + ("…" if len(shown) > 40 else "") + "（或其代码）"


def severities(given: Iterable[str] | None) -> set[str]:
    from monitor.show.labels import SEVERITY

    names = {**{c: {c} for c in SEVERITY}, **{n: {c} for c, n in SEVERITY.items()}}
    return _resolve("--severity", values(given), names)


def platforms(given: Iterable[str] | None) -> set[str]:
    from monitor.registry.columns import PLATFORMS
    from monitor.show.labels import PLATFORM

    names: dict[str, set[str]] = {}
    for code, label in PLATFORM.items():
        names.setdefault(code, set()).add(code)
        names.setdefault(label, set()).add(code)
    for code, spellings in PLATFORMS.items():
        for s in spellings:
            names.setdefault(s, set()).add(code)
    return _resolve("--platform", values(given), names)


def kinds(given: Iterable[str] | None) -> set[str]:
    from probes.checks.kinds import CATEGORIES, KINDS

    names: dict[str, set[str]] = {}
    for code, k in KINDS.items():
        names.setdefault(code, set()).add(code)
        names.setdefault(k.label, set()).add(code)
    for code, c in CATEGORIES.items():
        members = {k.code for k in KINDS.values() if k.category == code}
        names.setdefault(c.label, set()).update(members)
        names.setdefault(code, set()).update(members)
    return _resolve("--kind", values(given), names)
