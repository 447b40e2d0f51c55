"""互动回应 on Weibo: public questions under the account's posts, read from real-shaped comment
answers served by a local server, and whether the account answered in time.

The answers are ``m.weibo.cn/comments/hotflow`` shapes (``tests/fixtures/platforms/weibo/
hotflow_questions.json``; the source of each field is in that folder's SOURCES.md:
dataabc/weibo-crawler ``weibo.py`` ``_get_weibo_comments_cookie``). The simulator's clock is
Tue 2026-11-24 14:00 Beijing; the comments were written Sun 22 – Tue 24. Every case has a twin
that differs in one thing and must give no finding. Judging times are fixed instants, never
the hour the test runs.
"""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from localserver import LocalServer, Reply, Request
from simulator import NOW, Simulator, js, weibo_fixture

from probes.checks import evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.interaction import due, is_question, questions
from probes.checks.rules import BUILTIN_RULESETS
from probes.fetch import Tools
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Post, Signal, Target, post_from_dict
from probes.platforms import observe
from probes.platforms.weibo.comments import POSTS_READ

FAST = HttpSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, retries=0)
CAL = WorkCalendar()
TZ = "Asia/Shanghai"
REPOST = "4900000000000002"  # the simulator's post of Sun 22 14:00, whose comments are asked
WED = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 10:00 Beijing: Monday's questions are due


class CommentsSim(Simulator):
    """The simulator's Weibo account, its posts counting comments, hotflow served per mid."""

    def __init__(self, answers: dict[str, Any], extra_posts: int = 0) -> None:
        super().__init__()
        self.answers = answers
        self.extra_posts = extra_posts
        self.asked: list[str] = []

    def _weibo_cards(self, uid: str) -> list[dict[str, Any]]:
        cards = super()._weibo_cards(uid)
        for card in cards:
            for c in card.get("card_group") or [card]:
                c["mblog"]["comments_count"] = 8 if c["mblog"]["id"] == REPOST else 0
        for i in range(self.extra_posts):
            cards.append({"card_type": 9, "mblog": {
                "id": f"49000000000001{i:02d}", "bid": f"Extra{i}", "comments_count": 3,
                "created_at": "Sat Nov 21 09:00:00 +0800 2026", "text": f"通知 {i}",
            }})  # fmt: skip
        return cards

    def hotflow(self, req: Request) -> Reply:
        mid = parse_qs(req.query).get("mid", [""])[0]
        self.asked.append(mid)
        answer = self.answers.get(mid)
        return js(answer) if answer is not None else js(weibo_fixture("hotflow_refused"))

    def routes(self) -> dict[str, Any]:
        return {**super().routes(), "/comments/hotflow": self.hotflow}


def read(sim: CommentsSim) -> Observation:
    with LocalServer(sim.routes()) as srv:
        target = Target(
            account_id="wb-1",
            platform="weibo",
            reader="weibo",
            url="https://weibo.com/u/1000",
            origins={"m": srv.base, "www": srv.base, "passport": srv.base},
        )

        async def main() -> Observation:
            async with Fetcher(FAST) as f:
                return await observe(target, Tools(f), now=NOW)

        return asyncio.run(main())


def answer() -> dict[str, Any]:
    return copy.deepcopy(weibo_fixture("hotflow_questions"))


def rows(ans: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(c["id"])[-1]: c for c in ans["data"]["data"]}


def judge(obs: Observation, now: datetime) -> dict[str, Signal]:
    """Judged as the writer judges: the facts stored, the posts rebuilt from them."""
    stored = json.loads(json.dumps(obs.facts(), ensure_ascii=False))
    obs.posts = [post_from_dict(p) for p in stored["posts"]]
    signals = evaluate(obs, ruleset=BUILTIN_RULESETS["national"], calendar=CAL, now=now)
    return {s.kind: s for s in signals if s.kind.startswith("interaction")}


def asked(sig: Signal | None) -> list[str]:
    return [q["question"] for q in sig.evidence["questions"]] if sig else []


def test_questions_are_told_from_praise_emoji_and_the_accounts_own_words() -> None:
    obs = read(CommentsSim({REPOST: answer()}))
    assert obs.outcome is Outcome.ok, obs.detail
    post = next(p for p in obs.posts if p.id == REPOST)
    assert post.comments is not None and len(post.comments) == 8
    judged = {q.comment.text: q for q in questions([post], CAL, TZ)}
    # praise, two hearts, the account's own "有什么问题吗" are no questions; "怎么预约" has
    # five replies of which one was shown: the answer may be among the others, not judged
    assert set(judged) == {
        "请问冬季防火检查什么时候开始？",
        "户籍证明在哪里开",
        "能否延长户籍窗口的办理时间？上班族来不及",
    }
    assert not is_question("辛苦了！点赞") and not is_question("")
    # the account's uid (1000) is recognised on its replies
    assert post.comments[4].by_account and post.comments[0].replies[0].by_account


def test_answered_in_time_by_a_reply_under_the_question() -> None:
    signals = judge(read(CommentsSim({REPOST: answer()})), WED + timedelta(days=30))
    assert "请问冬季防火检查什么时候开始？" not in asked(signals.get("interaction_unanswered"))
    assert "请问冬季防火检查什么时候开始？" not in asked(signals.get("interaction_late"))
    # twin: the same reply written by someone else is no answer
    twin = answer()
    rows(twin)["1"]["comments"][0]["user"] = {"id": 5010, "screen_name": "热心网友"}
    signals = judge(read(CommentsSim({REPOST: twin})), WED)
    assert "请问冬季防火检查什么时候开始？" in asked(signals.get("interaction_unanswered"))


def test_answered_late_by_naming_the_asker() -> None:
    signals = judge(read(CommentsSim({REPOST: answer()})), WED)
    late = signals["interaction_late"]
    assert asked(late) == ["户籍证明在哪里开"]
    q = late.evidence["questions"][0]
    assert q["asker"] == "小**"  # masked: the public's names are not spread
    assert q["deadline"] == "2026-11-23T16:00:00+00:00"  # end of Mon 23, the next working day
    assert q["answered_at"] == "2026-11-24T02:00:00+00:00"
    # twin: the same answer on Monday morning is in time
    twin = answer()
    rows(twin)["8"]["created_at"] = "Mon Nov 23 10:00:00 +0800 2026"
    assert "interaction_late" not in judge(read(CommentsSim({REPOST: twin})), WED)


def test_unanswered_past_the_working_day_limit() -> None:
    obs = read(CommentsSim({REPOST: answer()}))
    # asked Mon 20:00, due by the end of Tue (the next working day): on Wed it is waiting
    signals = judge(obs, WED)
    waiting = signals["interaction_unanswered"]
    assert asked(waiting) == ["能否延长户籍窗口的办理时间？上班族来不及"]
    assert waiting.severity == "warning"
    ev = waiting.evidence["questions"][0]
    assert (ev["asker"], ev["asked_at"]) == ("王**", "2026-11-23T12:00:00+00:00")
    assert ev["post_url"] == "https://weibo.com/1000/Repost2"
    # twin: the same question judged on Tuesday, still inside its limit
    assert "interaction_unanswered" not in judge(read(CommentsSim({REPOST: answer()})), NOW)


def test_a_question_on_friday_evening_is_due_after_the_weekend() -> None:
    fri = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)  # Fri 19:00 Beijing
    assert due(fri, CAL, TZ) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # end of Mon 30


def test_comments_not_shown_to_us_are_never_a_finding() -> None:
    # refused (ok: 0), and an empty list under a post that counts 8 comments
    empty = {"ok": 1, "data": {"data": [], "total_number": 0, "max_id": 0, "max_id_type": 0}}
    for ans in (None, empty):
        obs = read(CommentsSim({REPOST: ans} if ans else {}))
        assert obs.outcome is Outcome.ok
        assert next(p for p in obs.posts if p.id == REPOST).comments is None
        assert judge(obs, WED + timedelta(days=60)) == {}
    # twin: the same post with its comments shown gives the finding
    assert "interaction_unanswered" in judge(read(CommentsSim({REPOST: answer()})), WED)


def test_comments_off_stays_its_own_finding_and_judges_no_question() -> None:
    obs = read(CommentsSim({REPOST: answer()}))
    for p in obs.posts:
        p.comments_disabled = p.id == REPOST  # as a reader that shows the switch fills it
    signals = evaluate(obs, ruleset=BUILTIN_RULESETS["national"], calendar=CAL, now=WED)
    kinds = {s.kind for s in signals}
    assert "no_interaction" in kinds
    assert not kinds & {"interaction_unanswered", "interaction_late"}
    # twin: comments on, the same posts: no "comments off", the questions judged
    for p in obs.posts:
        p.comments_disabled = False
    signals = evaluate(obs, ruleset=BUILTIN_RULESETS["national"], calendar=CAL, now=WED)
    assert "no_interaction" not in {s.kind for s in signals}
    assert "interaction_unanswered" in {s.kind for s in signals}


@pytest.mark.parametrize("extra", [0, 8])
def test_a_check_reads_a_bounded_number_of_comment_lists(extra: int) -> None:
    sim = CommentsSim({REPOST: answer()}, extra_posts=extra)
    obs = read(sim)
    assert obs.outcome is Outcome.ok
    assert len(sim.asked) == (1 if extra == 0 else POSTS_READ)
    assert REPOST in sim.asked  # the newest posts with comments come first


def test_history_posts_keep_their_comments() -> None:
    post = next(p for p in read(CommentsSim({REPOST: answer()})).posts if p.id == REPOST)
    again = post_from_dict(json.loads(json.dumps(_facts_of(post))))
    assert isinstance(again, Post) and again.comments == post.comments


def _facts_of(post: Post) -> dict[str, Any]:
    obs = Observation("a", "weibo", "", NOW, Outcome.ok, posts=[post])
    return obs.facts()["posts"][0]


def test_a_message_lists_each_question_with_its_times_and_post() -> None:
    from zoneinfo import ZoneInfo

    from alerts.evidence import Room
    from alerts.formats import Text
    from monitor.evidence import describe

    waiting = judge(read(CommentsSim({REPOST: answer()})), WED)["interaction_unanswered"]
    lines = describe(waiting.evidence, Text(), ZoneInfo(TZ), WED, Room())
    assert lines[0] == "公众提问 1 条："
    assert "「能否延长户籍窗口的办理时间？上班族来不及」（王**" in lines[1]
    assert "2026-11-23 20:00 提问，应于 2026-11-25 00:00 前回复" in lines[1]
    assert "weibo.com/1000/Repost2" in lines[1]
    assert "王女士" not in "".join(lines)
