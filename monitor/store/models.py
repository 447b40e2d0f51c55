"""Database tables (SQLModel over SQLAlchemy 2).

One metadata for Alembic. All timestamps are timezone-aware UTC (``UTCDateTime``
stores them naive-UTC in SQLite and ``timestamptz`` in PostgreSQL and always hands
back aware values), displayed in Asia/Shanghai by the interfaces.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel
from typing_extensions import TypedDict

from alerts.notice import FindingNotice
from monitor.store.columns import NoticeJSON, UTCDateTime, json_col, ts, ts_now, utcnow  # noqa: F401

# the login-security and audit tables live in their own module; imported here so that the
# one metadata (Alembic, ``xuncha db copy``, tests/test_schema.py) knows them too
from monitor.store.security_tables import (  # noqa: F401
    AuditHead,
    AuditLog,
    KnownAddress,
    PasswordHistory,
)


class Unit(SQLModel, table=True):
    """A government unit: 主办单位 of its accounts, 主管单位 of its children."""

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    name_key: str = Field(default="", max_length=1000)  # pinyin, as Account.name_key
    parent_code: str | None = Field(default=None, foreign_key="unit.code", index=True)
    level: str = Field(default="", max_length=32)  # 省/市/县/部门 ...
    region: str = Field(default="", max_length=64)  # province / city, e.g. 贵州省贵阳市
    # apprise URLs, or "@name" referring to a channel defined in config (keeps secrets
    # out of the registry spreadsheet)
    channels: list[str] = json_col(list)
    # 技术联系渠道: where problems with the unit's mobile clients go ([alerts].it_kinds);
    # empty = the unit's channels
    it_channels: list[str] = json_col(list)
    # 值班手机: the duty officers' mobiles, @-mentioned in the unit's DingTalk and WeCom
    # robot messages (a robot can only ring the phones of people in its group)
    duty_mobiles: list[str] = json_col(list)
    # 负责人手机: the responsible leader's mobiles, texted by an escalation ladder's
    # leader_sms step ([alerts.ladder.*], docs/config.md)
    leader_mobiles: list[str] = json_col(list)
    updated_at: datetime = ts_now()


class Account(SQLModel, table=True):
    """A government new-media account or mobile client, as filed in the registry."""

    id: str = Field(primary_key=True, max_length=64)
    platform: str = Field(max_length=32, index=True)  # weibo, wechat, douyin, website, app, ...
    name: str = Field(max_length=200)  # registered name
    # the name's pinyin, for lists sorted the way people look names up (store/sortkey.py);
    # written with the name by the listeners at the end of this module
    name_key: str = Field(default="", max_length=1000, index=True)
    handle: str = Field(default="", max_length=200)  # platform id: uid, gh_xxx, ...
    url: str = Field(default="", max_length=2000)  # feed / page / profile URL
    reader: str = Field(default="", max_length=32)  # rss, webpage, ... ("" = by platform)
    owner_code: str = Field(foreign_key="unit.code", index=True)  # 主办单位
    kind: str = Field(default="publish", max_length=16)  # publish (发布类) / service (服务类)
    ruleset: str = Field(default="", max_length=64)  # "" = national for publish accounts
    status: str = Field(default="active", max_length=16)  # active / closed
    operator: str = Field(default="", max_length=200)  # 代运营机构
    is_lead: bool = Field(default=False)  # 主账号
    interval_minutes: int | None = Field(default=None)  # overrides the platform interval
    options: dict[str, str] = json_col(dict)  # reader-specific fields
    updated_at: datetime = ts_now()
    # when a registry import (or prune) closed it: a past period's report judges it by the
    # rules it was under then; None while active
    closed_at: datetime | None = ts(nullable=True)


class StoredArtifact(TypedDict):
    """One raw artifact of a snapshot as its row keeps it (the JSON is exactly this): what it
    was, its blob's sha256 and size, where it came from."""

    kind: str  # page, feed, api, download_page, app_report, …
    media_type: str
    sha256: str
    size: int
    url: str


class Snapshot(SQLModel, table=True):
    """Dated evidence of what one probe saw: when, from where, what URL, what came back."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="account.id", index=True)
    taken_at: datetime = ts_now(index=True)
    node: str = Field(default="", max_length=200)  # host that probed
    reader: str = Field(default="", max_length=32)
    url: str = Field(default="", max_length=2000)
    final_url: str | None = Field(default=None, max_length=2000)
    outcome: str = Field(max_length=16, index=True)
    status_code: int | None = None
    detail: str = Field(default="")
    elapsed_ms: int = 0
    latest_post_at: datetime | None = ts(nullable=True)
    post_count: int = 0
    # what an ok look saw of the posts (probes.sight): "posts", "undated" (posts, none dated)
    # or "none" (the platform's own word that there are none); None for other outcomes and
    # looks older than migration 0016. Only "posts" and "none" can be judged for silence
    sight: str | None = Field(default=None, max_length=16)
    # what was seen: the key of its ``Facts`` row (``monitor.store.facts``), so snapshots that
    # saw the same share one; equal neighbours = nothing seen changed (retention thins them)
    facts_hash: str = Field(default="", max_length=64)
    # fingerprint of the profile without its counters (see ``profile_fingerprint``): history
    # finds profile changes by comparing neighbours, without reading 50,000 facts
    profile_hash: str = Field(default="", max_length=16)
    # the profile differs from the account's previous ok snapshot (set on insert)
    profile_changed: bool = Field(default=False)
    # what the check kept of each raw artifact; the bytes live in the blob store
    artifacts: list[StoredArtifact] = json_col(list)
    # what came back was the page of this earlier snapshot (HTTP 304, or the same bytes):
    # its facts and artifacts are this snapshot's too, and nothing was parsed again
    same_as: int | None = Field(default=None)
    # a look whose page said what its last full look said while its counters moved
    # (probes.meaning): the counters it read ({"followers", "posts_count"}), laid over the
    # facts it refers to (monitor.store.facts.snapshot_facts); None: the facts' own
    counters: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))

    __table_args__ = (
        sa.Index("ix_snapshot_account_taken", "account_id", "taken_at"),
        sa.Index("ix_snapshot_profile", "account_id", "profile_changed", "taken_at"),
        # an account's newest ok look and its latest post from the index alone (the console's
        # 最近更新 and its sort by silence; every "last good look" read)
        sa.Index("ix_snapshot_account_ok", "account_id", "outcome", "taken_at", "latest_post_at"),
    )


class AccountState(SQLModel, table=True):
    """What the patrol keeps of each account between checks.

    When it is next due and which node holds it (``monitor.patrol.claims``: a node claims
    due accounts in batches and, while it checks them, ``due_at`` is when its hold lapses,
    so a dead node's accounts come due again by themselves); and what the last look saw,
    so the next check can ask "changed since?" (``etag``, ``last_modified``) and tell an
    unchanged page from a changed one without parsing it (``body_sha256``), judging its
    time-dependent rules from ``rules_digest`` instead of the page.
    """

    __tablename__ = "account_state"

    account_id: str = Field(primary_key=True, foreign_key="account.id", max_length=64)
    due_at: datetime = ts(index=True)
    claimed_by: str | None = Field(default=None, max_length=200)
    checked_at: datetime | None = ts(nullable=True)
    # the last look whose content was read (an ok snapshot with its own facts)
    snapshot_id: int | None = Field(default=None, foreign_key="snapshot.id")
    body_sha256: str = Field(default="", max_length=64)
    etag: str = Field(default="", max_length=300)
    last_modified: str = Field(default="", max_length=100)
    # what the rules read of its posts (probes.checks.staleness.digest_posts), and the
    # judging configuration it was read under: a new one means read the page again
    rules_digest: dict[str, Any] = json_col(dict)
    judged_with: str = Field(default="", max_length=64)
    # what that look said (probes.meaning), when it was read, and the profile's post counter
    # then: a later look that says the same is recorded as unchanged until a fresh read is
    # due ([patrol] evidence_refresh_hours); a counter that grew is read in full
    meaning: str = Field(default="", max_length=64)
    read_at: datetime | None = ts(nullable=True)
    posts_counted: int | None = Field(default=None)
    # until when the rules that move with time stay silent on that look's posts
    # (probes.checks.staleness.quiet_until), and what they were judged by (the rule set and
    # the zone): before then, a look that finds the page as it was and no finding open is
    # recorded without judging (monitor.record.quick)
    quiet_until: datetime | None = ts(nullable=True)
    quiet_for: str = Field(default="", max_length=100)


class Facts(SQLModel, table=True):
    """What checks saw (``Observation.facts()`` without its time and duration), stored once
    per distinct content: an unchanged page's checks all refer to one row, so the database
    grows with change, not with checks. Rows never change; retention removes those no
    snapshot refers to."""

    __tablename__ = "facts"

    sha256: str = Field(primary_key=True, max_length=64)  # of the canonical JSON
    data: bytes = Field(sa_column=Column(sa.LargeBinary, nullable=False))  # zlib of it
    size: int  # bytes of the canonical JSON
    created_at: datetime = ts_now()


class PageScreenshot(SQLModel, table=True):
    """A picture of a stored page (``monitor.service.screenshots``): an HTML blob drawn by
    Chromium offline, once per distinct content (``store.screenshots.picture_key``), so
    every snapshot that saw the same content shows the same picture, whatever noise its
    bytes carried, and a changed page gets a new one. A page that could not be drawn
    keeps its error and the attempts made, so it is not tried again and again."""

    __tablename__ = "page_screenshot"

    # the picture's key (picture_key); rows drawn before 0020: the page's blob
    html_sha256: str = Field(primary_key=True, max_length=64)
    page_sha256: str = Field(default="", max_length=64)  # the HTML drawn ("": = the key)
    png_sha256: str | None = Field(default=None, max_length=64)  # the picture's blob
    media_type: str = Field(default="", max_length=32)  # "image/webp"…; "": a PNG
    size: int = 0  # bytes of the picture
    width: int = 0  # CSS pixels of the viewport it was drawn in (= the picture's width)
    height: int = 0  # of the picture
    page_height: int = 0  # of the page as laid out: more than ``height`` when cut
    browser: str = Field(default="", max_length=100)  # "Chromium 156.0.8078.114"
    rendered_at: datetime = ts_now()  # the last attempt
    elapsed_ms: int = 0
    attempts: int = 0
    error: str = ""  # why the last attempt failed ("" once drawn)
    node: str = Field(default="", max_length=200)


class Finding(SQLModel, table=True):
    """A problem with a life: opened, updated, acknowledged, resolved."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=32)
    severity: str = Field(max_length=16)
    status: str = Field(default="open", max_length=16)  # open / resolved
    title: str = ""
    detail: str = ""
    rule: str = Field(default="", max_length=200)
    deadline: datetime | None = ts(nullable=True)
    evidence: dict[str, Any] = json_col(dict)
    opened_at: datetime = ts_now()
    updated_at: datetime = ts_now()
    resolved_at: datetime | None = ts(nullable=True)
    acknowledged_at: datetime | None = ts(nullable=True)
    acknowledged_by: str | None = Field(default=None, max_length=200)
    notified_at: datetime | None = ts(nullable=True)  # the owner was last told (for repeats)
    escalated_at: datetime | None = ts(nullable=True)  # the supervisor was told
    ladder_step: int = 0  # steps of its severity's [alerts.ladder] taken (alerting.ladder)
    first_snapshot_id: int | None = Field(default=None, foreign_key="snapshot.id")
    last_snapshot_id: int | None = Field(default=None, foreign_key="snapshot.id")

    __table_args__ = (
        # the open ones (lists, timers) and a batch's accounts' open ones by both columns:
        # on status alone SQLite walked every open finding for each batch of checks
        sa.Index("ix_finding_status_account", "status", "account_id"),
        # one open finding per (account, problem), on both backends
        sa.Index(
            "uq_finding_open",
            "account_id",
            "kind",
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
    )


class FindingEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    at: datetime = ts_now()
    event: str = Field(max_length=32)  # opened / updated / escalated / acknowledged / resolved
    snapshot_id: int | None = Field(default=None, foreign_key="snapshot.id")
    detail: dict[str, Any] = json_col(dict)


class Notification(SQLModel, table=True):
    """The outbox: one message to one channel, written with the finding change it reports.

    Workers claim rows with a conditional UPDATE (status + lease), so several
    processes are safe and a crash resumes where it stopped.
    """

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=200, unique=True)
    finding_id: int | None = Field(default=None, foreign_key="finding.id", index=True)
    unit_code: str = Field(max_length=64, index=True)
    channel: str = Field(max_length=2000)  # apprise URL or "@name"
    channel_key: str = Field(default="", max_length=32, index=True)  # see alerting.channels
    kind: str = Field(default="finding", max_length=16)  # finding/group/digest/ops/test
    items: int = 0  # alert items this message carries
    event: str = Field(max_length=32)
    title: str = ""
    body: str = ""
    # what robots colour it by (alerts.notice.Level), worked out when it is written; None:
    # written before 0023, worked out when sent (monitor.alerting.deliver)
    level: str | None = Field(default=None, max_length=16)
    created_at: datetime = ts_now()
    due_at: datetime = ts_now(index=True)
    # pending / sending / sent / dead (gave up) / held (channel refused: kept until fixed)
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_until: datetime | None = ts(nullable=True)
    sent_at: datetime | None = ts(nullable=True)
    last_error: str = ""


class Delivery(SQLModel, table=True):
    """Each attempt to deliver a notification, successful or not."""

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", index=True)
    channel_key: str = Field(default="", max_length=32)  # the rate window counts attempts
    at: datetime = ts_now()  # when the attempt started
    node: str = Field(default="", max_length=200)
    ok: bool = False
    permanent: bool = False
    error: str = ""
    elapsed_ms: int = 0

    __table_args__ = (sa.Index("ix_delivery_channel_at", "channel_key", "at"),)


class AlertItem(SQLModel, table=True):
    """One finding change to tell one channel: routed in the finding's transaction, then
    grouped with its neighbours into a message when the group wait is over and the channel
    has room (Alertmanager's alert → group → notification)."""

    __tablename__ = "alert_item"

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=200, unique=True)
    finding_id: int | None = Field(default=None, foreign_key="finding.id", index=True)
    account_id: str = Field(default="", max_length=64)
    unit_code: str = Field(max_length=64)  # the unit whose channel this is
    channel: str = Field(max_length=2000)
    channel_key: str = Field(max_length=32)
    event: str = Field(max_length=32)  # opened/updated/resolved/reminder/escalated/
    # opened_resolved (an opening told only after its finding closed: alerting.compose)
    kind: str = Field(default="", max_length=32)
    severity: str = Field(default="", max_length=16)
    platform: str = Field(default="", max_length=32)
    # the notice as it was at the change (stored as JSON, read as the value)
    notice: FindingNotice = Field(sa_column=sa.Column(NoticeJSON(), nullable=False))
    created_at: datetime = ts_now()
    due_at: datetime = ts_now()
    # queued / sent (in a message) / silenced / skipped (opened and resolved unseen)
    status: str = Field(default="queued", max_length=16)
    notification_id: int | None = Field(default=None, foreign_key="notification.id", index=True)
    silence_id: int | None = Field(default=None, foreign_key="silence.id")

    __table_args__ = (sa.Index("ix_alert_item_queue", "status", "channel_key", "due_at"),)


class ChannelState(SQLModel, table=True):
    """What xuncha knows about one channel: throttled by the provider, or refusing us.

    Its row is also the lock under which a channel's rate budget is spent, so two
    dispatchers (two nodes) never together exceed a robot's limit."""

    __tablename__ = "channel_state"

    key: str = Field(primary_key=True, max_length=32)
    channel: str = Field(default="", max_length=2000)  # "@name" or the literal URL
    url_hash: str = Field(default="", max_length=32)  # a changed URL un-breaks the channel
    throttled_until: datetime | None = ts(nullable=True)
    broken_since: datetime | None = ts(nullable=True)
    broken_error: str = ""
    retry_at: datetime | None = ts(nullable=True)  # next try of a broken channel
    updated_at: datetime = ts_now()


class Silence(SQLModel, table=True):
    """A time-boxed mute (silence) or planned pause (maintenance), with who and why.

    Matchers left empty match everything; ``unit_code`` covers the units below it too."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="silence", max_length=16)  # silence / maintenance
    unit_code: str | None = Field(default=None, max_length=64)
    account_id: str | None = Field(default=None, max_length=64)
    platform: str | None = Field(default=None, max_length=32)
    finding_kind: str | None = Field(default=None, max_length=32)
    starts_at: datetime = ts_now()
    ends_at: datetime = ts(index=True)
    created_by: str = Field(max_length=200)
    comment: str = ""
    created_at: datetime = ts_now()
    expired_at: datetime | None = ts(nullable=True)  # ended early by hand


class ServiceState(SQLModel, table=True):
    """Small durable state of the service itself (self-watch problems), so a restart
    neither repeats an ops alert nor forgets a recovery is owed."""

    __tablename__ = "service_state"

    key: str = Field(primary_key=True, max_length=200)
    value: dict[str, Any] = json_col(dict)
    updated_at: datetime = ts_now()


# -- web console (issue 7) ----------------------------------------------------------------------


class User(SQLModel, table=True):
    """A console user. ``admin`` sees everything; ``supervisor`` its unit and all units below;
    ``duty`` (值班) its own unit only; ``system``, ``security`` and ``audit`` are the three
    separated administrators (monitor/web/roles.py), who see no unit's data."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    password_hash: str = Field(default="", max_length=500)  # argon2id
    role: str = Field(max_length=16)  # admin / supervisor / duty / system / security / audit
    unit_code: str | None = Field(default=None, foreign_key="unit.code", max_length=64)
    created_at: datetime = ts_now()
    disabled: bool = Field(default=False)
    # the TOTP second factor (RFC 6238, monitor/web/totp.py): its base32 secret, None = not
    # enrolled; the last time step a code was accepted for, so no code is taken twice
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_last_step: int | None = Field(default=None)


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API; only its sha256 is kept (shown once at creation).
    A user has any number; each can expire, and is revoked (never deleted, so the list
    shows it) one by one, all at once, by a new password or by disabling the user."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    label: str = Field(default="", max_length=100)  # what it is for, as the admin wrote
    created_at: datetime = ts_now()
    expires_at: datetime | None = ts(nullable=True)  # None: until revoked
    revoked_at: datetime | None = ts(nullable=True)
    last_used_at: datetime | None = ts(nullable=True)  # written at most once a minute


class LoginFailure(SQLModel, table=True):
    """An attempt to guess a secret, recorded before it is judged (``monitor/web/throttle``):
    ``kind`` "password" is a console login, counted per user name as typed (``name``);
    ``kind`` "token" is a wrong API token, counted per client address (``name`` holds it).
    Password attempts are counted per client ``address`` as well. In the database so every
    node and worker sharing it counts the same."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="password", max_length=16)
    name: str = Field(max_length=100, index=True)  # as typed: unknown names count too
    address: str = Field(default="", max_length=64, index=True)  # the client: counted too
    at: datetime = ts(index=True)


class WebSession(SQLModel, table=True):
    """A console login, server-side so that logging out, disabling a user or a new
    password really ends it, on every node sharing the database."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # sha256 of the cookie value
    user_id: int = Field(foreign_key="user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = ts_now()
    expires_at: datetime = ts(index=True)  # the absolute end ([web] session_hours)
    # the last request (written at most once a minute): a login idle for [web] idle_minutes
    # ends; None (a login older than migration 0018) counts from created_at
    last_seen_at: datetime | None = ts(nullable=True)


class PlatformSession(SQLModel, table=True):
    """A logged-in session an operator gave xuncha for one platform (``monitor.sessions``).

    Its cookies are sealed (AES-GCM, ``monitor.store.sealing``) with a key kept outside the
    database: a stolen database alone reveals no cookie. ``key_id`` names the key (a hash
    that reveals nothing of it), so a wrong key is a plain message, not a failed decryption.
    A removed session keeps its row for the record, its cookies erased."""

    __tablename__ = "platform_session"
    __table_args__ = (sa.Index("ix_platform_session_platform_state", "platform", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    label: str = Field(default="", max_length=100)
    sealed: bytes = Field(sa_column=Column(sa.LargeBinary(), nullable=False))
    key_id: str = Field(default="", max_length=32)
    cookie_count: int = 0
    state: str = Field(default="active", max_length=16)  # active / expired / removed
    source: str = Field(default="file", max_length=16)  # file (imported) / qr (扫码登录)
    created_by: str = Field(default="", max_length=100)
    created_at: datetime = ts_now()
    last_used_at: datetime | None = ts(nullable=True)  # the last check that used it
    last_good_at: datetime | None = ts(nullable=True)  # the last one that saw content with it
    expires_at: datetime | None = ts(nullable=True)  # earliest expiry of its login cookies
    pace_seconds: float = 30.0  # at least this long between two uses
    walls: int = 0  # login walls met in a row
    ended_at: datetime | None = ts(nullable=True)  # expired or removed
    ended_why: str = Field(default="", max_length=500)


# -- names kept sortable by pinyin (issue 30) --------------------------------------------------


def _name_key(_mapper: object, _conn: object, target: Account | Unit) -> None:
    from monitor.store.sortkey import pinyin_key

    target.name_key = pinyin_key(target.name or "")


for _cls in (Account, Unit):
    sa.event.listen(_cls, "before_insert", _name_key)
    sa.event.listen(_cls, "before_update", _name_key)
