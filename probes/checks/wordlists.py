"""The content family's word lists: files with provenance, read into entries.

A list is a text file (``probes/data/content/*.txt``; a user's own in the data dir, same
names, ``probes.checks.lists``). Lines:

- ``@版本 2026.12`` — the file's edition;
- ``@来源 《…》，出版者，年月`` — the source of every entry after it, until the next
  ``@来源`` (an entry without one is refused: a list says where each word comes from);
- ``错误写法<Tab>规范写法[<Tab>选项 …]`` (or spaces), where an option is
  ``!更长的正确写法`` (a longer right word that contains the wrong form: no hit inside it),
  ``!…后文`` (no hit when ``后文`` follows later in the same sentence: ``既使…又``) or
  ``+引号`` (no hit inside quotation marks: a form the style guide allows when quoted);
- ``-错误写法`` (a user's file only): the shipped entry is not used;
- ``#`` starts a comment line.

Two files are patterns rather than words, so one line serves every place name:
``doubled.txt`` (``市<Tab>委|政府|人大`` → 市市委, 市市政府 …: a level written twice) and
``orders.txt`` (``省、自治区、直辖市``: the items of a fixed order, wrong in any other order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

#: list file stem -> the rule its entries raise
RULE_OF = {
    "typos": "wording.typo",
    "expressions": "wording.expression",
    "taboo": "wording.taboo",
    "entertainment": "entertainment",
    "doubled": "wording.expression",
    "orders": "wording.expression",
}
WORD_FILES = ("typos", "expressions", "taboo", "entertainment")
_ORDER_SPLIT = re.compile(r"[、，,]")


@dataclass(frozen=True)
class Entry:
    rule: str
    wrong: str  # lower-cased: matched case-insensitively
    right: str
    source: str  # 文献、版次 (the file's ``@来源``)
    where: str  # "content/typos.txt:12" (内置) or "用户 content/typos.txt:3"
    allow: tuple[str, ...] = ()  # longer right words containing ``wrong`` (lower-cased)
    unless_after: tuple[str, ...] = ()  # later in the same sentence: not a hit
    quoted_ok: bool = False
    order: tuple[str, ...] = ()  # orders.txt: the items in their fixed order


@dataclass
class ListFile:
    """One file as read: what ``xuncha lists show`` prints, what ``check`` judges."""

    name: str  # typos.txt
    path: Path
    origin: str  # "内置" or "用户"
    version: str = ""
    entries: list[Entry] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # ``-wrong`` lines (user files)
    problems: list[str] = field(default_factory=list)  # "第 N 行：…"


def _lines(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8-sig")
    return [(i, s.strip()) for i, s in enumerate(text.splitlines(), 1) if s.strip()]


def _fields(line: str) -> list[str]:
    return line.split()


def read_list(path: Path, origin: str = "内置") -> ListFile:
    """One list file; problems (no source, a wrong form equal to its right form, an unknown
    option) are collected, the good lines kept."""
    stem = path.stem
    rule = RULE_OF.get(stem, "wording.expression")
    lf = ListFile(path.name, path, origin)
    where = f"content/{path.name}" if origin == "内置" else f"用户 content/{path.name}"
    source = ""
    for no, line in _lines(path):
        if line.startswith("#"):
            continue
        if line.startswith(("@版本", "@version")):
            lf.version = line.split(None, 1)[1].strip() if " " in line else ""
            continue
        if line.startswith(("@来源", "@source")):
            source = line.split(None, 1)[1].strip() if " " in line else ""
            continue
        if line.startswith("-") and len(line) > 1:
            lf.removed.append(line[1:].strip().lower())
            continue
        if not source:
            lf.problems.append(f"第 {no} 行：前面没有“@来源”，不知出处（{line[:20]}）")
            continue
        entry = _entry(stem, rule, line, source, f"{where}:{no}", lf, no)
        if entry is not None:
            lf.entries.append(entry)
    return lf


def _entry(
    stem: str, rule: str, line: str, source: str, where: str, lf: ListFile, no: int
) -> Entry | None:
    if stem == "orders":
        items = tuple(x.strip() for x in _ORDER_SPLIT.split(line.split("\t")[0]) if x.strip())
        if len(items) < 2 or len(set(items)) != len(items):
            lf.problems.append(f"第 {no} 行：固定顺序至少两项且不重复（{line[:30]}）")
            return None
        return Entry(rule, items[0], "、".join(items), source, where, order=items)
    parts = _fields(line)
    wrong, rest = parts[0].strip(), [p.strip() for p in parts[1:]]
    if stem == "doubled":  # 市<Tab>委|政府 … : expanded by the caller
        organs = tuple(x for x in (rest[0] if rest else "").split("|") if x)
        if len(wrong) != 1 or not organs:
            lf.problems.append(f"第 {no} 行：应写作“级别字<Tab>机构简称|机构简称”（{line[:30]}）")
            return None
        allow = tuple(x[1:].lower() for x in rest[1:] if x.startswith("!"))
        return Entry(rule, wrong, "|".join(organs), source, where, allow=allow)
    right = next((x for x in rest if x[:1] not in "!+"), "")
    allow, after, quoted = _options(rest, lf, no)
    if stem != "entertainment" and not right:
        lf.problems.append(f"第 {no} 行：缺少规范写法（{wrong}）")
        return None
    if right and right.strip('“”"') == wrong:
        lf.problems.append(f"第 {no} 行：错误写法与规范写法相同（{wrong}）")
        return None
    low = wrong.lower()
    bad = [a for a in allow if low not in a]
    if bad:
        lf.problems.append(f"第 {no} 行：例外“{bad[0]}”不含错误写法“{wrong}”，不起作用")
    return Entry(rule, low, right, source, where, tuple(allow), tuple(after), quoted)


def _options(rest: list[str], lf: ListFile, no: int) -> tuple[list[str], list[str], bool]:
    """A line's options: ``!例外`` (allowed around the form), ``!…后文`` (allowed after it),
    ``+引号`` (faulted inside quotes too); an unknown ``+`` option is a problem."""
    allow: list[str] = []
    after: list[str] = []
    quoted = False
    for opt in rest:
        if opt.startswith("!") and "…" in opt:
            after.append(opt.split("…", 1)[1].lower())
        elif opt.startswith("!") and len(opt) > 1:
            allow.append(opt[1:].lower())
        elif opt == "+引号":
            quoted = True
        elif opt.startswith("+"):
            lf.problems.append(f"第 {no} 行：未知选项 {opt}")
    return allow, after, quoted


def doubled_words(e: Entry) -> list[tuple[str, str]]:
    """A doubled-level pattern's words: (wrong, right) for each organ — 市市委 → 市委."""
    return [(e.wrong * 2 + organ, e.wrong + organ) for organ in e.right.split("|")]


def read_context(path: Path) -> tuple[str, ...]:
    """``context.txt``: words that, in the sentence of a quoted form, mark a correction."""
    if not path.exists():
        return ()
    return tuple(s for _, s in _lines(path) if not s.startswith(("#", "@")))
