"""Chinese labels for codes people read in the CLI, the console, messages and reports.

Platform names are the platforms' own declarations (``probes.platforms``), severity names
the ones the alert messages use (``alerts.messages``), and kind and category names the kind
catalogue's (``probes.checks.kinds``), which also fills the notices messages are rendered
from: a duty officer reads the same words everywhere.
"""

from collections.abc import Iterator, Mapping

from alerts.messages import SEVERITY_NAMES as SEVERITY
from probes.checks.kinds import CATEGORIES, KINDS, PATROL_KINDS
from probes.platforms.spec import PLATFORMS

__all__ = [
    "ARTIFACT",
    "CATEGORY",
    "DELIVERY",
    "KIND",
    "KIND_CATEGORY",
    "OUTCOME",
    "PATROL_CATEGORY",
    "PATROL_KINDS",
    "PLATFORM",
    "READER",
    "SEVERITY",
    "STATUS",
    "capped_note",
    "label",
]


class _PlatformNames(Mapping[str, str]):
    """code -> the platform's name, read live from its declaration (``probes.platforms``)."""

    def __getitem__(self, code: str) -> str:
        return PLATFORMS[code].name

    def __iter__(self) -> Iterator[str]:
        return iter(PLATFORMS)

    def __len__(self) -> int:
        return len(PLATFORMS)


PLATFORM: Mapping[str, str] = _PlatformNames()
KIND = {code: k.label for code, k in KINDS.items()}
CATEGORY = {code: c.label for code, c in CATEGORIES.items()}
KIND_CATEGORY = {code: k.category_label for code, k in KINDS.items()}  # kind -> 问题类别
OUTCOME = {
    "ok": "正常",
    "not_found": "不存在",
    "blocked": "被拦截",
    "error": "抓取失败",
    "unreadable": "无法读取内容",
}
STATUS = {"open": "未解决", "resolved": "已解决", "active": "在用", "closed": "已关停"}
# a message's state in the outbox (Notification.status)
DELIVERY = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "dead": "已放弃",
    "held": "暂存（渠道拒收）",
}


def label(table: dict[str, str], code: str) -> str:
    return table.get(code, code)


def capped_note(facts: dict[str, object]) -> str:
    """What a snapshot left out of its page (``probes.model.cap_posts``), e.g. "共 26000 条，
    保留最新 500 条"; "" when it kept everything."""
    parts = []
    total, kept = facts.get("posts_total"), facts.get("posts_kept")
    if total is not None and kept is not None:
        parts.append(f"共 {total} 条，保留最新 {kept} 条")
    if texts := facts.get("texts_cut"):
        parts.append(f"{texts} 条正文过长已截断")
    if links := facts.get("links_cut"):
        parts.append(f"{links} 条链接过多已截断")
    return "；".join(parts)


# -- added for the console (issue 17): evidence files, readers, deadlines -------------------

ARTIFACT = {
    "page": "网页源码",
    "feed": "订阅源",
    "json": "接口数据",
    "screenshot": "截图",
    "download_page": "下载页",
    "app_report": "客户端检查记录",
}
READER = {
    "rss": "订阅源（RSS）",
    "webpage": "网页",
    "website": "网站",
    "app": "客户端下载检查",
}
PATROL_CATEGORY = "patrol"  # kinds about our own fetch: 巡查异常, no verdict on the unit

# kinds that say our patrol could not see the account (``暂时无法检查``): shown apart as
# 巡查异常, never counted as the unit's 预警 (``probes.checks.kinds.PATROL_KINDS``)
