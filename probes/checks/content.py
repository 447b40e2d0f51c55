"""Content: what a post says, checked for three of the national eight problems (seed 003).

- 隐私泄露 (``privacy``, high): unmasked resident IDs, mobile numbers, bank cards
  (:mod:`probes.checks.personal`);
- 审核把关不严: a leader's name or title wrong by the unit's roster (``roster_error``, high;
  :mod:`probes.checks.roster`), and 错别字 or fixed official expressions written wrong
  (``wording``, warning; ``probes/data/content/typos.txt``, ``expressions.txt``);
- 过度娱乐化: 网络流行语 and cutesy address (``entertainment_review``, info: a person decides;
  ``entertainment.txt``). Comments switched off (互动服务不实) are the theft detector's
  ``no_interaction``.

Every finding names its post, the span (the matched text with context; a personal number
shown masked), the rule and a suggested correction. The lexicons are one Aho-Corasick
automaton, so a post costs one pass over its text; a post already judged (same content,
unit and day) is looked up, not judged again, as :func:`probes.checks.commercial.judged`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ahocorasick

from probes.checks.personal import Words, find_leaks
from probes.checks.registry import Context, register
from probes.checks.roster import Roster, default_roster
from probes.model import Observation, Post, Severity, Signal

DATA = Path(__file__).resolve().parent.parent / "data" / "content"
#: lexicon file -> rule
LEXICONS = {
    "typos": "wording.typo",
    "expressions": "wording.expression",
    "entertainment": "entertainment",
}
#: rule -> the kind its findings are signalled as
KIND_OF = {
    "privacy.id_card": "privacy",
    "privacy.mobile": "privacy",
    "privacy.bank_card": "privacy",
    "roster.name": "roster_error",
    "roster.title": "roster_error",
    "wording.typo": "wording",
    "wording.expression": "wording",
    "entertainment": "entertainment_review",
}
RULE_NAMES = {
    "privacy.id_card": "身份证号未脱敏",
    "privacy.mobile": "个人手机号未脱敏",
    "privacy.bank_card": "银行卡号未脱敏",
    "roster.name": "领导姓名错误",
    "roster.title": "领导职务已变更",
    "wording.typo": "错别字",
    "wording.expression": "不规范表述",
    "entertainment": "网络流行语/娱乐化表述",
}
WIDTH = 12  # characters of context either side of a span
EVIDENCE_PER_POST = 10  # findings a post's evidence lists; the rest are counted


@dataclass(frozen=True)
class Entry:
    rule: str
    wrong: str
    right: str
    exceptions: tuple[str, ...] = ()  # longer right forms that contain ``wrong``


@dataclass(frozen=True)
class Wording:
    automaton: Any
    words: int


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    out = (s.strip() for s in path.read_text(encoding="utf-8").splitlines())
    return [s for s in out if s and not s.startswith("#")]


def load_wording(directory: Path | None = None) -> Wording:
    """``typos.txt``, ``expressions.txt``: ``wrong right [!exception ...]`` (tabs or spaces);
    ``entertainment.txt``: one word a line. Matched lower-cased (yyds, YYDS alike)."""
    directory = directory or DATA
    auto = ahocorasick.Automaton()
    n = 0
    for stem, rule in LEXICONS.items():
        for line in _lines(directory / f"{stem}.txt"):
            wrong, *rest = line.split()
            exc = tuple(x[1:].lower() for x in rest if x.startswith("!") and len(x) > 1)
            right = next((x for x in rest if not x.startswith("!")), "")
            wrong = wrong.lower()
            entry = Entry(rule, wrong, right, exc)
            auto.add_word(wrong, (*(auto.get(wrong) if wrong in auto else ()), entry))
            n += 1
    if n:
        auto.make_automaton()
    return Wording(auto if n else None, n)


@cache
def default_wording() -> Wording:
    return load_wording()


@dataclass(frozen=True)
class Finding:
    rule: str
    span: str  # the matched text with context
    suggestion: str

    @property
    def kind(self) -> str:
        return KIND_OF[self.rule]


@dataclass
class ContentVerdict:
    post: Post
    findings: list[Finding] = field(default_factory=list)

    def evidence(self, kind: str) -> dict[str, Any]:
        found = [f for f in self.findings if f.kind == kind]
        ev: dict[str, Any] = {
            "post_id": self.post.id,
            "post_url": self.post.url,
            "findings": [
                {"rule": f.rule, "name": RULE_NAMES[f.rule], "span": f.span,
                 "suggestion": f.suggestion}
                for f in found[:EVIDENCE_PER_POST]
            ],
        }  # fmt: skip
        if len(found) > EVIDENCE_PER_POST:
            ev["more"] = len(found) - EVIDENCE_PER_POST  # a list of 10,000 phones: the count
        return ev


def _context(text: str, start: int, end: int, shown: str | None = None) -> str:
    mid = text[start:end] if shown is None else shown
    return (text[max(0, start - WIDTH) : start] + mid + text[end : end + WIDTH]).replace("\n", " ")


def _ascii_word_ok(low: str, start: int, end: int, word: str) -> bool:
    if not word.isascii():
        return True
    before = low[start - 1 : start] if start else ""
    after = low[end : end + 1]
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


def _excepted(low: str, start: int, e: Entry) -> bool:
    for exc in e.exceptions:
        off = exc.find(e.wrong)
        if off >= 0 and low[start - off : start - off + len(exc)] == exc and start >= off:
            return True
    return False


def scan_wording(text: str, lex: Wording | None = None) -> list[Finding]:
    """Lexicon matches, one per distinct wrong form; a match inside a longer one is dropped."""
    lex = lex or default_wording()
    if lex.automaton is None:
        return []
    low = text.lower()
    if len(low) != len(text):  # a few characters lower-case to two: keep offsets true
        text = low
    spans: list[tuple[int, int, Entry]] = []
    for last, entries in lex.automaton.iter(low):
        for e in entries:
            start = last - len(e.wrong) + 1
            if _ascii_word_ok(low, start, last + 1, e.wrong) and not _excepted(low, start, e):
                spans.append((start, last + 1, e))
    spans.sort(key=lambda x: (x[0], -x[1]))
    out: list[Finding] = []
    seen: set[str] = set()
    reach = -1
    for start, end, e in spans:
        if end <= reach:  # inside a longer match
            continue
        reach = max(reach, end)
        if e.wrong in seen:
            continue
        seen.add(e.wrong)
        shown = text[start:end]
        if e.rule == "entertainment":
            why = f"“{shown}”为网络流行语，建议改用规范书面语"
        else:
            why = f"{shown} → {e.right}"
        out.append(Finding(e.rule, _context(text, start, end), why))
    return out


def _text_of(post: Post) -> str:
    return f"{post.title}\n{post.text}" if post.title else post.text


def judge_content(
    post: Post,
    owner_code: str = "",
    on: date | None = None,
    *,
    wording: Wording | None = None,
    roster: Roster | None = None,
    words: Words | None = None,
) -> ContentVerdict:
    """Every content finding of one post, for an account of unit ``owner_code``, dated ``on``
    (the post's day; a roster's term is judged on it)."""
    text = _text_of(post)
    on = on or (post.published_at.date() if post.published_at else date.today())
    v = ContentVerdict(post)
    for leak in find_leaks(text, on, words):
        shown = _context(text, leak.start, leak.end, leak.masked)
        v.findings.append(Finding(leak.rule, shown, f"{leak.what}应脱敏后发布（如 {leak.masked}）"))
    if owner_code:
        for err in (roster or default_roster()).check(owner_code, text, on):
            v.findings.append(Finding(err.rule, _context(text, err.start, err.end), err.suggestion))
    v.findings.extend(scan_wording(text, wording))
    return v


# A post already judged is not judged again (see commercial's memo): keyed by a digest of
# what judge_content reads — the post's content, the unit and the day it is judged on — for
# the process's default lexicons and roster. A clean post keeps only its key.
_MEMO_SIZE = 65536
_memo: OrderedDict[bytes, ContentVerdict | None] = OrderedDict()


def _key(post: Post, owner_code: str, on: date) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for part in (post.id, post.url, post.title, post.text, owner_code, on.isoformat()):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.digest()


def post_day(post: Post, now: datetime, tz: str = "Asia/Shanghai") -> date:
    return (post.published_at or now).astimezone(ZoneInfo(tz)).date()


def judged(post: Post, owner_code: str, on: date) -> ContentVerdict | None:
    """``post``'s verdict by the default data if it has findings, else None; memoised."""
    key = _key(post, owner_code, on)
    try:
        v = _memo[key]
        _memo.move_to_end(key)
    except KeyError:
        v = judge_content(post, owner_code, on)
        v = v if v.findings else None
        _memo[key] = v
        if len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return v if v is None or v.post is post else replace(v, post=post)


def _summary(verdicts: Sequence[ContentVerdict], kind: str) -> str:
    lines = []
    for v in verdicts[:5]:
        fs = [f for f in v.findings if f.kind == kind]
        what = "；".join(f"{RULE_NAMES[f.rule]}「{f.span}」{f.suggestion}" for f in fs[:3])
        lines.append(f"{v.post.id or v.post.url}：{what}")
    if len(verdicts) > 5:
        lines.append(f"等共 {len(verdicts)} 条")
    return "\n".join(lines)


def _parts(verdicts: list[ContentVerdict], kind: str, rule: str) -> dict[str, Any]:
    return {
        "detail": _summary(verdicts, kind),
        "rule": rule,
        "evidence": {"posts": [v.evidence(kind) for v in verdicts[:20]]},
    }


@register("content")
def detect_content(obs: Observation, ctx: Context) -> list[Signal]:
    """Up to one signal per content kind, judged on the posts this observation saw."""
    owner = ctx.owner_code if ctx is not None else ""
    now, tz = (ctx.now, ctx.tz) if ctx is not None else (obs.fetched_at, "Asia/Shanghai")
    verdicts = [v for p in obs.posts if (v := judged(p, owner, post_day(p, now, tz)))]
    by: dict[str, list[ContentVerdict]] = {k: [] for k in set(KIND_OF.values())}
    for v in verdicts:
        for k in dict.fromkeys(f.kind for f in v.findings):
            by[k].append(v)
    out: list[Signal] = []
    if vs := by["privacy"]:
        title = f"发布内容含未脱敏的个人信息（{len(vs)} 条）"
        out.append(
            Signal("privacy", Severity.high, title, **_parts(vs, "privacy", "content.privacy"))
        )
    if vs := by["roster_error"]:
        title = f"领导姓名或职务表述有误（{len(vs)} 条）"
        parts = _parts(vs, "roster_error", "content.roster")
        out.append(Signal("roster_error", Severity.high, title, **parts))
    if vs := by["wording"]:
        title = f"含错别字或不规范表述（{len(vs)} 条）"
        out.append(
            Signal("wording", Severity.warning, title, **_parts(vs, "wording", "content.wording"))
        )
    if vs := by["entertainment_review"]:
        title = f"含网络流行语或娱乐化表述，需人工复核（{len(vs)} 条）"
        parts = _parts(vs, "entertainment_review", "content.entertainment")
        out.append(Signal("entertainment_review", Severity.info, title, **parts))
    return out
