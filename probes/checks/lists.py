"""Every list the content and commercial detectors judge by: the shipped ones, overlaid by
the user's own.

The shipped lists are ``probes/data/{content,lexicons,domains,roster}/``; an upgrade replaces
them. A user keeps theirs in a directory of the same shape outside the package (``[content]
lists_dir``, default ``<data_dir>/lists``; docs/config.md), which an upgrade never touches:

- a file with a shipped file's name adds to it (``content/typos.txt``: more wrong forms;
  ``lexicons/welfare.txt``: more review words; ``roster/*.csv``: the unit's leaders);
  a ``-错误写法`` line in a word list drops a shipped entry;
- ``[content] disable = ["roster/demo.csv", "content/entertainment.txt"]``: shipped files
  not used at all (then a user's file of that name replaces it).

:class:`Lists` is loaded once per process (``monitor.app.App.word_lists``) and handed to the
detectors in :class:`~probes.checks.registry.Context`; its ``version`` (a digest of every
file read) keys the detectors' memos and the judging fingerprint, so an edited list makes the
next check judge every page again.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from probes.checks.lexicons import DomainLists, Lexicons, load_lexicons, read_lines
from probes.checks.personal import Words
from probes.checks.roster import Roster, Term, read_terms
from probes.checks.wording import Wording, build_wording
from probes.checks.wordlists import WORD_FILES, ListFile, read_context, read_list

DATA = Path(__file__).resolve().parent.parent / "data"
ROOMS = ("content", "lexicons", "domains", "roster")
PATTERN_FILES = ("doubled", "orders")
SHIPPED, USER = "内置", "用户"


@dataclass(frozen=True)
class Source:
    """One file read: its name in the lists' tree (``content/typos.txt``), where, whose."""

    name: str
    path: Path
    origin: str  # 内置 / 用户


@dataclass
class Lists:
    wording: Wording
    words: Words
    roster: Roster
    lexicons: Lexicons
    domains: DomainLists
    sources: list[Source] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "用户 content/typos.txt 第 3 行：…"
    version: str = ""

    @property
    def files(self) -> list[ListFile]:
        return self.wording.files


def sources(user_dir: Path | None = None, disable: Iterable[str] = ()) -> list[Source]:
    """The files the lists are read from, shipped first, each room's files by name."""
    off = {d.strip().strip("/") for d in disable}
    out = []
    for room in ROOMS:
        for base, origin in ((DATA, SHIPPED), (user_dir, USER)):
            if base is None or not (base / room).is_dir():
                continue
            for path in sorted((base / room).iterdir()):
                name = f"{room}/{path.name}"
                if not path.is_file() or path.name.startswith("."):
                    continue
                if origin == SHIPPED and name in off:
                    continue
                out.append(Source(name, path, origin))
    return out


def load_lists(user_dir: Path | None = None, disable: Iterable[str] = ()) -> Lists:
    """The lists from the shipped files and ``user_dir`` (absent or empty: shipped only).
    A user's file with mistakes does not stop the patrol: its good lines are used and
    every problem is in ``problems`` (``xuncha lists check`` prints them)."""
    srcs = sources(user_dir, disable)
    problems: list[str] = []
    digest = hashlib.sha256()
    for s in srcs:
        digest.update(f"{s.origin}:{s.name}\0".encode())
        digest.update(s.path.read_bytes())
    by_room: dict[str, list[Source]] = {r: [s for s in srcs if s.name.startswith(r)] for r in ROOMS}
    files: list[ListFile] = []
    markers: list[str] = []
    privacy: dict[str, list[str]] = {}
    for s in by_room["content"]:
        stem, suffix = s.path.stem, s.path.suffix
        if suffix == ".txt" and stem in (*WORD_FILES, *PATTERN_FILES):
            lf = read_list(s.path, s.origin)
            files.append(lf)
            problems += [f"{s.origin} {s.name} {p}" for p in lf.problems]
        elif s.name == "content/context.txt":
            markers += read_context(s.path)
        elif s.name == "content/privacy.toml":
            _privacy(s, privacy, problems)
        else:
            problems.append(f"{s.origin} {s.name}：不认识的文件名，未使用")
    terms = _roster_terms(by_room["roster"], problems)
    words = (tuple(dict.fromkeys(privacy.get(k, ()))) for k in Words.__dataclass_fields__)
    lexicons = [s.path for s in by_room["lexicons"] if s.path.suffix == ".txt"]
    return Lists(
        wording=build_wording(files, tuple(dict.fromkeys(markers))),
        words=Words(*words),
        roster=Roster(terms),
        lexicons=load_lexicons(files=lexicons),
        domains=_domains(by_room["domains"]),
        sources=srcs,
        problems=problems,
        version=digest.hexdigest()[:16],
    )


def _privacy(s: Source, privacy: dict[str, list[str]], problems: list[str]) -> None:
    """``content/privacy.toml``'s words added to ``privacy`` by kind; a file that is not TOML
    is a problem."""
    try:
        data = tomllib.loads(s.path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        problems.append(f"{s.origin} {s.name}：不是有效的 TOML（{e}）")
        return
    for key in Words.__dataclass_fields__:
        privacy.setdefault(key, []).extend(str(x) for x in data.get(key, ()))


def _roster_terms(srcs: Sequence[Source], problems: list[str]) -> list[Term]:
    """The roster's names and titles from its .csv files; a file with a mistake is left out
    whole, and said."""
    terms: list[Term] = []
    for s in srcs:
        if s.path.suffix != ".csv":
            problems.append(f"{s.origin} {s.name}：名册应为 .csv 文件，未使用")
            continue
        try:
            terms += read_terms(s.path.read_text(encoding="utf-8-sig"), s.name)
        except (ValueError, UnicodeDecodeError) as e:
            problems.append(f"{s.origin} {s.name}：{e}，整个文件未使用")
    return terms


def _domains(srcs: Sequence[Source]) -> DomainLists:
    got: dict[str, set[str]] = {"allow": set(), "deny": set(), "miniprograms_allow": set()}
    for s in srcs:
        if s.path.stem in got:
            lines = read_lines(s.path)
            got[s.path.stem] |= set(lines if s.path.stem == "miniprograms_allow" else
                                    (x.lower() for x in lines))  # fmt: skip
    return DomainLists(
        frozenset(got["allow"]), frozenset(got["deny"]), frozenset(got["miniprograms_allow"])
    )


@cache
def default_lists() -> Lists:
    """The shipped lists alone: for tools and tests that run without an installation."""
    return load_lists()
