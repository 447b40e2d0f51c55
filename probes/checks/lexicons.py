"""The commercial detector's data: word lexicons and domain lists (``probes/data/lexicons``,
``probes/data/domains``), read into an automaton and sets. Users add to them in their own
lists directory (:mod:`probes.checks.lists`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import ahocorasick

DATA = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Lexicons:
    """Aho-Corasick automaton over every lexicon word -> (category, word, weight)."""

    automaton: Any
    words: int


def read_lines(path: Path) -> list[str]:
    """A list file's entries: not blank, not a ``#`` comment nor an ``@`` header line."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    return [s.strip() for s in lines if s.strip() and not s.strip().startswith(("#", "@"))]


def load_lexicons(directory: Path | None = None, files: Sequence[Path] | None = None) -> Lexicons:
    """Build the automaton from ``*.txt`` of ``directory`` or from ``files`` (file name =
    category, two files of one name add up; ``word<TAB or spaces>weight``; lower-cased so
    "USDT" and "usdt" match alike)."""
    if files is None:
        files = sorted((directory or DATA / "lexicons").glob("*.txt"))
    auto = ahocorasick.Automaton()
    n = 0
    for path in files:
        category = path.stem
        for line in read_lines(path):
            word, _, weight = line.partition(" ") if " " in line else line.partition("\t")
            word = word.strip().lower()
            if not word:
                continue
            try:
                entry = (category, word, float(weight) if weight.strip() else 1.0)
            except ValueError:
                entry = (category, word, 1.0)  # a note after the word, not a weight
            existing = auto.get(word, ()) if word in auto else ()
            auto.add_word(word, (*existing, entry))
            n += 1
    auto.make_automaton()
    return Lexicons(auto, n)


@cache
def default_lexicons() -> Lexicons:
    return load_lexicons()


@dataclass(frozen=True)
class DomainLists:
    allow: frozenset[str]
    deny: frozenset[str]
    miniprograms: frozenset[str]  # official mini-program names or appids


@cache
def default_domains() -> DomainLists:
    d = DATA / "domains"
    return DomainLists(
        frozenset(x.lower() for x in read_lines(d / "allow.txt")),
        frozenset(x.lower() for x in read_lines(d / "deny.txt")),
        frozenset(read_lines(d / "miniprograms_allow.txt")),
    )
