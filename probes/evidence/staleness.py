"""What an account's updates came to: the latest post, the posts not counted, the rules' notes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from probes.evidence.lines import Line, Run, at, count, is_web, joined, line, link, quote, when
from probes.evidence.shape import Part

SEVERITY_WORDS = {"veto": "单项否决", "high": "严重问题", "warning": "预警", "info": "提示"}


@dataclass(frozen=True, kw_only=True)
class LatestPost(Part):
    """The newest post that counts: when, its title, a link to it, how many days ago.
    (``latest_post`` is the older dict form of the same post.)"""

    ALWAYS: ClassVar[bool] = True
    latest_post_at: str | None = None
    latest_post_id: str | None = None
    latest_post_title: str | None = None
    latest_post_url: str | None = None
    days_since_update: int | None = None
    latest_post: dict[str, Any] | None = None

    def lines(self) -> list[Line]:
        post = self.latest_post if isinstance(self.latest_post, dict) else {}
        posted = when(post.get("published_at", self.latest_post_at))
        caption = post.get("title") or post.get("text") or self.latest_post_title or ""
        url = post.get("url") or self.latest_post_url or ""
        days = self.days_since_update
        whole_days = isinstance(days, int) and not isinstance(days, bool)
        if not (posted or caption or is_web(url)):
            return [line(f"距上次更新已 {days} 天")] if whole_days else []
        runs: list[Run] = ["最新一条："]
        if posted:
            runs += [at(posted), " 发布"]
            if whole_days and days > 0:  # type: ignore[operator]
                runs.append(f"（{days} 天前）")
        else:
            runs.append("发布时间未知")
        if caption:
            runs += ["《", quote(caption, 80, roomy=True), "》"]
        if post.get("pinned"):
            runs.append("（置顶，不计入更新）")
        if is_web(url):
            runs += [" ", link(url, caption="原文")]
        return [line(*runs)]


@dataclass(frozen=True, kw_only=True)
class SkippedPosts(Part):
    """The posts a verdict did not count: pinned, undated, dated in the future."""

    ALWAYS: ClassVar[bool] = True
    posts_seen: int | None = None
    ignored_pinned_posts: int | None = None
    newest_pinned_post_at: str | None = None
    ignored_undated_posts: int | None = None
    ignored_undated_post_ids: list[str] | None = None
    ignored_future_posts: list[Any] | None = None
    undated_only: bool | None = None
    no_post_found: bool | None = None

    def lines(self) -> list[Line]:
        out = []
        if pinned := count(self.ignored_pinned_posts):
            newest = when(self.newest_pinned_post_at)
            runs: list[Run] = ["，最新一条置顶发布于 ", at(newest)] if newest else []
            out.append(line(f"置顶内容 {pinned} 条不计入更新", *runs))
        seen = count(self.posts_seen)
        if self.undated_only and seen:
            out.append(line(f"共看到 {seen} 条内容，都读不出发布时间"))
        elif self.no_post_found:
            out.append(line(f"共看到 {seen} 条内容，没有带发布时间的非置顶内容"))
        undated = count(self.ignored_undated_posts)
        if undated and not self.undated_only:
            out.append(line(f"另有 {undated} 条读不出发布时间，未计入"))
        future = self.ignored_future_posts
        if isinstance(future, list) and future:
            out.append(line(f"{len(future)} 条的发布时间晚于检查时间（时间有误），未计入"))
        return out


@dataclass(frozen=True, kw_only=True)
class RuleNotes(Part):
    """The rules' verdicts (``rules``: each rule's state and parameters, which 说明 words) and
    what a person should know beside them: what is at stake, notes, unknown holiday years."""

    ALWAYS: ClassVar[bool] = True
    rules: list[dict[str, Any]] | None = None
    at_stake: str | None = None
    notes: list[str] | None = None
    calendar_unknown_years: list[Any] | None = None

    def lines(self) -> list[Line]:
        out = []
        if stake := SEVERITY_WORDS.get(str(self.at_stake or "")):
            out.append(line(f"逾期将记为{stake}", unless=f"将{stake}"))
        notes = self.notes if isinstance(self.notes, list) else []
        for i, note in enumerate(notes, 1):
            # "per_week(2): 已知内容未早于上周开始…": the rule's code before the colon is ours
            out.append(line("注：", quote(re.sub(r"^[\w.()>=<, ]+:\s*", "", str(note))), rank=i))
        years = self.calendar_unknown_years
        if isinstance(years, list) and years:
            shown = joined([[quote(y, 6)] for y in years[:4]], "、")
            out.append(line("注：", *shown, " 年的节假日安排未知，按周一至周五推算工作日"))
        return out
