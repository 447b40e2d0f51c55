"""Posts a finding is about: an advert (its reasons, links, words, contacts) or wording and
personal data (each rule's hits, quoted)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from probes.evidence.lines import Run, blank, count, flagged, joined, post_link, quote
from probes.evidence.shape import Item, Listing

LINK_VERDICTS = {
    "deny": "电商/广告域名",
    "miniprogram": "小程序",
    "miniprogram_official": "政务小程序",
    "weixin_business": "微信商业链接",
    "unknown": "外部链接",
}
HITS_NAMED = 10  # hits of one rule a message names after the one it quotes
UNSAID = "见控制台的问题页"


@dataclass(frozen=True, kw_only=True)
class AdPost(Item):
    """One commercial post: why, its links with their domain and verdict, the advert's words
    and the contacts it leaves (masked when told)."""

    post_id: str | None = None
    post_url: str | None = None
    level: str | None = None
    reasons: list[str] | None = None
    words: list[dict[str, Any]] | None = None
    links: list[dict[str, Any]] | None = None
    contact: list[str] | None = None

    def runs(self) -> list[Run]:
        bits: list[list[Run]] = []
        reasons = self.reasons[:4] if isinstance(self.reasons, list) else []
        if reasons:
            bits.append(joined([[quote(r, 40)] for r in reasons], "、"))
        if isinstance(self.links, list) and self.links:
            shown = [_link(x) for x in self.links[:3] if isinstance(x, dict)]
            bits.append(["链接 ", *joined(shown, "、")])
        if isinstance(self.words, list) and self.words:
            quoted = [["「", quote(w.get("word", ""), 20), "」"] for w in self.words[:5]
                      if isinstance(w, dict)]  # fmt: skip
            bits.append(["广告词", *joined(quoted, "")])
        if isinstance(self.contact, list) and self.contact:
            bits.append(
                ["联系方式 ", *joined([[quote(masked(c), 30)] for c in self.contact[:3]], "、")]
            )
        if bits == bits[:1] and len(reasons) == 1 and blank(reasons[0]):
            return [UNSAID]  # a lone blank reason says nothing
        return joined(bits, "；") or [UNSAID]


def _link(x: dict[str, Any]) -> list[Run]:
    verdict = LINK_VERDICTS.get(str(x.get("verdict")), "外部链接")
    name = quote(x["domain"], 60) if x.get("domain") else flagged(x.get("url", ""), 60)
    return [name, f"（{verdict}）"]


@dataclass(frozen=True, kw_only=True)
class WordingPost(Item):
    """One post with wording or personal-data hits (``findings``: each hit's rule name, span
    and correction), ``more`` hits counted, not listed."""

    post_id: str | None = None
    post_url: str | None = None
    findings: list[Any] | None = None
    more: int | None = None

    def runs(self) -> list[Run]:
        """Each rule's first hit quoted with its correction, then every other hit of the rule
        named (ten, then how many more): a table of ten phones names ten, not two."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for x in self.findings or []:
            if isinstance(x, dict):
                groups.setdefault(str(x.get("name") or ""), []).append(x)
        bits: list[list[Run]] = []
        untold = count(self.more)
        for i, (name, xs) in enumerate(groups.items()):
            if i >= 3:
                untold += len(xs)
                continue
            first = xs[0]
            bit: list[Run] = [quote(name, 20), "「"]
            bit += [quote(first.get("span") or first.get("hit") or "", 60, roomy=True), "」"]
            if str(first.get("suggestion") or "").strip():
                bit += ["，", quote(first["suggestion"], 60)]
            if len(xs) > 1:
                named = [[quote(x.get("hit"), 24)] for x in xs[1 : HITS_NAMED + 1] if x.get("hit")]
                bit.append(f"；同类共 {len(xs)} 处")
                if named:
                    rest = " 等" if len(xs) - 1 > len(named) else ""
                    bit += ["，另有 ", *joined(named, "、"), rest]
            bits.append(bit)
        if untold:
            bits.append([f"另有 {untold} 处未列出"])
        return joined(bits, "；") or [UNSAID]


Post = AdPost | WordingPost


@dataclass(frozen=True, kw_only=True)
class Posts(Listing):
    """The posts a finding is about, each told on a line of its own."""

    KEY: ClassVar[str] = "posts"
    HEADER: ClassVar[str] = "涉及内容 {n} 条"
    posts: list[Post] | None = None

    @classmethod
    def item(cls, stored: dict[str, Any]) -> Post:
        return (WordingPost if isinstance(stored.get("findings"), list) else AdPost).read(stored)

    def runs(self, i: int, item: Post) -> list[Run]:
        return [f"第 {i} 条：", *item.runs(), " ", post_link(item.to_dict())]


_DIGITS = re.compile(r"\d{7,}")


def masked(value: object) -> str:
    """A contact an ad left, masked like personal data is: never spread what is reported."""
    text = str(value)
    text = _DIGITS.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)
    m = re.match(r"^(.*?(?:[:：]|\s)\s*)([A-Za-z][-\w]{5,19})$", text)  # 加微信 abc12345
    return f"{m.group(1)}{m.group(2)[:2]}***" if m else text
