"""alert routing, escalation, silences, channel state (issue 6)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 17:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.models import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("unit") as b:
        b.add_column(sa.Column("it_channels", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("finding") as b:
        b.add_column(_ts("notified_at"))
        b.add_column(_ts("escalated_at"))
    with op.batch_alter_table("notification") as b:
        b.add_column(sa.Column("channel_key", sa.String(32), nullable=False, server_default=""))
        b.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="finding"))
        b.add_column(sa.Column("items", sa.Integer(), nullable=False, server_default="0"))
        b.create_index("ix_notification_channel_key", ["channel_key"])
    with op.batch_alter_table("delivery") as b:
        b.add_column(sa.Column("channel_key", sa.String(32), nullable=False, server_default=""))
    op.create_index("ix_delivery_channel_at", "delivery", ["channel_key", "at"])
    # messages written before this revision were about one finding each
    op.execute("UPDATE notification SET items = 1 WHERE finding_id IS NOT NULL")
    op.execute("UPDATE finding SET notified_at = opened_at WHERE status = 'open'")

    op.create_table(
        "silence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=True),
        sa.Column("account_id", sa.String(64), nullable=True),
        sa.Column("platform", sa.String(32), nullable=True),
        sa.Column("finding_kind", sa.String(32), nullable=True),
        _ts("starts_at", False),
        _ts("ends_at", False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("comment", sa.String(), nullable=False),
        _ts("created_at", False),
        _ts("expired_at"),
    )
    op.create_index("ix_silence_ends_at", "silence", ["ends_at"])
    op.create_table(
        "channel_state",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("channel", sa.String(2000), nullable=False),
        sa.Column("url_hash", sa.String(32), nullable=False),
        _ts("throttled_until"),
        _ts("broken_since"),
        sa.Column("broken_error", sa.String(), nullable=False),
        _ts("retry_at"),
        _ts("updated_at", False),
    )
    op.create_table(
        "alert_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dedup_key", sa.String(200), nullable=False, unique=True),
        sa.Column("finding_id", sa.Integer(), sa.ForeignKey("finding.id"), nullable=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(2000), nullable=False),
        sa.Column("channel_key", sa.String(32), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("notice", sa.JSON(), nullable=False),
        _ts("created_at", False),
        _ts("due_at", False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notification_id", sa.Integer(), sa.ForeignKey("notification.id"), nullable=True),
        sa.Column("silence_id", sa.Integer(), sa.ForeignKey("silence.id"), nullable=True),
    )
    op.create_index("ix_alert_item_finding_id", "alert_item", ["finding_id"])
    op.create_index("ix_alert_item_notification_id", "alert_item", ["notification_id"])
    op.create_index("ix_alert_item_queue", "alert_item", ["status", "channel_key", "due_at"])


def downgrade() -> None:
    op.drop_table("alert_item")
    op.drop_table("channel_state")
    op.drop_index("ix_silence_ends_at", "silence")
    op.drop_table("silence")
    op.drop_index("ix_delivery_channel_at", "delivery")
    with op.batch_alter_table("delivery") as b:
        b.drop_column("channel_key")
    with op.batch_alter_table("notification") as b:
        b.drop_index("ix_notification_channel_key")
        b.drop_column("items")
        b.drop_column("kind")
        b.drop_column("channel_key")
    with op.batch_alter_table("finding") as b:
        b.drop_column("escalated_at")
        b.drop_column("notified_at")
    with op.batch_alter_table("unit") as b:
        b.drop_column("it_channels")
