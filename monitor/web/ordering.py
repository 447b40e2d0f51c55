"""The overview's tables sorted by the column a reader picks: by links, with no script, so
that on a phone, where each row is a card and the header is hidden, the links above the
cards still sort them. Each column sorts its natural way: the worst first (the lowest pass
rate, the most failures), names by pinyin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor.store.sortkey import pinyin_key
from monitor.web.overview import Counts, Overview
from monitor.web.paging import link

__all__ = ["COUNT_COLUMNS", "RATE_COLUMNS", "Sorted", "sorted_tables"]

# column -> (its name, the key that puts the worst first)
RATE_COLUMNS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "rate": ("合格率", lambda r: (r.totals.pass_rate is None, r.totals.pass_rate or 0)),
    "name": ("单位", lambda r: pinyin_key(r.label)),
    "accounts": ("纳入统计", lambda r: -r.totals.accounts),
    "checked": ("已检查", lambda r: -r.totals.checked),
    "unqualified": ("不合格", lambda r: -r.totals.unqualified),
    "deducted": ("有扣分", lambda r: -r.totals.deducted),
    "unjudged": ("无法判定", lambda r: -r.totals.unjudged),
}


def _severity(s: str) -> Callable[[Counts], Any]:
    return lambda c: -c.by_severity.get(s, 0)


COUNT_COLUMNS: dict[str, tuple[str, Callable[[Counts], Any]]] = {
    "worst": ("最严重", lambda c: 0),  # the order the overview computed: gravest first
    "name": ("名称", lambda c: pinyin_key(c.name)),
    "total": ("合计", lambda c: -c.total),
    "veto": ("单项否决", _severity("veto")),
    "high": ("严重", _severity("high")),
    "warning": ("预警", _severity("warning")),
    "info": ("提示", _severity("info")),
    "patrol": ("巡查异常", lambda c: -c.patrol),
}


@dataclass
class Sorted:
    rows: list[Any]
    by: str  # the column it is sorted by
    urls: dict[str, str]  # column -> the overview sorted by it (the other tables as they are)
    names: dict[str, str]  # column -> its name


def _sort(
    rows: list[Any], params: dict[str, str], param: str, columns: dict[str, Any], default: str
) -> Sorted:
    by = params[param] if params[param] in columns else default
    key = columns[by][1]
    urls = {c: link("/", params, **{param: c}) + f"#{param}" for c in columns}
    names = {c: name for c, (name, _) in columns.items()}
    # stable: rows equal in the column keep the overview's order (the gravest first)
    return Sorted(sorted(rows, key=key), by, urls, names)


def sorted_tables(ov: Overview, rates: str, units: str, platforms: str) -> dict[str, Sorted]:
    rate_rows = ov.pass_rates.value.rows if ov.pass_rates.value else []
    params = {"rates": rates, "units": units, "platforms": platforms}
    return {
        "rates": _sort(rate_rows, params, "rates", RATE_COLUMNS, "rate"),
        "units": _sort(ov.by_unit, params, "units", COUNT_COLUMNS, "worst"),
        "platforms": _sort(ov.by_platform, params, "platforms", COUNT_COLUMNS, "worst"),
    }
