"""互动回应: questions from the public under the account's posts, and whether it answered in time.

Seed 004 asks units to "24小时回复公众留言", seed 002 to "明确回复时限，做到限时办结、及时反馈";
the national inspection counts unanswered messages as 互动服务不实. A question is due by the end
of the :data:`ANSWER_WORKDAYS`-th working day after the day it was asked (the Chinese calendar
of :mod:`probes.checks.calendar`: a question on Friday evening is due on Monday, not Saturday).

A question: a comment by someone else than the account that asks (？/?, 请问, 怎么, 如何, 能否,
什么时候, 在哪…). Praise, emoji and the account's own comments are not questions. Answered: a
reply by the account under it (楼中楼), or a comment of the account that names the asker
(``回复@name`` / ``@name``) after it. Judged only on what was shown (``Post.comments`` not
None): a post whose comments were not shown to us gives nothing; a question whose replies the
platform holds more of than it showed, none of them the account's, is not judged either (the
answer may be among those not shown).

Signals: ``interaction_unanswered`` (预警) for questions still waiting past their limit, with
each question, its asker (masked), its time and the post; ``interaction_late`` (提示) for
questions answered, but after the limit — a record, nothing left to put right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from probes.checks.calendar import WorkCalendar
from probes.checks.interaction_kinds import FINDING_KINDS
from probes.checks.registry import Context, register
from probes.evidence import Question as Asked
from probes.evidence import Questions
from probes.model import Comment, Observation, Post, Severity, Signal

#: working days a unit has to answer (seed 004: 24 小时回复公众留言, counted in working days)
ANSWER_WORKDAYS = 1
QUESTIONS_LISTED = 10  # questions a finding's evidence lists
_ASKS = re.compile(
    r"[?？]|请问|请教|咨询|怎么|怎样|如何|能否|能不能|可不可以|可以吗|是否|有没有|什么时候|"
    r"何时|几点|多久|哪里|在哪|哪儿|哪个|为什么|为啥|吗[。！!…~～\s]*$|呢[。！!…~～\s]*$"
)
_MENTION = re.compile(r"@([^\s:：@,，。]+)")


def is_question(text: str) -> bool:
    """A comment that asks something (not praise, not emoji: they have no asking words)."""
    return bool(_ASKS.search(text.strip()))


def due(
    asked: datetime, calendar: WorkCalendar, tz: str, workdays: int = ANSWER_WORKDAYS
) -> datetime:
    """The end of the ``workdays``-th working day after the day ``asked`` (local), in UTC."""
    zone = ZoneInfo(tz)
    d: date = asked.astimezone(zone).date()
    for _ in range(max(workdays, 1)):
        d = calendar.next_workday(d)
    return datetime.combine(d + timedelta(days=1), time(0), zone).astimezone(UTC)


@dataclass(frozen=True)
class Question:
    post: Post
    comment: Comment
    deadline: datetime
    answered_at: datetime | None

    def evidence(self, tz: str) -> Asked:
        c = self.comment
        asked = c.published_at.isoformat() if c.published_at else None
        question = Asked(
            question=c.text[:200],
            asker=mask_name(c.user_name),
            deadline=self.deadline.isoformat(),
            post_id=self.post.id,
            post_url=self.post.url,
            answered_at=self.answered_at.isoformat() if self.answered_at else None,
        )
        return question.said(asked_at=asked)


def mask_name(name: str) -> str:
    """A member of the public's name as evidence shows it: its first character, then ``**``."""
    name = name.strip()
    return (name[0] + "**") if name else "（未显示昵称）"


def questions(posts: list[Post], calendar: WorkCalendar, tz: str) -> list[Question]:
    """Every question shown under ``posts`` that can be judged, with its deadline and answer."""
    out: list[Question] = []
    for p in posts:
        if p.comments is None or p.comments_disabled:
            continue
        mine = [c for c in p.comments if c.by_account]
        for c in p.comments:
            if c.by_account or c.published_at is None or not is_question(c.text):
                continue
            answered = _answered_at(c, mine)
            if answered is None and c.replies_total > len(c.replies):
                continue  # replies not shown to us may hold the answer: not judged
            out.append(Question(p, c, due(c.published_at, calendar, tz), answered))
    return out


def _answered_at(c: Comment, mine: list[Comment]) -> datetime | None:
    asked = c.published_at
    times = [r.published_at for r in c.replies if r.by_account and r.published_at]
    if c.user_name:
        times += [
            m.published_at
            for m in mine
            if m.published_at
            and asked
            and m.published_at >= asked
            and c.user_name in _MENTION.findall(m.text)
        ]
    return min(times) if times else None


@register("interaction", FINDING_KINDS)
def detect_interaction(obs: Observation, ctx: Context) -> list[Signal]:
    found = questions(list(ctx.posts), ctx.calendar, ctx.tz)
    waiting = [q for q in found if q.answered_at is None and ctx.now > q.deadline]
    late = [q for q in found if q.answered_at is not None and q.answered_at > q.deadline]
    signals: list[Signal] = []
    rule = f"interaction.answer_workdays({ANSWER_WORKDAYS})"
    if waiting:
        waiting.sort(key=lambda q: q.deadline)
        signals.append(
            Signal(
                kind="interaction_unanswered",
                severity=Severity.warning,
                title=f"公众提问超过 {ANSWER_WORKDAYS} 个工作日未回复（{len(waiting)} 条）",
                detail=(
                    f"评论区有 {len(waiting)} 条公众提问在 {ANSWER_WORKDAYS} 个工作日内"
                    "未见本账号回复（楼中楼回复或点名回复）。"
                ),
                rule=rule,
                evidence=Questions(
                    questions=[q.evidence(ctx.tz) for q in waiting[:QUESTIONS_LISTED]]
                ).to_dict(),
            )
        )
    if late:
        signals.append(
            Signal(
                kind="interaction_late",
                severity=Severity.info,
                title=f"公众提问回复超时（{len(late)} 条）",
                detail=f"{len(late)} 条公众提问超过 {ANSWER_WORKDAYS} 个工作日后才回复。",
                rule=rule,
                evidence=Questions(
                    questions=[q.evidence(ctx.tz) for q in late[:QUESTIONS_LISTED]]
                ).to_dict(),
            )
        )
    return signals
