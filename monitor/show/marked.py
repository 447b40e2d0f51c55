"""A content finding's posts as the finding page shows them: the text with every hit marked.

The evidence of a content finding (``probes.checks.content.ContentVerdict.evidence``) keeps
each post's text, personal numbers masked, and where each hit is (``marked``: ``text``,
``hits`` as [start, end, rule]); this cuts it into plain and marked pieces for the template,
which escapes every piece (a post's words are never markup). Evidence from before this
existed has no ``marked`` and shows nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Piece:
    text: str
    name: str = ""  # the rule's name for a hit ("身份证号未脱敏"); "" for plain text


@dataclass
class MarkedPost:
    post_id: str
    url: str
    pieces: list[Piece] = field(default_factory=list)
    hits: int = 0
    cut: bool = False  # a long post shown as windows around its hits


def marked_posts(evidence: Any) -> list[MarkedPost]:
    posts = evidence.get("posts") if isinstance(evidence, dict) else None
    if not isinstance(posts, list):
        return []
    out = []
    for p in posts:
        m = p.get("marked") if isinstance(p, dict) else None
        if not isinstance(m, dict) or not isinstance(m.get("text"), str):
            continue
        names = {
            str(x.get("rule")): str(x.get("name") or x.get("rule"))
            for x in p.get("findings") or []
            if isinstance(x, dict)
        }
        post = MarkedPost(str(p.get("post_id") or ""), str(p.get("post_url") or ""))
        post.cut = bool(m.get("cut"))
        post.pieces, post.hits = _pieces(m["text"], m.get("hits") or [], names)
        out.append(post)
    return out


def _pieces(text: str, hits: list[Any], names: dict[str, str]) -> tuple[list[Piece], int]:
    spans = sorted(
        (int(h[0]), int(h[1]), str(h[2]))
        for h in hits
        if isinstance(h, list) and len(h) == 3 and all(isinstance(x, int) for x in h[:2])
    )
    pieces: list[Piece] = []
    at = n = 0
    for s, e, rule in spans:
        if s < at or e <= s or e > len(text):
            continue  # overlapping or out of the text: shown as it is
        if s > at:
            pieces.append(Piece(text[at:s]))
        pieces.append(Piece(text[s:e], names.get(rule, rule)))
        at, n = e, n + 1
    if at < len(text):
        pieces.append(Piece(text[at:]))
    return pieces, n
