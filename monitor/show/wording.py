"""The words the CLI and the console share for the same thing, so a duty officer who reads a
finding in the terminal and on its page reads it the same way.

Here: a finding kind as one label that never repeats itself (``category_kind``), the kind of
a blocked check where the blocker is a government site's own firewall rather than a
platform's anti-bot wall (``kind_label``), a channel named by its kind (钉钉, 企业微信…; never
its address, which may carry a secret), and a deadline's standing (``monitor.show.deadlines``,
re-exported: hours under a day, days after).
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from monitor.show.deadlines import deadline_note, deadline_text, overdue_days
from monitor.show.labels import KIND, KIND_CATEGORY, PATROL_KINDS, label
from monitor.timefmt import shown

__all__ = [
    "NEVER_CHECKED",
    "category_kind",
    "channel_kind",
    "deadline_note",
    "deadline_text",
    "kind_label",
    "overdue_days",
]

NEVER_CHECKED = "未巡查"  # an account no check has looked at yet: no verdict, not "无"

# platforms whose pages are a unit's own site: a wall there is the site's firewall (WAF)
SITE_PLATFORMS = frozenset({"website", "other"})
SITE_BLOCKED = "网站防火墙拦截了巡查"  # the kind; a finding's title adds 暂时无法检查

_CHANNELS = {
    "dingtalk": "钉钉",
    "wecombot": "企业微信",
    "wxteams": "企业微信",
    "feishu": "飞书",
    "lark": "飞书",
    "mailto": "邮件",
    "mailtos": "邮件",
}


def kind_label(kind: str, platform: str = "") -> str:
    """The kind's label; a block on a government site is its firewall, not a platform's."""
    if kind == "blocked" and platform in SITE_PLATFORMS:
        return SITE_BLOCKED
    return label(KIND, kind)


def finding_title(title: str, kind: str, platform: str = "") -> str:
    """A finding's stored title as people read it (titles stored before the site wording
    existed say "被平台反爬拦截" of a government site too)."""
    if kind == "blocked" and platform in SITE_PLATFORMS and "反爬" in title:
        return f"{SITE_BLOCKED}，暂时无法检查"
    return title


def category_kind(kind: str, platform: str = "") -> str:
    """问题类别 and kind in one label, 更新不及时（长期未更新）; never a label inside itself."""
    what, category = kind_label(kind, platform), label(KIND_CATEGORY, kind)
    if not category or category == kind or what.startswith(category):
        return what
    if "（" in what:  # never brackets inside brackets
        return f"{category}：{what}"
    return f"{category}（{what}）"


def channel_kind(url: str) -> str:
    """钉钉, 企业微信, 飞书, 邮件, 短信 or 其他渠道, from a channel's address (resolved)."""
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme in _CHANNELS:
        return _CHANNELS[scheme]
    if "sms" in scheme:
        return "短信"
    if scheme in ("json", "jsons", "form", "forms", "xml", "xmls"):
        return "网络接口"
    return "其他渠道"


__all__ += ["SITE_BLOCKED", "finding_title"]


# an address is ASCII: it ends where Chinese text (or a space, a quote) begins; a trailing
# full stop or bracket belongs to the sentence
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%()]+")
_TRAIL = ".,;:!?)]"


def linked(text: str) -> list[tuple[str, str]]:
    """Prose with its web addresses as (text, address) pieces, plain text with "" — for a page
    that shows them as links, escaped piece by piece (a scraped text is never markup)."""
    out: list[tuple[str, str]] = []
    at = 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(_TRAIL)
        if m.start() > at:
            out.append((text[at : m.start()], ""))
        out.append((url, url))
        at = m.start() + len(url)
    if at < len(text):
        out.append((text[at:], ""))
    return out


def deadline_words(deadline: datetime | None, now: datetime, remedy: str, tz: str) -> str:
    """The 整改期限 as a sentence: "须在 12月8日 23:59 前整改，还剩 2 天" or "应于 … 前更新，
    已超期 3 天"; "" without a deadline."""
    if deadline is None:
        return ""
    when = shown(deadline, tz)
    state = deadline_note(deadline, now)
    if deadline <= now:
        return f"应于 {when} 前{remedy}，{state}"
    return f"须在 {when} 前{remedy}，还{state}"


__all__ += ["deadline_words", "linked"]


# the order a list of findings is read in: 单项否决, 严重, 预警, 提示, then 巡查异常 (our own
# fetch problems, whatever their level) — the same in the console and the CLI
URGENCY = {"veto": 0, "high": 1, "warning": 2, "info": 3}
PATROL_RANK = 4


def urgency(kind: str, severity: str) -> int:
    """0 for a veto … 3 for 提示, 4 for 巡查异常; an unknown level just before 巡查异常."""
    if kind in PATROL_KINDS:
        return PATROL_RANK
    return URGENCY.get(severity, PATROL_RANK - 1)


__all__ += ["PATROL_RANK", "URGENCY", "urgency"]
