"""Interaction: comments switched off, and public questions left unanswered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from probes.evidence.lines import Line, Piece, Run, at, line, post_link, quote, when
from probes.evidence.shape import Item, Listing, Part


@dataclass(frozen=True, kw_only=True)
class CommentsOff(Part):
    """Where comments are off: the profile as a whole, or posts (each ``where`` = "post")."""

    comments_off: list[dict[str, Any]] | None = None

    @classmethod
    def claims(cls, d: dict[str, Any]) -> bool:
        return isinstance(d.get("comments_off"), list)

    def lines(self) -> list[Line]:
        off = [x for x in self.comments_off or [] if isinstance(x, dict)]
        posts = [x for x in off if x.get("where") == "post"]
        out = []
        if any(x.get("where") == "profile" for x in off):
            out.append(line("账号设置为不允许评论"))
        if posts:
            refs: list[Run] = []
            for i, p in enumerate(posts, 1):
                refs += ([Piece(text="、", rank=i)] if i > 1 else []) + [post_link(p, rank=i)]
            out.append(line(f"{len(posts)} 条内容关闭了评论：", *refs))
        return out


@dataclass(frozen=True, kw_only=True)
class Question(Item):
    """One public question: who asked (masked), when, by when it wanted an answer, the post."""

    question: str | None = None
    asker: str | None = None
    asked_at: str | None = None
    deadline: str | None = None
    answered_at: str | None = None
    post_id: str | None = None
    post_url: str | None = None

    def runs(self) -> list[Run]:
        asked, deadline, answered = when(self.asked_at), when(self.deadline), when(self.answered_at)
        runs: list[Run] = ["「", quote(self.question or "", 80, roomy=True), "」"]
        runs += ["（", quote(self.asker or "", 20)]
        runs += ["，", at(asked), " 提问"] if asked else []
        runs += ["，应于 ", at(deadline), " 前回复"] if deadline else []
        runs += ["，", at(answered), " 才回复"] if answered else []
        return [*runs, "） ", post_link(self.to_dict())]


@dataclass(frozen=True, kw_only=True)
class Questions(Listing):
    """互动回应: the public questions a finding is about."""

    KEY: ClassVar[str] = "questions"
    HEADER: ClassVar[str] = "公众提问 {n} 条"
    questions: list[Question] | None = None

    @classmethod
    def item(cls, stored: dict[str, Any]) -> Question:
        return Question.read(stored)

    def runs(self, i: int, item: Question) -> list[Run]:
        return item.runs()
