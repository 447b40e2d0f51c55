"""What the command line and the console do with sessions: import, save, remove, show.

Both give the same answers in the same words: an unknown platform, a bad file or a key
problem is a :class:`SessionError` (or :class:`~monitor.sessions.cookiefile.CookieFileError`,
:class:`~monitor.store.sealing.SealError`) with a Chinese message; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from monitor.config import PlatformConfig, SessionsConfig, Settings
from monitor.sessions.platforms import LOGIN
from monitor.store import audit
from monitor.store import sessions as store
from monitor.store.audit import Actor
from monitor.store.engine import session_scope
from monitor.store.models import PlatformSession
from monitor.timefmt import iso
from probes.platforms.spec import platform_name

if TYPE_CHECKING:  # a listing loads neither the cipher nor the HTTP client
    from monitor.sessions.cookiefile import Kept
    from probes.fetch.session import Cookie, LoginSession


class SessionError(ValueError):
    """A request about sessions a person can fix; the message is Chinese."""


def platform_code(text: str) -> str:
    """The code of a platform that takes sessions, from its code or Chinese name."""
    text = text.strip()
    for code in LOGIN:
        if text.lower() == code or text == platform_name(code):
            return code
    choices = "、".join(f"{c}（{platform_name(c)}）" for c in LOGIN)
    raise SessionError(f"平台 {text!r} 不使用登录会话：可选 {choices}")


def name_of(platform: str) -> str:
    return platform_name(platform)


def default_pace(s: SessionsConfig, platform: str) -> float:
    """Seconds between two uses of a new session of ``platform``: ``[sessions]
    pace_seconds``, else the platform's own default, else ``default_pace_seconds``."""
    if platform in s.pace_seconds:
        return s.pace_seconds[platform]
    own = LOGIN[platform].pace_seconds
    return own if own is not None else s.default_pace_seconds


def stand_ins(platforms: Mapping[str, PlatformConfig], platform: str) -> dict[str, str]:
    """The stand-ins ``[platforms.<p>] origins`` names (key → base URL): cookies of their
    hosts are the platform's too."""
    configured = platforms.get(platform)
    return dict(configured.origins) if configured else {}


def import_file(
    engine: Engine, settings: Settings, platform: str, data: bytes, *, label: str,
    pace: float | None, by: str, now: datetime, actor: Actor,
) -> tuple[PlatformSession, Kept]:  # fmt: skip
    """Read an exported cookie file and store the platform's cookies as a new session."""
    from monitor.sessions.cookiefile import for_platform, read_cookies

    cookies, fmt = read_cookies(data)
    kept = for_platform(cookies, fmt, platform, stand_ins(settings.platforms, platform), now)
    row = save(
        engine, settings, platform, kept.cookies, label=label, pace=pace, source="file",
        by=by, now=now, expires_at=kept.expires_at(), actor=actor,
    )  # fmt: skip
    return row, kept


def save(
    engine: Engine, settings: Settings, platform: str, cookies: Sequence[Cookie], *,
    label: str, pace: float | None, source: str, by: str, now: datetime,
    expires_at: datetime | None, actor: Actor,
) -> PlatformSession:  # fmt: skip
    """A new active session of ``cookies``, sealed with the key (made on first need); the
    audit log names ``actor`` in the same transaction (a login held by xuncha is a secret
    an auditor must be able to trace)."""
    from monitor.store.sealing import load_sealer

    if pace is not None and pace < 0:
        raise SessionError("间隔秒数不能为负")
    sealer = load_sealer(settings.session_key_file, create=True)
    with session_scope(engine) as s:
        row = store.add(
            s, sealer, platform=platform, label=label.strip(), cookies=cookies,
            expires_at=expires_at, source=source, by=by, now=now,
            pace_seconds=default_pace(settings.sessions, platform) if pace is None else pace,
        )  # fmt: skip
        audit.record(
            s, actor, "session_add", now, target=f"{name_of(platform)}会话 #{row.id}",
            detail={"platform": platform, "source": source, "cookies": row.cookie_count},
        )  # fmt: skip
        return row


def remove(
    engine: Engine, session_id: int, by: str, now: datetime, actor: Actor
) -> PlatformSession:
    with session_scope(engine) as s:
        row = store.get(s, session_id)
        if row is None or row.state == store.REMOVED:
            raise SessionError(f"没有会话 #{session_id}")
        store.remove(s, row, by, now)
        audit.record(
            s, actor, "session_remove", now, target=f"{name_of(row.platform)}会话 #{row.id}",
            detail={"platform": row.platform},
        )  # fmt: skip
        return row


def lease(engine: Engine, settings: Settings, session_id: int, now: datetime) -> LoginSession:
    """Active session ``session_id`` for a check now, whatever its pace (an operator's
    ``xuncha sessions test``): marked used, its cookies opened."""
    from monitor.sessions.rotation import bind
    from monitor.store.sealing import load_sealer

    with session_scope(engine) as s:
        row = store.get(s, session_id)
        if row is None or row.state == store.REMOVED:
            raise SessionError(f"没有会话 #{session_id}")
        if row.state != store.ACTIVE:
            raise SessionError(
                f"会话 #{session_id} 已失效（{row.ended_why}）：请重新扫码登录或导入 Cookie"
            )
        cookies = store.cookies_of(row, load_sealer(settings.session_key_file, create=False))
        row.last_used_at = now
        s.add(row)
        return bind(settings, row, cookies)


def session_dict(row: PlatformSession, tz: str) -> dict[str, Any]:
    """A session as ``--json`` and the console show it: never a cookie."""
    return {
        "id": row.id,
        "platform": row.platform,
        "platform_name": name_of(row.platform),
        "label": row.label,
        "state": row.state,
        "state_name": store.STATES.get(row.state, row.state),
        "source": row.source,
        "cookies": row.cookie_count,
        "pace_seconds": row.pace_seconds,
        "created_at": iso(row.created_at, tz),
        "created_by": row.created_by,
        "last_used_at": iso(row.last_used_at, tz),
        "last_good_at": iso(row.last_good_at, tz),
        "expires_at": iso(row.expires_at, tz),
        "walls": row.walls,
        "ended_at": iso(row.ended_at, tz),
        "ended_why": row.ended_why,
    }
