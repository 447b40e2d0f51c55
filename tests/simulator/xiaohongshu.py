"""Xiaohongshu's profile page behind its 2025 login wall (``fixtures/platforms/xiaohongshu``).

``/user/profile/<id>`` renders from ``window.__INITIAL_STATE__``, written into the server's HTML
(:func:`state_literal`), so one GET reads it as the browser does. A visitor whose ``web_session``
cookie is :data:`SESSION` (a logged-in visitor: :func:`session_context` makes such a browser
context) is shown the notes; anyone else meets the wall:

- ``…0001``: 302 to ``/login?redirectPath=…`` (the login dialog);
- ``…0002``: the profile with ``guest: true``, no notes and a login dialog over it;
- ``…0404``: gone ("用户不存在"), for everyone;
- ``…0403``: 302 to the security check ``/website-login/captcha``, for everyone.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from localserver import Reply, Request

from .captured import ANCHOR, answer, html_reply, page

if TYPE_CHECKING:
    from . import Simulator

SESSION = "040069b5f1a2e4c0simulatedsession0000000000000000"
P = "5f00000000000000000"
_LOGIN = page("xiaohongshu", "login_page")
#: the login dialog a visitor's page carries (the ``div.login-container`` of the login page)
LOGIN_DIALOG = _LOGIN[
    _LOGIN.index('<div class="login-container">') : _LOGIN.rindex("</div></body>")
]


def routes(sim: Simulator) -> dict[str, Any]:
    return {
        f"/user/profile/{P}00001": lambda r: _profile(sim, r, wall="redirect"),
        f"/user/profile/{P}00002": lambda r: _profile(sim, r, wall="guest"),
        f"/user/profile/{P}00404": lambda r: _state_page(
            answer("xiaohongshu", "state_gone"), gone=True
        ),
        f"/user/profile/{P}00403": Reply.redirect(
            f"/website-login/captcha?redirectPath=%2Fuser%2Fprofile%2F{P}00403"
        ),
        "/login": html_reply(page("xiaohongshu", "login_page")),
        "/website-login/captcha": html_reply(page("xiaohongshu", "captcha_page")),
    }


def session_context(value: str = SESSION) -> Any:
    """A ``MakeContext`` for ``BrowserPool.page``: a context carrying a ``web_session`` cookie
    for the simulator's host, as a visitor who logged in would have."""

    async def make(browser: Any, settings: Any) -> Any:
        ctx = await browser.new_context(
            locale=settings.locale,
            timezone_id="Asia/Shanghai",
            viewport={"width": 1280, "height": 900},
        )
        cookie = {"name": "web_session", "value": value, "domain": "127.0.0.1", "path": "/"}
        await ctx.add_cookies([cookie])
        return ctx

    return make


def _logged_in(req: Request) -> bool:
    cookies = dict(
        part.strip().partition("=")[::2] for part in req.headers.get("cookie", "").split(";")
    )
    return cookies.get("web_session") == SESSION


def _profile(sim: Simulator, req: Request, wall: str) -> Reply:
    if _logged_in(req):
        state = shift_ids(answer("xiaohongshu", "state_notes"), sim.now)
        return _state_page(state)
    if wall == "redirect":
        return Reply.redirect(f"/login?redirectPath={quote(req.path, safe='')}")
    return _state_page(answer("xiaohongshu", "state_guest"), dialog=True)


def _state_page(state: Any, *, gone: bool = False, dialog: bool = False) -> Reply:
    body = '<div class="empty">用户不存在</div>' if gone else '<div class="user-page"></div>'
    if dialog:
        body += LOGIN_DIALOG
    text = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>小红书</title></head><body>'
        f'<div id="app">{body}</div><script>window.__INITIAL_STATE__='
        + state_literal(state)
        + "</script></body></html>"
    )
    return html_reply(text)


def state_literal(state: Any) -> str:
    """The state as the server writes it into the page: a JavaScript literal with ``/`` as
    ``\\u002F`` and bare ``undefined`` values (cv-cat/Spider_XHS ``test/user_info.py``, a
    captured profile page's state: ``"firstVisitUrl": undefined``), so it is not JSON."""
    body = json.dumps(state, ensure_ascii=False).replace("/", "\\u002F")
    page_global = '{"global":{"supportWebp":true,"pwaAddDesktopPrompt":undefined,'
    page_global += '"firstVisitUrl":undefined,"currentLayout":"default"},'
    return page_global + body[1:] if body.startswith("{") and body != "{}" else body


def shift_ids(state: Any, now: datetime) -> Any:
    """Note ids (ObjectIds: the first 8 hex digits are a unix second) moved to ``now``."""
    seconds = int((now - ANCHOR).total_seconds())
    if not seconds:
        return state
    if isinstance(state, list):
        return [shift_ids(v, now) for v in state]
    if not isinstance(state, dict):
        return state
    out: dict[str, Any] = {}
    for k, v in state.items():
        if k in ("id", "noteId") and isinstance(v, str) and len(v) == 24:
            v = f"{int(v[:8], 16) + seconds:08x}{v[8:]}"
        out[k] = shift_ids(v, now)
    return out
