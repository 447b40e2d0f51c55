"""The audit log as the CLI and the console export it (CSV with Chinese headers, or JSON).

Every field is exported, the hashes too, and the time to the microsecond with the zone's
offset: the instant ``monitor.store.audit.row_hash`` hashed, so the chain can be checked
from the file alone.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from typing import Any

from monitor import timefmt
from monitor.store import audit
from monitor.store.security_tables import AuditLog

COLUMNS = [
    ("seq", "序号"), ("at", "时间"), ("actor", "操作人"), ("via", "途径"),
    ("action_label", "操作"), ("action", "操作代码"), ("success", "结果"), ("target", "对象"),
    ("address", "地址"), ("detail", "详情"), ("algo", "算法"), ("prev_hash", "前序哈希"),
    ("hash", "哈希"),
]  # fmt: skip


def day_start(text: str, tz: str, *, end: bool = False) -> datetime | None:
    """A local date (2026-12-08) as the instant its day starts (``end``: the next day's,
    so a range "until 12-08" includes that day); None for no text; ValueError in Chinese."""
    if not text.strip():
        return None
    try:
        d = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"日期 '{text}' 无效，应为 2026-12-08 这样的格式") from None
    return datetime.combine(d + timedelta(days=1) if end else d, time(), timefmt.zone(tz))


def row_dict(row: AuditLog, tz: str) -> dict[str, Any]:
    """A row for --json, the API and exports."""
    d = audit.as_dict(row)
    d["at"] = timefmt.local(row.at, tz).isoformat(timespec="microseconds")
    return d


def details(row: AuditLog) -> str:
    """The detail as ``key=value`` words, for a table cell (none: empty)."""
    try:
        detail = json.loads(row.detail)
    except ValueError:
        return str(row.detail)
    if not isinstance(detail, dict):
        return str(detail)

    def word(v: Any) -> str:
        if v is None:
            return "—"
        if isinstance(v, dict | list):
            return json.dumps(v, ensure_ascii=False, sort_keys=True)
        return str(v)

    return "，".join(f"{k}={word(v)}" for k, v in detail.items())


def to_csv(rows: list[dict[str, Any]]) -> str:
    """``row_dict`` rows as CSV, a header of Chinese column names first."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([label for _, label in COLUMNS])
    for r in rows:
        cells = []
        for key, _ in COLUMNS:
            v = r[key]
            if key == "success":
                v = "成功" if v else "失败"
            elif key == "detail":
                v = json.dumps(v, ensure_ascii=False, sort_keys=True)
            cells.append(v)
        w.writerow(cells)
    return buf.getvalue()
