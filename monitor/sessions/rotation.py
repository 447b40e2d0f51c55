"""Which session a check uses, and what its answer says about the session.

:meth:`Rotation.take` gives a check of a platform with active sessions the one used least
recently whose pace allows a use now (:func:`monitor.store.sessions.claim`: one conditional
update, so several nodes keep each session's pace together). If every session was used
within its pace, the check waits up to ``[sessions] wait_seconds`` for the first to come
free, else goes without a session; the log says which (``session_wait``,
``session_none_free``). Which platforms have sessions at all is read at most every
:data:`REFRESH_SECONDS`, so a platform with none costs a check nothing.

:meth:`Rotation.done` reads the check's answer. Content seen: the session's last good use,
its count of login walls back to 0. A login wall (``Observation.login_required``): one more
in a row; at ``[sessions] walls_to_expire`` in a row (2 by default — one wall can be a page
that asked a logged-in visitor to log in again once, two in a row on different accounts is
the session) the session is marked expired and ops are told once, through the patrol's own
channel (``[alerts] ops_channels``), in the same transaction: never a unit. A session whose
login cookies passed their expiry is expired the same way the next time it would be taken.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from datetime import datetime

import anyio
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.notice import Message
from monitor.alerting import direct
from monitor.alerting.settings import AlertingSettings
from monitor.config import Settings
from monitor.sessions.platforms import cookie_hosts, supported
from monitor.store import sessions as store
from monitor.store.engine import session_scope
from monitor.store.models import PlatformSession
from monitor.store.sealing import Sealer, SealError, load_sealer
from monitor.timefmt import shown
from probes.fetch.session import Cookie, LoginSession, rehome
from probes.model import Observation, Outcome
from probes.platforms.spec import platform_name

log = structlog.get_logger("xuncha.sessions")

REFRESH_SECONDS = 30.0  # how stale the list of platforms with sessions may be
#: readers of another site than the platform's (a feed, an RSSHub route, a web page): a
#: session would neither reach the platform nor be judged by what they saw
ELSEWHERE = frozenset({"rss", "webpage", "app"})


class Rotation:
    """One process's use of the platform sessions (the app builds one: ``App.sessions``)."""

    def __init__(
        self, engine: Engine, settings: Callable[[], Settings], clock: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self._settings = settings
        self.clock = clock
        self._platforms: set[str] = set()
        self._read_at = -math.inf
        self._sealer: Sealer | None = None
        self._key_problem = ""  # said once per process
        self._key_failed_at = -math.inf  # checks go without for a while, not each one failing

    @property
    def settings(self) -> Settings:
        return self._settings()

    def refresh(self) -> None:
        """Read which platforms have sessions on the next :meth:`take` (after a change)."""
        self._read_at = -math.inf

    def _read_active(self) -> None:
        with Session(self.engine) as s:
            self._platforms = store.active_platforms(s)
        self._read_at = time.monotonic()

    async def take(
        self, platform: str, account_id: str = "", reader: str = ""
    ) -> LoginSession | None:
        """A session for a check of ``platform`` (read by ``reader``) now, or None (none given,
        none free in time, none readable, or a reader of another site); see the module
        docstring. A failure here costs the check its session, never the check."""
        if not supported(platform) or reader in ELSEWHERE:
            return None
        try:
            return await self._take(platform, account_id)
        except Exception:
            log.exception("session_take_failed", platform=platform, account=account_id)
            return None

    async def _take(self, platform: str, account_id: str) -> LoginSession | None:
        if time.monotonic() - self._read_at >= REFRESH_SECONDS:
            await anyio.to_thread.run_sync(self._read_active)
        if platform not in self._platforms:
            return None
        if time.monotonic() - self._key_failed_at < REFRESH_SECONDS:
            return None  # the key is missing or wrong (said once): try it again later
        waited = 0.0
        most = self.settings.sessions.wait_seconds
        while True:
            got, wait = await anyio.to_thread.run_sync(self._claim, platform)
            if got is not None:
                log.info("session_used", platform=platform, session=got.id, account=account_id)
                return got
            if wait is None:  # none left (expired meanwhile, or unreadable)
                self.refresh()
                return None
            if waited + wait > most:
                log.info(
                    "session_none_free", platform=platform, account=account_id,
                    action="without", waited=round(waited, 1), free_in=round(wait, 1),
                )  # fmt: skip
                return None
            log.info("session_wait", platform=platform, account=account_id, seconds=round(wait, 1))
            await anyio.sleep(wait)
            waited += wait

    def _claim(self, platform: str) -> tuple[LoginSession | None, float | None]:
        now = self.clock()
        with session_scope(self.engine) as s:
            for row in store.lapsed(s, platform, now):
                self._tell_expired(s, row, "登录 Cookie 已到期", now)
            row, wait = store.claim(s, platform, now)
            if row is None:
                return None, wait
            try:
                cookies = store.cookies_of(row, self._sealer_now())
            except SealError as e:
                self._key_failed(s, str(e), now)
                return None, None
            return bind(self.settings, row, cookies), None

    def _sealer_now(self) -> Sealer:
        if self._sealer is None:
            self._sealer = load_sealer(self.settings.session_key_file, create=False)
        return self._sealer

    def _key_failed(self, s: Session, why: str, now: datetime) -> None:
        """This node cannot open the sessions: checks go without; ops are told once."""
        log.error("session_key_failed", error=why)
        self._sealer, self._key_failed_at = None, time.monotonic()  # the key is read again
        if why == self._key_problem:
            return
        self._key_problem = why
        node = self.settings.node_name
        body = f"巡查节点 {node} 无法使用平台登录会话：{why}\n\n在此期间，巡查以未登录方式进行。"
        direct.to_ops(
            s, AlertingSettings.of(self.settings), event="ops_problem",
            message=Message(title="【巡查系统故障】无法解密平台登录会话", markdown=body, text=body,
                            level="failure"),
            dedup_key=f"ops:session-key:{node}:{hashlib.sha256(why.encode()).hexdigest()[:16]}",
            now=now,
        )  # fmt: skip

    async def done(self, session: LoginSession, obs: Observation, account_id: str = "") -> str:
        """What ``obs`` says of ``session``: "good", "wall", "expired" or "" (neither)."""
        try:
            return await anyio.to_thread.run_sync(self._note, session, obs, account_id)
        except Exception:  # the check is recorded all the same
            log.exception("session_note_failed", session=session.id, account=account_id)
            return ""

    def _note(self, session: LoginSession, obs: Observation, account_id: str) -> str:
        now = self.clock()
        with session_scope(self.engine) as s:
            if obs.login_required:
                row = store.note_wall(s, session.id)
                if row is None:
                    return ""
                limit = self.settings.sessions.walls_to_expire
                log.warning(
                    "session_login_wall", platform=session.platform, session=session.id,
                    account=account_id, walls=row.walls, limit=limit,
                )  # fmt: skip
                if row.walls < limit:
                    return "wall"
                why = f"连续 {row.walls} 次检查遇到登录墙（最近一次：账号 {account_id}）"
                if store.expire(s, row, why, now):
                    self._tell_expired(s, row, why, now)
                return "expired"
            if obs.outcome is Outcome.ok:
                store.note_good(s, session.id, now)
                return "good"
        return ""

    def _tell_expired(self, s: Session, row: PlatformSession, why: str, now: datetime) -> None:
        """Ops, once (the message's key is the session's): re-scan or import again."""
        self.refresh()
        settings = self.settings
        name = platform_name(row.platform)
        left = [r for r in store.listing(s) if r.platform == row.platform and r.state == "active"]
        label = f"“{row.label}”" if row.label else ""
        body = (
            f"{name}登录状态已失效，请重新扫码或导入 Cookie。\n\n"
            f"会话 #{row.id}{label}：{why}，失效于 {shown(now, settings.timezone)}。"
            + (
                f"\n\n{name}还有 {len(left)} 个可用会话，巡查继续轮流使用。"
                if left
                else f"\n\n{name}已没有可用会话：重新登录前，巡查以未登录方式进行，可能读不到内容。"
            )
            + f"\n\n重新登录：控制台“登录会话”页扫码登录，或 xuncha sessions add {row.platform} "
            "cookies.txt"
        )
        sent = direct.to_ops(
            s, AlertingSettings.of(settings), event="ops_problem",
            message=Message(title=f"【巡查系统】{name}登录状态已失效", markdown=body, text=body,
                            level="failure"),
            dedup_key=f"ops:session:{row.id}:expired", now=now,
        )  # fmt: skip
        log.error("session_expired", platform=row.platform, session=row.id, why=why, told=sent)


def bind(settings: Settings, row: PlatformSession, cookies: tuple[Cookie, ...]) -> LoginSession:
    """The session as a check carries it: its cookies, and copies for the stand-ins
    ``[platforms.<p>] origins`` names (:func:`probes.fetch.session.rehome`)."""
    from probes.platforms import PLATFORMS

    spec = PLATFORMS.get(row.platform)
    configured = settings.platforms.get(row.platform)
    hosts = cookie_hosts(
        row.platform,
        dict(spec.origins) if spec else {},
        dict(configured.origins) if configured else {},
    )
    assert row.id is not None
    return LoginSession(row.id, row.platform, row.label, rehome(cookies, hosts))
