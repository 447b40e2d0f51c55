"""How times are shown to people: one zone, one format, everywhere.

Stored times are aware UTC (``monitor.store.models.UTCDateTime``). People read them in the
configured zone (``timezone``, Asia/Shanghai by default): ``2026-12-04 09:11`` in tables,
pages, reports and messages, ``2026-12-04 09:11:05`` where a second matters (a snapshot's
time as evidence), and ISO 8601 with the zone's offset (``2026-12-04T09:11:05+08:00``) in
every ``--json`` and API answer, so a reader never has to guess which clock a time is on.
Times inside stored facts and evidence (UTC ISO strings) are shown through ``parse`` and
``shown_in``; the stored values themselves never change (``--json`` hands them on verbatim,
they are the record that ``facts_hash`` covers). ``alerts.messages`` renders message times
with the same format (tests hold them equal).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"
MINUTES = "%Y-%m-%d %H:%M"
SECONDS = "%Y-%m-%d %H:%M:%S"
NONE = "—"
# a whole string that is an instant: a date, a time and an offset, as ``isoformat()`` writes
# an aware time into facts and evidence (a time without an offset is not known to be UTC)
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})")


@lru_cache(maxsize=8)
def zone(tz: str = DEFAULT_TZ) -> ZoneInfo:
    return ZoneInfo(tz)


def local(dt: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """``dt`` in the display zone (a naive value is taken as UTC, as the database stores it)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(zone(tz))


def shown(dt: datetime | None, tz: str = DEFAULT_TZ, *, seconds: bool = False) -> str:
    """``2026-12-04 09:11`` (or with seconds); "—" for no time."""
    if dt is None:
        return NONE
    return local(dt, tz).strftime(SECONDS if seconds else MINUTES)


def iso(dt: datetime | None, tz: str = DEFAULT_TZ) -> str | None:
    """ISO 8601 in the display zone with its offset, to the second; None for no time."""
    if dt is None:
        return None
    return local(dt, tz).isoformat(timespec="seconds")


def local_date(dt: datetime, tz: str = DEFAULT_TZ) -> date:
    return local(dt, tz).date()


def parse(text: str) -> datetime | None:
    """An ISO time as stored in facts and evidence (UTC ISO strings), aware; None if not one."""
    try:
        dt = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def shown_in(value: Any, tz: str = DEFAULT_TZ) -> Any:
    """A JSON value (facts, evidence) for people: every string that is an ISO instant (with
    its offset) becomes ``shown``; everything else stays as it is. Returns a copy: the stored
    value is not touched. For what we wrote (evidence, facts' own times), not for scraped
    text that merely looks like a time (a profile field): that is shown as scraped.
    """
    if isinstance(value, str):
        text = value.strip()
        dt = parse(text) if _INSTANT.fullmatch(text) else None
        return value if dt is None else shown(dt, tz)
    if isinstance(value, dict):
        return {k: shown_in(v, tz) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown_in(v, tz) for v in value]
    return value


def zone_label(tz: str = DEFAULT_TZ) -> str:
    """How a page or report names the zone its times are in: 北京时间 for the default."""
    return "北京时间" if tz == DEFAULT_TZ else f"{tz} 时间"
