"""错别字, 规范表述, 禁用/慎用词 and 娱乐化 words found in a text, as an inspector reads them.

One Aho-Corasick pass over the lower-cased text finds every listed wrong form, every longer
right word that contains one (``按装修`` holds ``按装``: no hit inside it — the boundary
rule), and the items of the fixed orders. Then each hit is weighed in its sentence:

- a form inside quotation marks, in a sentence that says it is wrong (``context.txt``:
  错误, 应为, 应写作, 不宜 …), is being corrected, not used: “一路一带”的说法是错误的;
- an entry may be right when a word follows in the same sentence (``既使…又``) or when
  quoted (``+引号``);
- a fixed order (省、自治区、直辖市) is wrong only when all its items stand in one list,
  separated by 、 or ，, in another order.

The cost is the text's length plus the hits': every check after the pass looks at most one
sentence (:data:`SENTENCE_MAX` characters) around a hit.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from probes.checks.wordlists import Entry, ListFile, doubled_words

SENTENCE_ENDS = "。！？!?；;\n"
SENTENCE_MAX = 200  # characters looked at on each side of a hit for its sentence
OPEN_QUOTES = "“「『‘《"
CLOSE_QUOTES = {"“": "”", "「": "」", "『": "』", "‘": "’", "《": "》"}
_CORRECTED_NEXT = ("应为", "应写作", "应写为", "应改为", "应是")
_HIT, _ALLOW, _ORDER = 0, 1, 2


@dataclass(frozen=True)
class Hit:
    """One wrong form found: where, which entry, what to write instead."""

    start: int
    end: int
    entry: Entry
    suggestion: str

    @property
    def rule(self) -> str:
        return self.entry.rule


@dataclass
class Wording:
    automaton: Any  # None when no list has an entry
    words: int
    markers: tuple[str, ...] = ()  # correction words (context.txt)
    orders: list[tuple[Entry, re.Pattern[str]]] = field(default_factory=list)
    files: list[ListFile] = field(default_factory=list)


def build_wording(files: Sequence[ListFile], markers: Sequence[str] = ()) -> Wording:
    """The automaton over every entry of ``files`` (a ``-wrong`` line in any file drops that
    wrong form from all of them)."""
    removed = {w for f in files for w in f.removed}
    auto = ahocorasick.Automaton()
    n = 0
    orders: list[tuple[Entry, re.Pattern[str]]] = []

    def add(word: str, value: tuple[Any, ...]) -> None:
        auto.add_word(word, (*(auto.get(word) if word in auto else ()), value))

    for f in files:
        for e in f.entries:
            if e.wrong in removed:
                continue
            for word, value in _keys(e, f.path.stem == "doubled", orders):
                add(word, value)
            n += 1
    if len(auto):
        auto.make_automaton()
    return Wording(auto if len(auto) else None, n, tuple(markers), orders, list(files))


def _keys(
    e: Entry, doubled: bool, orders: list[tuple[Entry, re.Pattern[str]]]
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The words one entry puts in the automaton, with what each means: the items of a fixed
    order (its pattern added to ``orders``), a doubled level's words, or the wrong form;
    then the forms it allows."""
    if e.order:
        k = len(orders)
        orders.append((e, _order_pattern(e.order)))
        for item in e.order:
            yield item.lower(), (_ORDER, k)
    elif doubled:
        for wrong, right in doubled_words(e):
            yield wrong.lower(), (_HIT, Entry(e.rule, wrong.lower(), right, e.source, e.where))
    else:
        yield e.wrong, (_HIT, e)
    for word in e.allow:
        yield word, (_ALLOW, len(word))


def _order_pattern(items: Sequence[str]) -> re.Pattern[str]:
    alt = "|".join(re.escape(x) for x in sorted(items, key=len, reverse=True))
    # one item, then the others each after one separator: fixed width, linear
    return re.compile(f"(?:{alt})(?:[、，,](?:{alt})){{{len(items) - 1}}}")


def scan(text: str, lex: Wording) -> list[Hit]:
    """Every hit in ``text``, in text order, after the boundary and context rules."""
    if lex.automaton is None or not text:
        return []
    low = text.lower()
    if len(low) != len(text):  # a few characters lower-case to two: keep offsets true
        text = low
    found: list[tuple[int, int, Entry]] = []
    allows: list[tuple[int, int]] = []
    orders: dict[int, int] = {}
    for last, values in lex.automaton.iter(low):
        for v in values:
            if v[0] == _HIT:
                e = v[1]
                start = last - len(e.wrong) + 1
                if not e.wrong.isascii() or _word_bounded(low, start, last + 1):
                    found.append((start, last + 1, e))
            elif v[0] == _ALLOW:
                allows.append((last - v[1] + 1, last + 1))
            else:
                orders[v[1]] = orders.get(v[1], 0) + 1
    found = _outside(found, allows)
    ends = sentence_ends(text) if found or orders else []
    hits = [h for s, e, entry in _outermost(found) if (h := _weigh(text, s, e, entry, lex, ends))]
    for k, count in orders.items():
        entry, pattern = lex.orders[k]
        if count >= len(entry.order):
            hits.extend(_order_hits(text, entry, pattern, ends))
    hits.sort(key=lambda h: h.start)
    return hits


def _word_bounded(low: str, start: int, end: int) -> bool:
    """An ASCII word (yyds, tmd) stands alone: not inside a longer run of letters/digits."""
    before = low[start - 1 : start] if start else ""
    after = low[end : end + 1]
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


def _outside(found: list[tuple[int, int, Entry]], allows: list[tuple[int, int]]) -> list:
    """Hits not inside a longer right word: one sweep over both, sorted by start."""
    if not allows:
        return found
    allows.sort()
    starts = [a for a, _ in allows]
    reach: list[int] = []  # the furthest end of any allow span starting at or before i
    best = -1
    for _, end in allows:
        best = max(best, end)
        reach.append(best)
    out = []
    for s, e, entry in found:
        i = bisect_right(starts, s) - 1
        if i >= 0 and reach[i] >= e:
            continue
        out.append((s, e, entry))
    return out


def _outermost(found: list[tuple[int, int, Entry]]) -> list[tuple[int, int, Entry]]:
    """A hit inside a longer hit is the longer one's (针贬 inside 针贬时弊)."""
    found.sort(key=lambda x: (x[0], -x[1]))
    out = []
    reach = -1
    for s, e, entry in found:
        if e <= reach:
            continue
        reach = max(reach, e)
        out.append((s, e, entry))
    return out


_ENDS = re.compile("[" + re.escape(SENTENCE_ENDS) + "]")


def sentence_ends(text: str) -> list[int]:
    """Where every sentence of ``text`` ends: one pass, then each hit's sentence is a lookup."""
    return [m.start() for m in _ENDS.finditer(text)]


def sentence(text: str, start: int, end: int, ends: list[int] | None = None) -> tuple[int, int]:
    """The bounds of the sentence around ``text[start:end]``, at most SENTENCE_MAX each side
    (``ends``: :func:`sentence_ends` of the text, when many hits share it)."""
    ends = sentence_ends(text) if ends is None else ends
    i = bisect_right(ends, start - 1) - 1  # the last end before the hit
    lo = max(ends[i] + 1 if i >= 0 else 0, start - SENTENCE_MAX, 0)
    j = bisect_right(ends, end - 1)  # the first end at or after the hit's end
    hi = min(ends[j] if j < len(ends) else len(text), end + SENTENCE_MAX)
    return lo, hi


def quoted(text: str, start: int, end: int, lo: int, hi: int) -> bool:
    """Inside a pair of quotation marks (or 《》) within the sentence ``lo:hi``."""
    for open_q in OPEN_QUOTES:
        i = text.rfind(open_q, lo, start)
        if i < 0:
            continue
        close_q = CLOSE_QUOTES[open_q]
        if text.find(close_q, i + 1, start) >= 0:
            continue  # closed before the hit
        if text.find(close_q, end, hi) >= 0:
            return True
    i = text.rfind('"', lo, start)  # straight quotes: an odd count before, one after
    return i >= 0 and text.count('"', lo, start) % 2 == 1 and text.find('"', end, hi) >= 0


def _weigh(text: str, s: int, e: int, entry: Entry, lex: Wording, ends: list[int]) -> Hit | None:
    lo, hi = sentence(text, s, e, ends)
    if entry.unless_after and any(text.find(w, e, hi) >= 0 for w in entry.unless_after):
        return None
    after = e + 1 if e < len(text) and text[e] in '”」』’"' else e
    if text.startswith(_CORRECTED_NEXT, after):
        return None  # "两学一作应为两学一做": the writer corrects it
    in_quotes = quoted(text, s, e, lo, hi)
    if in_quotes and (entry.quoted_ok or any(m in text[lo:hi] for m in lex.markers)):
        return None
    shown = text[s:e]
    if entry.rule == "entertainment":
        why = f"“{shown}”为网络流行语，建议改用规范书面语"
    else:
        why = f"{shown} → {entry.right}"
    return Hit(s, e, entry, why)


def _order_hits(text: str, entry: Entry, pattern: re.Pattern[str], ends: list[int]) -> list[Hit]:
    out = []
    items = set(entry.order)
    for m in pattern.finditer(text):
        seen = re.split(r"[、，,]", m.group(0))
        if set(seen) == items and tuple(seen) != entry.order:
            lo, hi = sentence(text, m.start(), m.end(), ends)
            if quoted(text, m.start(), m.end(), lo, hi) and any(
                w in text[lo:hi] for w in ("错误", "应为", "顺序")
            ):
                continue
            why = f"并列顺序有误，应为“{entry.right}”"
            out.append(Hit(m.start(), m.end(), entry, why))
    return out
