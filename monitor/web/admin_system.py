"""The 系统管理员's page (``/system``): the configuration in effect, the registry, the channels.

Read only. The system administrator changes these where they live — the configuration file
(then SIGHUP, or ``systemctl reload``), ``xuncha registry import``, the units' channels in the
registry and ``[channels]`` — and the audit log records the imports and reloads. Secrets
never reach the page: a key that names a URL, token, secret, password or key shows only
whether it is set, any URL (a channel, a webhook, wherever it sits) only its kind, and the
database URL hides its password.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from monitor.config import Settings
from monitor.show.labels import PLATFORM, label
from monitor.store.models import Account, Unit
from monitor.web.auth import Principal
from monitor.web.deps import DB, XApp, page_right
from monitor.web.fleet import outbox
from monitor.web.pages import render

router = APIRouter(include_in_schema=False)

SystemAdmin = Annotated[Principal, Depends(page_right("system"))]
SECRET = re.compile(r"url|token|secret|password|passwd|key|webhook|cookie|dsn", re.I)
HIDDEN = "（已设置，已隐去）"
SKIPPED = {"rulesets", "channels", "database"}  # shown apart (or only by name)


def _scheme(url: str) -> str:
    """A channel as its kind only: ``dingtalk://…`` (its token is the secret)."""
    if url.startswith("@"):
        return url  # a name referring to [channels]
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://…" if sep else "（格式不明）"


def _shown(key: str, value: Any) -> str:
    if SECRET.search(key) and value not in (None, "", [], {}):
        return HIDDEN
    if isinstance(value, str) and "://" in value:  # a channel or webhook anywhere: its kind
        return _scheme(value)
    if isinstance(value, dict):
        return "；".join(f"{k} = {_shown(k, v)}" for k, v in value.items()) or "—"
    if isinstance(value, list):
        return "、".join(_shown(key, v) for v in value) or "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or value == "":
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def settings_rows(settings: Settings) -> list[tuple[str, list[tuple[str, str]]]]:
    """The configuration as (section, [(key, value shown)]), secrets hidden."""
    dumped = settings.model_dump(mode="json")
    top: list[tuple[str, str]] = []
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    try:
        db_url = make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is still not shown
        db_url = HIDDEN
    sections.append(("database", [("url", db_url)]))
    for key, value in dumped.items():
        if key in SKIPPED:
            continue
        if isinstance(value, dict) and key not in ("platforms",):
            sections.append((key, [(k, _shown(k, v)) for k, v in value.items()]))
        else:
            top.append((key, _shown(key, value)))
    sections.append(("rulesets", [("已定义", "、".join(settings.rulesets) or "—")]))
    return [("（顶层）", top), *sections]


@router.get("/system")
def system_page(request: Request, session: DB, user: SystemAdmin, xapp: XApp) -> Response:
    settings = xapp.settings
    accounts = dict(
        session.exec(select(Account.status, sa.func.count()).group_by(col(Account.status))).all()
    )
    platforms = [
        (label(PLATFORM, p), n)
        for p, n in session.exec(
            select(Account.platform, sa.func.count())
            .where(Account.status == "active")
            .group_by(col(Account.platform))
            .order_by(sa.func.count().desc())
        ).all()
    ]
    units = session.exec(select(Unit).order_by(col(Unit.code))).all()
    silent_units = [u for u in units if not u.channels]
    everything = dataclasses.replace(user, units=None)  # channels are the whole system's
    return render(
        request, "system.html", user, sections=settings_rows(settings),
        accounts=accounts,
        platforms=platforms, unit_count=len(units), silent_units=silent_units[:50],
        silent_count=len(silent_units),
        channels=[(name, _scheme(url)) for name, url in settings.channels.items()],
        ops_channels=[_scheme(c) for c in settings.alerts.ops_channels],
        outbox=outbox(session, everything),
    )  # fmt: skip
