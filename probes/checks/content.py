"""Content: what a post says, checked for three of the national eight problems (seed 003).

- 隐私泄露 (``privacy``, high): unmasked resident IDs, mobile numbers, bank cards
  (:mod:`probes.checks.personal`);
- 审核把关不严: a leader's name or title wrong by the unit's roster (``roster_error``, high;
  :mod:`probes.checks.roster`), and 错别字, fixed official expressions written wrong and
  禁用/慎用词 (``wording``, warning; the word lists of :mod:`probes.checks.wordlists`, each
  entry with its source, found with the context rules of :mod:`probes.checks.wording`);
- 过度娱乐化: 网络流行语 and cutesy address (``entertainment_review``, info: a person decides;
  ``entertainment.txt``). Comments switched off (互动服务不实) are the theft detector's
  ``no_interaction``.

The lists are the shipped ones with the user's own laid over them (``Context.lists``,
:mod:`probes.checks.lists`). A post is judged on its title and text, the title once, and on
its full text where the reader had it (:mod:`probes.platforms.fulltext`). Every finding
names its post and every hit — a clean window around it (:mod:`probes.checks.quote`), a
personal number masked, the rule, the correction and the list entry's source — and keeps
the post with its hits marked for the finding's page. A post already judged (same content,
unit, day and lists) is looked up, not judged again, as :func:`probes.checks.commercial.judged`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from probes.checks.content_kinds import FINDING_KINDS
from probes.checks.lists import PATTERN_FILES, Lists, default_lists
from probes.checks.personal import Words, find_leaks
from probes.checks.quote import marked, masked, window
from probes.checks.registry import Context, register
from probes.checks.roster import Roster
from probes.checks.wording import Hit, Wording, build_wording, scan
from probes.checks.wordlists import WORD_FILES, read_context, read_list
from probes.evidence import Posts, WordingPost
from probes.model import Observation, Post, Severity, Signal

DATA = Path(__file__).resolve().parent.parent / "data" / "content"
#: rule -> the kind its findings are signalled as
KIND_OF = {
    "privacy.id_card": "privacy",
    "privacy.mobile": "privacy",
    "privacy.bank_card": "privacy",
    "roster.name": "roster_error",
    "roster.title": "roster_error",
    "wording.typo": "wording",
    "wording.expression": "wording",
    "wording.taboo": "wording",
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
    "wording.taboo": "禁用/慎用词",
    "entertainment": "网络流行语/娱乐化表述",
}
EVIDENCE_PER_POST = 50  # hits a post's evidence names one by one; the rest are counted
SUMMARY_HITS = 20  # hits of one rule a summary line names after the first one it quotes
QUOTED_HITS = 200  # hits quoted with their words around (a page of slang: the rest named)
#: how much of a personal number may be shown: (head, tail) characters
MASKS = {"privacy.id_card": (6, 4), "privacy.mobile": (3, 4), "privacy.bank_card": (6, 4)}


def load_wording(directory: Path | None = None) -> Wording:
    """The word lists of one directory (``typos.txt``, ``expressions.txt``, ``taboo.txt``,
    ``entertainment.txt``, ``doubled.txt``, ``orders.txt``, ``context.txt``; formats in
    :mod:`probes.checks.wordlists`); without one, the shipped lists."""
    if directory is None:
        return default_wording()
    files = [read_list(directory / f"{stem}.txt") for stem in (*WORD_FILES, *PATTERN_FILES)
             if (directory / f"{stem}.txt").exists()]  # fmt: skip
    return build_wording(files, read_context(directory / "context.txt"))


def default_wording() -> Wording:
    return default_lists().wording


@dataclass(frozen=True)
class Finding:
    rule: str
    span: str  # a clean window around the hit (numbers masked)
    suggestion: str
    hit: str = ""  # the hit itself as it may be shown (a number masked)
    start: int = 0  # where in the judged text (title and body, see text_of)
    end: int = 0
    source: str = ""  # the list entry's source (文献、版次), for wording rules

    @property
    def kind(self) -> str:
        return KIND_OF[self.rule]


@dataclass
class ContentVerdict:
    post: Post
    findings: list[Finding] = field(default_factory=list)
    # the personal numbers' spans and what of them may show: (start, end, head, tail); the
    # masked text is made from the post when asked (a memo holds no second copy of it)
    masks: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The judged text (title and body, :func:`text_of`), personal numbers masked."""
        return masked(text_of(self.post), self.masks)

    def evidence(self, kind: str) -> WordingPost:
        """What the finding keeps of this post: every hit of ``kind`` (the first
        :data:`EVIDENCE_PER_POST` one by one, then their count) and the post marked."""
        found = [f for f in self.findings if f.kind == kind]
        items = []
        for f in found[:EVIDENCE_PER_POST]:
            item = {"rule": f.rule, "name": RULE_NAMES[f.rule], "span": f.span,
                    "suggestion": f.suggestion, "hit": f.hit}  # fmt: skip
            if f.source:
                item["source"] = f.source
            items.append(item)
        more = len(found) - EVIDENCE_PER_POST  # a list of 10,000 phones: the count
        shown = marked(self.text, [(f.start, f.end, f.rule) for f in found])
        return WordingPost(post_id=self.post.id, post_url=self.post.url, findings=items,
                           more=more if more > 0 else None, extra={"marked": shown})  # fmt: skip


def scan_wording(text: str, lex: Wording | None = None) -> list[Finding]:
    """The wording findings of ``text`` (错别字, 规范表述, 禁用/慎用词, 娱乐化), in text order."""
    return [_finding(text, h, i) for i, h in enumerate(scan(text, lex or default_wording()))]


def _finding(text: str, h: Hit, i: int = 0) -> Finding:
    span = window(text, h.start, h.end) if i < QUOTED_HITS else ""
    return Finding(h.rule, span, h.suggestion, text[h.start : h.end], h.start, h.end,
                   h.entry.source)  # fmt: skip


def text_of(post: Post) -> str:
    """What a post says: its title and text, the title once (a feed's or an article's text
    often opens with its title: quoted twice, a window ran from one into the other)."""
    title = post.title.strip()
    if not title or post.text.lstrip().startswith(title):
        return post.text
    return f"{title}\n{post.text}"


def judge_content(
    post: Post,
    owner_code: str = "",
    on: date | None = None,
    *,
    wording: Wording | None = None,
    roster: Roster | None = None,
    words: Words | None = None,
    lists: Lists | None = None,
) -> ContentVerdict:
    """Every content finding of one post, for an account of unit ``owner_code``, dated ``on``
    (the post's day; a roster's term is judged on it), by ``lists`` (default: the shipped)."""
    lists = lists or default_lists()
    text = text_of(post)
    on = on or (post.published_at.date() if post.published_at else date.today())
    leaks = find_leaks(text, on, words or lists.words)
    v = ContentVerdict(post, masks=[(x.start, x.end, *MASKS[x.rule]) for x in leaks])
    shown = v.text if leaks else text
    for leak in leaks:
        hit = shown[leak.start : leak.end]
        why = f"{leak.what}应脱敏后发布（如 {leak.masked}）"
        v.findings.append(
            Finding(leak.rule, window(shown, leak.start, leak.end), why, hit, leak.start, leak.end)
        )
    if owner_code:
        for err in (roster or lists.roster).check(owner_code, text, on):
            v.findings.append(Finding(err.rule, window(shown, err.start, err.end),
                                      err.suggestion, shown[err.start : err.end], err.start,
                                      err.end))  # fmt: skip
    hits = scan(text, wording or lists.wording)
    v.findings.extend(_finding(shown, h, i) for i, h in enumerate(hits))
    v.findings.sort(key=lambda f: f.start)
    return v


# A post already judged is not judged again (see commercial's memo): keyed by a digest of
# what judge_content reads — the post's content, the unit, the day it is judged on and the
# lists' version. A clean post keeps only its key.
_MEMO_SIZE = 65536
_memo: OrderedDict[bytes, ContentVerdict | None] = OrderedDict()


def _key(post: Post, owner_code: str, on: date, version: str) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for part in (post.id, post.url, post.title, post.text, owner_code, on.isoformat(), version):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.digest()


def post_day(post: Post, now: datetime, tz: str = "Asia/Shanghai") -> date:
    return (post.published_at or now).astimezone(ZoneInfo(tz)).date()


def judged(
    post: Post, owner_code: str, on: date, lists: Lists | None = None
) -> ContentVerdict | None:
    """``post``'s verdict by ``lists`` (default: the shipped) if it has findings, else None;
    memoised."""
    lists = lists or default_lists()
    key = _key(post, owner_code, on, lists.version)
    try:
        v = _memo[key]
        _memo.move_to_end(key)
    except KeyError:
        v = judge_content(post, owner_code, on, lists=lists)
        v = v if v.findings else None
        _memo[key] = v
        if len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return v if v is None or v.post is post else replace(v, post=post)


def _summary(verdicts: Sequence[ContentVerdict], kind: str) -> str:
    """One line per post (five posts, then a count): each rule's first hit quoted with its
    correction, then every other hit of that rule named (or counted past twenty)."""
    lines = []
    for v in verdicts[:5]:
        groups: dict[str, list[Finding]] = {}
        for f in v.findings:
            if f.kind == kind:
                groups.setdefault(f.rule, []).append(f)
        parts = []
        for rule, fs in groups.items():
            part = f"{RULE_NAMES[rule]}「{fs[0].span}」{fs[0].suggestion}"
            if len(fs) > 1:
                others = [f.hit for f in fs[1 : SUMMARY_HITS + 1]]
                rest = len(fs) - 1 - len(others)
                part += f"；同类共 {len(fs)} 处，另有 " + "、".join(others)
                part += f" 等（再有 {rest} 处未列出）" if rest else ""
            parts.append(part)
        lines.append(f"{v.post.id or v.post.url}：" + "；".join(parts))
    if len(verdicts) > 5:
        lines.append(f"等共 {len(verdicts)} 条")
    return "\n".join(lines)


def _parts(verdicts: list[ContentVerdict], kind: str, rule: str) -> dict[str, Any]:
    return {
        "detail": _summary(verdicts, kind),
        "rule": rule,
        "evidence": Posts(posts=[v.evidence(kind) for v in verdicts[:20]]).to_dict(),
    }


#: the signals in the order they are raised: kind, severity, title (``n`` posts), rule
SIGNALS = (
    ("privacy", Severity.high, "发布内容含未脱敏的个人信息（{n} 条）", "content.privacy"),
    ("roster_error", Severity.high, "领导姓名或职务表述有误（{n} 条）", "content.roster"),
    ("wording", Severity.warning, "含错别字或不规范表述（{n} 条）", "content.wording"),
    ("entertainment_review", Severity.info,
     "含网络流行语或娱乐化表述，需人工复核（{n} 条）", "content.entertainment"),
)  # fmt: skip


@register("content", FINDING_KINDS)
def detect_content(obs: Observation, ctx: Context) -> list[Signal]:
    """Up to one signal per content kind, judged on the posts this observation saw."""
    owner = ctx.owner_code if ctx is not None else ""
    now, tz = (ctx.now, ctx.tz) if ctx is not None else (obs.fetched_at, "Asia/Shanghai")
    lists = ctx.lists if ctx is not None and ctx.lists is not None else default_lists()
    verdicts = [v for p in obs.posts if (v := judged(p, owner, post_day(p, now, tz), lists))]
    by: dict[str, list[ContentVerdict]] = {k: [] for k in set(KIND_OF.values())}
    for v in verdicts:
        for k in dict.fromkeys(f.kind for f in v.findings):
            by[k].append(v)
    out: list[Signal] = []
    for kind, severity, title, rule in SIGNALS:
        if vs := by[kind]:
            out.append(Signal(kind, severity, title.format(n=len(vs)), **_parts(vs, kind, rule)))
    return out
