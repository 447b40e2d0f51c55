"""The escalation ladder: who hears of an unacknowledged finding, and when.

``[alerts.ladder.<severity>] steps = [{after = "0h", to = "unit"}, {after = "2h", to =
"duty_sms"}, {after = "2d", to = "leader_sms"}, {after = "3d", to = "supervisor"}]``: each
step is taken once, in order, when the finding has been open ``after`` and is neither
acknowledged nor resolved. Pure decisions (no database): ``monitor.alerting.ladder`` takes
the steps. A severity without a ladder keeps ``escalate_after_minutes`` and the repeats.

Quiet hours (``[alerts] quiet_hours = "22:00-07:30"``, local time): a step of a finding
that is not a veto waits until they end; a veto does not wait.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Rung = Literal["unit", "duty_sms", "leader_sms", "supervisor"]
RUNG_WORDS: dict[str, str] = {
    "unit": "主办单位",
    "duty_sms": "值班手机（短信）",
    "leader_sms": "负责人手机（短信）",
    "supervisor": "主管单位",
}
SEVERITIES = ("veto", "high", "warning")
_SPAN = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")


def span_minutes(text: str) -> int:
    """ "2h" → 120, "2d" → 2880, "1d12h" → 2160, "90m", "0" → 0."""
    text = text.strip().lower()
    if text == "0":
        return 0
    m = _SPAN.fullmatch(text)
    if not text or not m or not any(m.groups()):
        raise ValueError(f"'{text}' 不是时长（如 0h、30m、2h、2d、1d12h）")
    d, h, mi = (int(g or 0) for g in m.groups())
    return d * 1440 + h * 60 + mi


def span_words(minutes: int) -> str:
    """120 → "2 小时", 2880 → "2 天", 90 → "90 分钟"."""
    if minutes and minutes % 1440 == 0:
        return f"{minutes // 1440} 天"
    if minutes % 60 == 0:
        return f"{minutes // 60} 小时"
    return f"{minutes} 分钟"


class LadderStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after: str  # since the finding opened: "0h", "2h", "2d"
    to: Rung
    # the SMS channel of an *_sms step ("@name" or a URL); "" = [alerts] sms_channel
    channel: str = ""

    @field_validator("after")
    @classmethod
    def _after(cls, v: str) -> str:
        span_minutes(v)
        return v

    @property
    def minutes(self) -> int:
        return span_minutes(self.after)


class Ladder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[LadderStep] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Ladder:
        spans = [s.minutes for s in self.steps]
        if spans != sorted(spans):
            raise ValueError("steps 须按 after 从早到晚排列")
        return self


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """ "22:00-07:30" → the window; "" → None."""
        if not text.strip():
            return None
        m = re.fullmatch(r"\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)\s*", text)
        if not m:
            raise ValueError("须为 HH:MM-HH:MM（24 小时制），如 22:00-07:30；空 = 不设")
        a, b, c, d = (int(g) for g in m.groups())
        return cls(time(a, b), time(c, d))

    def ends(self, now: datetime, tz: tzinfo) -> datetime | None:
        """When the quiet hours ``now`` falls in end (aware); None when ``now`` is not quiet."""
        local = now.astimezone(tz)
        t = local.time().replace(tzinfo=None)
        if self.start <= self.end:
            inside = self.start <= t < self.end
        else:  # across midnight
            inside = t >= self.start or t < self.end
        if not inside:
            return None
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > local else end + timedelta(days=1)


def due(ladder: Ladder, taken: int, opened_at: datetime, now: datetime) -> list[int]:
    """Indexes of the steps due now, after the ``taken`` first ones."""
    return [
        i
        for i, step in enumerate(ladder.steps)
        if i >= taken and opened_at + timedelta(minutes=step.minutes) <= now
    ]


def waits(severity: str, quiet: QuietHours | None, now: datetime, tz: tzinfo) -> bool:
    """Whether a step of a finding of ``severity`` waits now: quiet hours, not a veto."""
    return severity != "veto" and quiet is not None and quiet.ends(now, tz) is not None


def step_line(detail: dict[str, object]) -> str:
    """A ``ladder_step`` event in words, for a finding's timeline: "第 2 级（问题出现 2 小时后）：
    已通知值班手机（短信），经 @sms" or "…：未能通知负责人手机（短信）：单位未登记负责人手机"."""
    to = str(detail.get("to", ""))
    who = RUNG_WORDS.get(to, to)
    try:
        minutes = span_minutes(str(detail.get("after", "")))
        when = "问题出现时" if minutes == 0 else f"问题出现 {span_words(minutes)}后"
    except ValueError:
        when = str(detail.get("after", ""))
    head = f"第 {detail.get('step', '?')} 级（{when}）"
    if not detail.get("sent"):
        return f"{head}：未能通知{who}：{detail.get('note') or '原因未记录'}"
    via = f"，经 {detail['channel']}" if detail.get("channel") else ""
    note = f"（{detail['note']}）" if detail.get("note") else ""
    return f"{head}：已通知{who}{via}{note}"
