"""Column types every table shares: aware UTC times, JSON lists and dicts, a notice.

In a module of its own so that tables kept outside ``models`` (``security_tables``) use the
same types without importing ``models`` (which imports them, to register them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Column, Field

from alerts.notice import FindingNotice, notice_from_dict, notice_to_dict


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class NoticeJSON(TypeDecorator[FindingNotice]):
    """A ``FindingNotice`` stored as the JSON ``notice_to_dict`` writes, read back as one:
    whoever reads the outbox gets the value, not a dict to rebuild it from."""

    impl = JSON
    cache_ok = True

    def process_bind_param(
        self, value: FindingNotice | None, dialect: sa.Dialect
    ) -> dict[str, Any] | None:
        return None if value is None else notice_to_dict(value)

    def process_result_value(
        self, value: dict[str, Any] | None, dialect: sa.Dialect
    ) -> FindingNotice | None:
        return None if value is None else notice_from_dict(value)


def ts(nullable: bool = False, index: bool = False, **kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index), **kw)


def ts_now(index: bool = False) -> Any:
    return Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=index)
    )


def json_col(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))
