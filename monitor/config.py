"""Configuration: one TOML file, environment overrides, defaults that work with no file.

Precedence (highest first): ``XUNCHA_*`` environment variables, the TOML file
(``--config`` or ``XUNCHA_CONFIG``), built-in defaults. Nested keys use ``__`` in
environment names: ``XUNCHA_DATABASE__URL``, ``XUNCHA_CHANNELS__OPS``. Secrets
(channel URLs with tokens) belong in the environment or in ``[channels]``, not in
the registry spreadsheet, which refers to them as ``@name``.

Every key is documented in ``docs/config.md``; keep the two in step.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from alerts.ladder import Ladder, QuietHours
from alerts.routing import AlertRoute
from alerts.templates import AlertTemplates
from monitor.config_tables import (  # the console's and the reports' tables
    ActivityConfig,
    ReportConfig,
    Section,
    WebConfig,
)
from monitor.config_tables import ReportFontsConfig as ReportFontsConfig  # named here too


def _declared_interval(platform: str) -> int | None:
    """The platform's own default interval (its declaration: a browser page costs about half
    a second of a core, so browser platforms are read less often); None where it has none."""
    from probes.platforms.spec import PLATFORMS  # the declarations only: no reader loads

    spec = PLATFORMS.get(platform)
    return spec.interval_minutes if spec else None


class ConfigError(Exception):
    """A configuration problem, worded for the person who wrote the file."""


def default_data_dir() -> Path:
    """systemd's StateDirectory when run as a service, else the XDG data dir."""
    if state := os.environ.get("STATE_DIRECTORY"):
        return Path(state.split(":")[0])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "xuncha"


class DatabaseConfig(Section):
    url: str = ""  # "" = SQLite file <data_dir>/xuncha.db
    echo: bool = False


class PatrolConfig(Section):
    default_interval_minutes: int = Field(60, ge=1)
    jitter_seconds: int = Field(300, ge=0)  # spread of first runs, so a start does not fire all
    # probes running at once in this process: enough to keep it and its writer process busy
    # on two cores when work is waiting (at 8, bench/peer.py's same-bytes pages kept the
    # whole tree at 0.74-0.86 of one core; 32 checked 50-65 % more a second)
    max_concurrency: int = Field(32, ge=1)
    probe_timeout_seconds: int = Field(180, ge=5)  # a probe is abandoned after this
    # a check's judging (the detectors, in the writer process) is cut off after this: the
    # snapshot then says 判定超时 (a fetch_failed finding), the batch's other checks go on
    judge_timeout_seconds: float = Field(30.0, gt=0)
    registry_sync_seconds: int = Field(300, ge=10)  # how often schedules follow the registry
    stop_grace_seconds: float = Field(20.0, gt=0)  # SIGTERM → gone within this, whatever runs
    # where checks' records are written: "auto" = a writer process under `xuncha run`, the
    # command's own thread for one-off commands; "process" / "thread" = always so
    writer: Literal["auto", "process", "thread"] = "auto"
    # a page that says what its last full look said (only counters, tokens, nonces moved)
    # is recorded as a look at that page; it is read, judged and its evidence stored in full
    # again at least this often. 0 = every page whose bytes changed is read in full
    evidence_refresh_hours: float = Field(24.0, ge=0)


class PlatformConfig(Section):
    interval_minutes: int | None = Field(None, ge=1)
    # base URLs the platform's reader contacts instead of the real hosts (a mirror, a proxy
    # or a local simulator), by the reader's own keys, e.g. {m = "http://127.0.0.1:8000"}
    origins: dict[str, str] = Field(default_factory=dict)


class HttpConfig(Section):
    timeout_seconds: float = Field(20.0, gt=0)
    connect_timeout_seconds: float = Field(10.0, gt=0)
    max_body_bytes: int = Field(5_000_000, ge=1024)
    retries: int = Field(2, ge=0, le=10)
    backoff_seconds: float = Field(0.5, ge=0)
    max_connections: int = Field(32, ge=1)  # at least [patrol] max_concurrency
    per_host: int = Field(2, ge=1)
    max_redirects: int = Field(10, ge=0)
    user_agent: str = ""  # "" = the fetcher's default
    proxy: str = ""
    verify_tls: bool = True


def _messenger_rates() -> dict[str, int]:
    from alerts.messengers import default_rates

    return default_rates()


class AlertsConfig(Section):
    enabled: bool = True
    dispatch_interval_seconds: int = Field(10, ge=1)
    max_attempts: int = Field(30, ge=1)  # transient failures before a message is given up
    retry_base_seconds: float = Field(30.0, ge=0)
    retry_max_seconds: float = Field(600.0, ge=1)
    send_timeout_seconds: float = Field(15.0, gt=0)
    lease_seconds: int = Field(120, ge=10)  # a claimed message is retried after this
    console_url: str = ""  # base URL of the web console, for links in messages
    rectify_link_days: int = Field(7, ge=1, le=90)  # a message's 已整改 link works this long
    ops_channels: list[str] = Field(default_factory=list)  # told about fetch/blocking problems
    # -- grouping and pacing ------------------------------------------------------------------
    group_wait_seconds: int = Field(60, ge=0)  # findings for one channel within this go as one
    max_items_per_message: int = Field(40, ge=1)  # a longer group is split (and paced)
    repeat_minutes: int = Field(1440, ge=0)  # remind of open, unacknowledged findings; 0 = never
    # messages a minute per channel, by apprise scheme or by "@name"; 0 = no limit; default:
    # each messenger's own (alerts.messengers: DingTalk and WeCom 20, Feishu and Lark 100)
    rate_limits: dict[str, int] = Field(default_factory=lambda: _messenger_rates())
    throttle_minutes: int = Field(10, ge=1)  # leave a channel alone after "too fast"
    broken_retry_minutes: int = Field(60, ge=1)  # a refused (broken) channel is retried after
    # -- escalation ---------------------------------------------------------------------------
    escalate_after_minutes: int | None = Field(1440, ge=0)  # None = never
    # severities or kinds escalated to the supervisor the moment they open
    escalate_immediately: list[str] = Field(default_factory=lambda: ["veto", "theft"])
    it_kinds: list[str] = Field(default_factory=lambda: ["install"])  # to 技术联系渠道
    routes: list[AlertRoute] = Field(default_factory=list)  # first match wins
    # -- the escalation ladder (alerts.ladder; docs/config.md [alerts.ladder]) ------------------
    # per severity (veto / high / warning): steps to the unit, its 值班手机 and 负责人手机 by
    # SMS, the supervisor; a severity without one keeps escalate_after_minutes
    ladder: dict[str, Ladder] = Field(default_factory=dict)
    sms_channel: str = ""  # where SMS steps go ("@sms" or an sms+https:// URL)
    quiet_hours: str = ""  # local "22:00-07:30": ladder steps and reminders wait, a veto never
    # -- digests ------------------------------------------------------------------------------
    daily_digest_time: str = "08:30"  # local time; "" = no daily digest
    weekly_digest_day: int = Field(1, ge=1, le=7)  # ISO weekday (1 = Monday)
    weekly_digest_time: str = "09:00"  # local time; "" = no weekly digest
    # -- delivery -----------------------------------------------------------------------------
    # hosts of the bots xuncha talks to itself (to read errcode): a proxy or a test stand-in
    origins: dict[str, str] = Field(default_factory=dict)  # {dingtalk = "https://…"}
    templates: AlertTemplates = Field(default_factory=lambda: AlertTemplates())

    @field_validator("daily_digest_time", "weekly_digest_time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if v and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError("must be HH:MM (24-hour), or empty to turn it off")
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str) -> str:
        QuietHours.parse(v)
        return v

    @field_validator("ladder")
    @classmethod
    def _severities(cls, v: dict[str, Ladder]) -> dict[str, Ladder]:
        wrong = sorted(set(v) - {"veto", "high", "warning"})
        if wrong:
            raise ValueError(f"ladder 只能按严重程度 veto / high / warning 设置，不认识：{wrong}")
        return v

    @model_validator(mode="after")
    def _sms_somewhere(self) -> AlertsConfig:
        for severity, ladder in self.ladder.items():
            for step in ladder.steps:
                if step.to.endswith("_sms") and not (step.channel or self.sms_channel):
                    raise ValueError(
                        f"[alerts.ladder.{severity}] 的 {step.to} 步骤需要短信渠道："
                        "设置 [alerts] sms_channel 或该步骤的 channel"
                    )
        return self


class CalendarConfig(Section):
    extra_files: list[Path] = Field(default_factory=list)  # make-up days, holidays (TOML)
    # next year's arrangement missing: a warning until New Year is this close, then a problem
    next_year_required_days: int = Field(14, ge=0, le=366)


class ContentConfig(Section):
    # the user's own word lists, rosters, lexicons and domain lists, laid over the shipped
    # ones (probes.checks.lists; docs/config.md [content]); None = <data_dir>/lists
    lists_dir: Path | None = None
    # shipped list files not used, named as under probes/data: "roster/demo.csv", …
    disable: list[str] = Field(default_factory=list)


class LoggingConfig(Section):
    level: str = "info"
    format: str = "auto"  # auto (console on a terminal, JSON otherwise) / json / console

    @field_validator("format")
    @classmethod
    def _format(cls, v: str) -> str:
        if v not in {"auto", "json", "console"}:
            raise ValueError("must be auto, json or console")
        return v


class BrowserConfig(Section):
    executable: Path = Path("/usr/bin/chromium")  # Debian's Chromium; playwright uses it too
    max_pages: int = Field(2, ge=1)  # pages open at once (each ~55 MiB)
    recycle_after_pages: int = Field(500, ge=1)  # relaunch the browser after this many pages
    memory_ceiling_mb: int = Field(1200, ge=200)  # relaunch when Chromium uses more
    page_timeout_seconds: float = Field(30.0, gt=0)


class MetricsConfig(Section):
    enabled: bool = True
    address: str = "127.0.0.1"  # listen address of the Prometheus endpoint
    port: int = Field(9464, ge=0, le=65535)  # 0 = any free port (tests)


class ServiceConfig(Section):
    status_interval_seconds: float = Field(15.0, gt=0)  # how often STATUS= is refreshed


class SelfwatchConfig(Section):
    enabled: bool = True
    interval_seconds: int = Field(300, ge=1)  # how often the patrol checks itself
    blocked_window: int = Field(50, ge=1)  # latest snapshots per platform looked at
    blocked_ratio: float = Field(0.5, gt=0, le=1)  # share of accounts blocked = a problem
    blocked_min_accounts: int = Field(3, ge=1)  # fewer accounts seen: no judgement
    check_browser: bool = True
    browser_timeout_seconds: float = Field(30.0, gt=0)
    min_free_mb: int = Field(1024, ge=0)  # free space under data_dir below this = a problem
    outbox_max_pending: int = Field(500, ge=1)  # messages waiting to be sent
    outbox_max_age_minutes: int = Field(30, ge=1)  # a due message older than this = stuck


class RetentionConfig(Section):
    enabled: bool = True
    interval_seconds: int = Field(3600, ge=10)  # how often thinning and blob GC run
    thin_after_days: float = Field(30.0, ge=0)  # unchanged snapshots older than this thin out
    keep_one_per_hours: float = Field(24.0, ge=0)  # of those, keep one per account per period
    batch_size: int = Field(2000, ge=1)  # rows deleted per transaction (short write locks)
    vacuum_interval_seconds: int = Field(60, ge=1)  # SQLite incremental_vacuum timer
    vacuum_pages: int = Field(256, ge=1)  # pages freed per step, never a full VACUUM


class ScreenshotsConfig(Section):
    """Pictures of stored web pages and WeChat articles, drawn offline by nodes that probe
    (``monitor.service.screenshots``)."""

    enabled: bool = True
    interval_seconds: int = Field(60, ge=5)  # how often the job looks for pages to draw
    per_run: int = Field(20, ge=1)  # pages drawn per run at most (one at a time)
    # the first run draws the pages of snapshots this recent; older ones on demand
    backfill_days: float = Field(7.0, ge=0)
    width: int = Field(1280, ge=320, le=4096)  # CSS pixels, as a desktop browser shows it
    mobile_width: int = Field(390, ge=240, le=1024)  # for the readers below, as a phone
    mobile_readers: list[str] = Field(default_factory=lambda: ["wechat"])
    # taller pages are cut (and say so): three A4 pages of an annex at 1280 pixels wide
    max_height: int = Field(4000, ge=600, le=16384)
    timeout_seconds: float = Field(15.0, gt=0)  # to load and draw one page
    max_attempts: int = Field(3, ge=1)  # a page that fails this often is left alone
    # stored as: WebP (a tenth of a PNG's bytes, less CPU), JPEG, or PNG (lossless, heavy)
    format: Literal["webp", "jpeg", "png"] = "webp"
    quality: int = Field(80, ge=1, le=100)  # of WebP and JPEG
    # at most this many pictures an hour on a node, whatever waits (0: only per_run bounds it)
    per_hour: int = Field(300, ge=0)


class SessionsConfig(Section):
    """Logged-in platform sessions (``xuncha sessions``, the console's 登录会话 page)."""

    # the key their cookies are encrypted with: XUNCHA_SESSION_KEY (base64 of 32 bytes) if
    # set, else this file, created (mode 0600) the first time a session is stored; None =
    # <data_dir>/session.key. Keep it out of database backups: the database alone then
    # reveals no cookie
    key_file: Path | None = None
    # seconds between two uses of one session, per platform (a session's own --pace wins);
    # a platform not named here: default_pace_seconds
    pace_seconds: dict[str, float] = Field(default_factory=dict)
    default_pace_seconds: float = Field(30.0, ge=0)
    # every session of the platform used within its pace: a check waits this long for one,
    # then goes without (the log says which)
    wait_seconds: float = Field(10.0, ge=0)
    # a session is marked expired (ops told once) after this many login walls in a row
    walls_to_expire: int = Field(2, ge=1)
    # the console's 扫码登录: how long the QR code is watched for a scan
    login_timeout_seconds: float = Field(180.0, ge=10)


class BlobsConfig(Section):
    # where raw artifacts live: "files" (a directory; on shared storage for several nodes)
    # or "database" (the blob table; for PostgreSQL nodes with no shared file system)
    backend: Literal["files", "database"] = "files"
    dir: Path | None = None  # files backend; None = blobs_dir, else <data_dir>/blobs


class ClusterConfig(Section):
    # several `xuncha run` nodes on one PostgreSQL (docs/scale-out.md)
    lease_seconds: float = Field(30.0, ge=5)  # a dead node's jobs move on after this


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="XUNCHA_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    timezone: str = "Asia/Shanghai"
    node_name: str = Field(default_factory=socket.gethostname)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    blobs_dir: Path | None = None  # None = <data_dir>/blobs
    blobs: BlobsConfig = Field(default_factory=BlobsConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    patrol: PatrolConfig = Field(default_factory=PatrolConfig)
    platforms: dict[str, PlatformConfig] = Field(default_factory=dict)
    http: HttpConfig = Field(default_factory=HttpConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    channels: dict[str, str] = Field(default_factory=dict)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    content: ContentConfig = Field(default_factory=ContentConfig)
    rulesets: dict[str, Any] = Field(default_factory=dict)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    browser: BrowserConfig = Field(default_factory=BrowserConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    selfwatch: SelfwatchConfig = Field(default_factory=SelfwatchConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    screenshots: ScreenshotsConfig = Field(default_factory=ScreenshotsConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    activity: ActivityConfig = Field(default_factory=ActivityConfig)
    sessions: SessionsConfig = Field(default_factory=SessionsConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the environment wins over the file: ops inject secrets there
        return (env_settings, init_settings)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'xuncha.db'}"

    @property
    def lists_path(self) -> Path:
        """The user's own lists (``[content] lists_dir``): outside the package, so an
        upgrade keeps them."""
        return self.content.lists_dir or self.data_dir / "lists"

    @property
    def session_key_file(self) -> Path:
        return self.sessions.key_file or self.data_dir / "session.key"

    @property
    def blob_path(self) -> Path:
        return self.blobs.dir or self.blobs_dir or self.data_dir / "blobs"

    def interval_minutes(self, platform: str, override: int | None = None) -> int:
        if override:
            return override
        p = self.platforms.get(platform)
        return (
            (p.interval_minutes if p else None)
            or _declared_interval(platform)
            or self.patrol.default_interval_minutes
        )

    def channel_url(self, channel: str) -> str | None:
        return resolve_channel(self.channels, channel)


def resolve_channel(channels: Mapping[str, str], channel: str) -> str | None:
    """Resolve ``@name`` through ``[channels]``; a literal URL is returned as is."""
    if channel.startswith("@"):
        return channels.get(channel[1:])
    return channel


def config_path(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        return explicit
    env = os.environ.get("XUNCHA_CONFIG")
    return Path(env) if env else None


def load_settings(path: Path | None = None) -> Settings:
    """Read the TOML file (if any) and the environment into validated settings."""
    path = config_path(path)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"配置文件不存在: {path}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"配置文件 {path} 不是有效的 TOML: {e}") from None
    try:
        settings = Settings(**data)
    except ValidationError as e:
        where = str(path) if path else "环境变量"
        lines = [
            f"{where}: {'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()
        ]
        raise ConfigError("配置有误:\n" + "\n".join(lines)) from None
    return settings
