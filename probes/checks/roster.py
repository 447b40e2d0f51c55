"""Leaders' names and titles checked against a roster (审核把关不严: 领导姓名、职务错误).

The roster is data (``probes/data/roster/*.csv``; docs/registry.md): one row per term of
office — 单位编码, 姓名, 职务, 任职起始, 任职截止 (blank: in office). A post of an account is
checked against its owner unit's rows (``Context.owner_code``):

- ``roster.name``: a title of the roster right next to a name one character off a holder's
  (``县长王建图`` when 王建国 is 县长; a two-character name must keep its surname): high;
- ``roster.title``: a holder called by a title after its end date (the post's date is what
  counts) — unless the sentence says it is history: 时任、原、曾任、前任 before the title,
  or a year not after the end of the term earlier in the sentence (``2019年时任县长…``).

Titles are found with one Aho-Corasick pass per post; the names are read next to each title
found, so a post costs its length, whatever the roster's size.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import ahocorasick

ROSTER_DIR = Path(__file__).resolve().parent.parent / "data" / "roster"
HEADERS = {
    "单位编码": "unit", "unit": "unit", "unit_code": "unit",
    "姓名": "name", "name": "name",
    "职务": "title", "title": "title",
    "任职起始": "since", "from": "since", "since": "since",
    "任职截止": "until", "until": "until",
}  # fmt: skip
HISTORY_MARKS = ("时任", "原任", "曾任", "前任", "原", "老")
_YEAR = re.compile(r"((?:19|20)[0-9]{2})年")
_SENTENCE_END = "。！？!?\n；;"
_CJK = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class Term:
    unit: str
    name: str
    title: str
    since: date | None
    until: date | None
    where: str = field(default="", compare=False)  # "roster/qx.csv:3": the row it came from

    def holds(self, on: date) -> bool:
        return (self.since is None or self.since <= on) and (self.until is None or on <= self.until)


@dataclass(frozen=True)
class RosterError:
    rule: str  # roster.name, roster.title
    start: int
    end: int
    suggestion: str
    where: str = ""  # the roster row the judgement rests on


class UnitRoster:
    """One unit's terms, and an automaton over their titles."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms = list(terms)
        self.by_title: dict[str, list[Term]] = defaultdict(list)
        for t in self.terms:
            self.by_title[t.title].append(t)
        self.names = frozenset(t.name for t in self.terms)
        self.automaton: Any = ahocorasick.Automaton()
        for title in self.by_title:
            self.automaton.add_word(title, title)
        self.automaton.make_automaton()

    def check(self, text: str, on: date) -> list[RosterError]:
        """One error per distinct correction, in text order."""
        out: dict[tuple[str, str], RosterError] = {}
        held = {title: any(t.holds(on) for t in terms) for title, terms in self.by_title.items()}
        for last, title in self.automaton.iter(text):
            start, end = last - len(title) + 1, last + 1
            if _longer_title(text, start, end, title):
                continue
            for term in self.by_title[title]:
                err = self._next_to(text, start, end, term, on, held[title])
                if err:
                    out.setdefault((err.rule, err.suggestion), err)
                    break
        return list(out.values())

    def _next_to(
        self, text: str, start: int, end: int, term: Term, on: date, held: bool
    ) -> RosterError | None:
        n = len(term.name)
        after = (text[end : end + n], start, end + n)
        before = (text[max(0, start - n) : start], start - n, end)
        for cand, s, e in (after, before):
            if s < 0 or len(cand) != n:
                continue
            if cand == term.name:
                if term.until and on > term.until and not _historical(text, s, term.until):
                    return RosterError("roster.title", s, e, self._now_is(term, on), term.where)
                return None
            current = term.holds(on) or not held  # nobody else is known to hold it
            if current and cand not in self.names and one_off(cand, term.name):
                why = f"{cand} → {term.name}（{term.title}，据名册）"
                return RosterError("roster.name", s, e, why, term.where)
        return None

    def _now_is(self, term: Term, on: date) -> str:
        now = [t for t in self.terms if t.name == term.name and t.holds(on)]
        holder = [t for t in self.by_title[term.title] if t.holds(on)]
        s = f"{term.name} 已于 {term.until} 卸任{term.title}"
        if now:
            s += f"，现任{now[0].title}"
        if holder:
            s += f"；现任{term.title}为{holder[0].name}"
        return s + "（据名册）"


def one_off(cand: str, name: str) -> bool:
    """Same length, Chinese characters only, exactly one character differs; a two-character
    name keeps its surname (otherwise 王刚 would be one off every 王某)."""
    if len(cand) != len(name):
        return False
    diff = -1
    for i, (a, b) in enumerate(zip(cand, name, strict=True)):
        if a != b:
            if diff >= 0:
                return False  # two differ: most candidates stop here
            diff = i
    return diff >= 0 and (len(name) > 2 or diff != 0) and _CJK.fullmatch(cand) is not None


def _longer_title(text: str, start: int, end: int, title: str) -> bool:
    """县长 inside 副县长, 县长助理, 县长办公会: another title or no title at all."""
    if not title.startswith("副") and text[start - 1 : start] == "副" and start > 0:
        return True
    return text[end : end + 2] in ("助理", "办公", "热线", "信箱", "接待")


def _historical(text: str, at: int, until: date) -> bool:
    if any(m in text[max(0, at - 6) : at] for m in HISTORY_MARKS):
        return True
    lo = max(0, at - 80)
    for i in range(at - 1, lo - 1, -1):  # back to the sentence's start, at most 80 characters
        if text[i] in _SENTENCE_END:
            lo = i + 1
            break
    return any(int(y) <= until.year for y in _YEAR.findall(text, lo, at))


class Roster:
    def __init__(self, terms: Iterable[Term]) -> None:
        units: dict[str, list[Term]] = defaultdict(list)
        for t in terms:
            units[t.unit].append(t)
        self.units = {code: UnitRoster(ts) for code, ts in units.items()}

    def __len__(self) -> int:
        return sum(len(u.terms) for u in self.units.values())

    def check(self, unit: str, text: str, on: date) -> list[RosterError]:
        u = self.units.get(unit)
        return u.check(text, on) if u else []


def _date(s: str) -> date | None:
    s = s.strip()
    return date.fromisoformat(s) if s else None


def read_terms(text: str, source: str = "") -> list[Term]:
    """Rows of one roster file (comment lines start with ``#``; Chinese or English headers)."""
    kept = [(n, ln) for n, ln in enumerate(text.splitlines(), 1)
            if ln.strip() and not ln.lstrip().startswith("#")]  # fmt: skip
    numbers = [n for n, _ in kept[1:]]  # the file's own line numbers, comments counted
    terms = []
    rows = csv.DictReader(io.StringIO("\n".join(ln for _, ln in kept)))
    for i, row in zip(numbers, rows, strict=False):
        r = {HEADERS.get((k or "").strip(), k): (v or "").strip() for k, v in row.items()}
        if not (r.get("unit") and r.get("name") and r.get("title")):
            continue
        try:
            since, until = _date(r.get("since", "")), _date(r.get("until", ""))
        except ValueError as e:
            raise ValueError(f"{source}: 第 {i} 行日期应为 YYYY-MM-DD（{e}）") from e
        terms.append(Term(r["unit"], r["name"], r["title"], since, until, f"{source}:{i}"))
    return terms


def load_roster(directory: Path | None = None) -> Roster:
    directory = directory or ROSTER_DIR
    terms: list[Term] = []
    for path in sorted(directory.glob("*.csv")):
        terms.extend(read_terms(path.read_text(encoding="utf-8-sig"), path.name))
    return Roster(terms)


@cache
def default_roster() -> Roster:
    return load_roster()
