"""The one clock a process reads "now" from.

Everything that dates something (a check, a finding, an outbox row, a reminder, a digest,
an acknowledgement, a report's "统计截至") asks the app's clock, never ``datetime.now``
directly: so a test, a replay or the demo can run the whole chain at a chosen instant, and
two parts of one process never disagree about what time it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

#: returns the current instant, timezone-aware UTC
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class ClockError(ValueError):
    """``XUNCHA_CLOCK`` holds something that is not an instant."""


CLOCK_ENV = "XUNCHA_CLOCK"


def shifted_clock(start: datetime) -> Clock:
    """A clock that reads ``start`` now and runs on from there at the real rate."""
    offset = start.astimezone(UTC) - datetime.now(UTC)
    return lambda: datetime.now(UTC) + offset


def clock_from_env(environ: Mapping[str, str] = os.environ) -> Clock:
    """The system clock, or — with ``XUNCHA_CLOCK=2026-12-07T09:11:00+08:00`` — one that
    starts at that instant and runs on: a command (or a whole ``xuncha run``) then behaves
    as it would at that hour, for replays, training and tests of time-dependent behaviour.
    """
    text = environ.get(CLOCK_ENV, "").strip()
    if not text:
        return system_clock
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise ClockError(
            f"{CLOCK_ENV}='{text}' 不是时间：应为带时区的 ISO 时间，如 2026-12-07T09:11:00+08:00"
        ) from None
    if start.tzinfo is None:
        raise ClockError(f"{CLOCK_ENV}='{text}' 缺少时区：请写明偏移，如 +08:00 或 Z")
    return shifted_clock(start)
