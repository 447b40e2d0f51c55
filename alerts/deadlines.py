"""整改期限 in words: by when, and how long is left — or how long it is overdue.

A staleness breach's deadline is the moment the account became overdue, so it is in the past
when the finding opens: "已超期 4 天，须立即更新". Any other problem's is its opening plus the
kind's fix window: "须在 12月8日 16:00 前整改（还剩 2 天）". Our own fetch problems have none:
the unit need not act.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from alerts.notice import FindingNotice
from alerts.text import short, span


def remedy(n: FindingNotice) -> str:
    """The deadline's verb: 更新 for a silent account, 整改 for the rest (and old notices)."""
    return n.remedy or "整改"


def deadline_words(
    deadline: datetime | None, verb: str, now: datetime, tz: tzinfo, *, brief: bool = False
) -> str:
    """``须在 12月8日 16:00 前整改（还剩 2 天）`` or ``已超期 4 天，须立即更新（期限 12月3日
    00:00）``; ``brief`` leaves the overdue one's date out (a line of a list)."""
    if deadline is None:
        return ""
    left = deadline - now
    when = short(deadline, tz, now)
    if left.total_seconds() > 0:
        return f"须在 {when} 前{verb}（还剩 {span(left)}）"
    overdue = f"已超期 {span(left)}，须立即{verb}"
    return overdue if brief else f"{overdue}（期限 {when}）"


def deadline_line(n: FindingNotice, now: datetime, tz: tzinfo, *, brief: bool = False) -> str:
    """The 整改期限 a message states for ``n``; "" where it says none (resolved, test)."""
    if n.event in ("resolved", "test", "opened_resolved"):  # nothing (left) to do
        return ""
    if n.deadline is not None:
        return deadline_words(n.deadline, remedy(n), now, tz, brief=brief)
    if n.category == "patrol":
        return "无（巡查系统自身的问题，只告知运维，主办单位无需整改）"
    if n.severity == "info":
        return "无（仅供知悉）"
    return ""
