"""Chinese labels for codes people read in the CLI, messages and reports.

Platform, severity and problem names are the ones the alert messages use
(``alerts.messages``), so a duty officer reads the same words everywhere.
"""

from alerts.messages import KIND_NAMES as KIND
from alerts.messages import PLATFORM_NAMES as PLATFORM
from alerts.messages import SEVERITY_NAMES as SEVERITY

__all__ = ["KIND", "OUTCOME", "PLATFORM", "SEVERITY", "STATUS", "label"]

OUTCOME = {"ok": "正常", "not_found": "不存在", "blocked": "被拦截", "error": "抓取失败"}
STATUS = {"open": "未解决", "resolved": "已解决", "active": "在用", "closed": "已关停"}


def label(table: dict[str, str], code: str) -> str:
    return table.get(code, code)
