"""Kuaishou's profile page as it loads today (fixtures: ``fixtures/platforms/kuaishou``).

``/profile/<principalId>`` is a document that sets a visitor ``did`` cookie, links a
stylesheet and a picture and loads the site's app (:data:`APP`, a script of its own). The app
registers the ``did`` by POSTing its log SDK's ``/rest/wd/common/log/collect/misc2`` (public
clients register a web ``did`` that way before the profile answers), then calls ``GET
/rest/v/profile/get`` (the profile and its counters) and ``POST /rest/v/profile/feed`` (the
works) through its own request client, which signs them (``__NS_hxfalcon``, ``caver``). The
signer is closed over by that client, as the real site's obfuscated signer is by its axios:
nothing on ``window``, no hook on ``XMLHttpRequest`` or ``fetch`` — so a call a script makes
from the page itself (:meth:`probes.fetch.browser.BrowserPool.call`) goes out unsigned and is
refused: ``result 50`` "签名验证失败" (``unsigned.json``). A call whose ``did`` was never
registered gets ``result 2`` (the code is assumed: the sources say only that registration is
needed). The local server does not read request bodies, so the APIs tell accounts apart by
the ``Referer`` (the profile page) and close the connection after a POST.

The app is a single page: another profile is shown in place when its router is told the URL
changed (``popstate``, what the back button and the site's own links do), and the app asks
both APIs again, signed, for the profile now in the URL — the did is registered once per
page. That the real app asks again on ``popstate`` is inferred (its profile links move within
the page), not captured: ``Simulator(kuaishou_in_app=False)`` serves an app that ignores it.

What a principalId is decides the answers:

- ``3xks000001``: 56 works, a pinned ``profileUserTopPhoto`` and posts 20 hours and 3 days old;
- ``3xks000002`` / ``3xks000050`` / ``3xks400002``: the feed answers ``result`` 2 / 50 / 400002;
- ``3xks002001``: ``result 2001`` "antispam need captcha" with its slider config;
- ``3xkswithheld``: ``result 1`` and no works while the profile counts 56;
- ``3xksempty``: a real empty account: ``result 1``, no works, and a counter of 0;
- ``3xksnewcall``: as ``3xks000001``, but the app first asks a call of the site's that no
  reader knows (:data:`NEW_CALL`) and asks for the works only once that answered — a site
  that changed: a page trimmed to the calls a reader knows never shows the works.

``sim.pages`` counts ``kuaishou_page``, ``kuaishou_app``, ``kuaishou_css``, ``kuaishou_did``
(registrations) and ``kuaishou_api`` requests, so a test sees what a read asked for.
"""

from __future__ import annotations

import itertools
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from localserver import Reply, Request

from .captured import answer, html_reply, json_reply

if TYPE_CHECKING:
    from . import Simulator

#: principalId -> (profile answer, feed answer)
ACCOUNTS: dict[str, tuple[str, str]] = {
    "3xks000001": ("profile_ok", "feed_ok"),
    "3xks000002": ("profile_ok", "feed_result_2"),
    "3xks000050": ("profile_ok", "feed_result_50"),
    "3xks400002": ("profile_ok", "feed_result_400002"),
    "3xks002001": ("profile_ok", "feed_captcha_2001"),
    "3xkswithheld": ("profile_ok", "feed_empty"),
    "3xksempty": ("profile_empty", "feed_empty"),
    "3xksnewcall": ("profile_ok", "feed_ok"),
}
#: its app asks this first and the works only once it answered (see the module docstring)
NEW_CALL = "/rest/v/profile/intro"

#: the signature the app's request client puts on its own calls (the real one is a
#: ``HUDR_…`` string from an obfuscated VM; only its presence is checked here)
SIGNATURE = "HUDR_sFnX-sim"
DID_LOG = "/rest/wd/common/log/collect/misc2"
APP_PATH = "/kos/nlav12119/vision-pc/app.js"
CSS_PATH = "/kos/nlav12119/vision-pc/app.css"

#: the site's app: its log SDK registers the visitor's did, then its request client (the
#: signer closed over, as axios's interceptor closes over the real one) asks both APIs
APP = f"""(() => {{
const sign = (u) => u + (u.includes('?') ? '&' : '?') + '__NS_hxfalcon={SIGNATURE}&caver=2';
const request = (u, init) => fetch(sign(u), init).then((r) => r.json()).catch(() => ({{}}));
const registered = fetch('{DID_LOG}?v=3.9.49&kpn=KUAISHOU_VISION',
  {{method: 'POST', body: '{{}}'}}).catch(() => {{}});
const show = () => {{
const uid = location.pathname.split('/').pop();
const first = uid === '3xksnewcall' ? request('{NEW_CALL}') : Promise.resolve({{result: 1}});
registered
  .then(() => first)
  .then((intro) => {{
    if (intro.result !== 1) return;
    request('/rest/v/profile/get').then((d) => {{
      const p = d.userProfile && d.userProfile.profile;
      document.getElementById('name').textContent = p ? p.user_name : '';
    }});
    request('/rest/v/profile/feed', {{method: 'POST',
      headers: {{'Content-Type': 'application/json'}},
      body: JSON.stringify({{user_id: uid, pcursor: '', page: 'profile'}})}})
      .then((d) => {{ for (const f of d.feeds || []) {{
        const li = document.createElement('li'); li.textContent = f.photo.caption;
        document.getElementById('works').appendChild(li); }} }});
  }});
}};
show();
ROUTER
}})();"""
#: the app's router: another profile shown in place, its answers asked again
ROUTER = """window.addEventListener('popstate', () => {
  document.getElementById('works').replaceChildren(); show(); });"""

PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>示例警方的快手 - 快手</title>
<link rel="stylesheet" href="{CSS_PATH}"></head>
<body><div id="app"><img src="/kos/nlav12119/vision-pc/logo.png" alt="快手">
<h1 id="name"></h1><ul id="works"></ul></div><script src="{APP_PATH}"></script></body></html>"""


def routes(sim: Simulator) -> dict[str, Any]:
    state = _Visitors()
    return {
        **{f"/profile/{pid}": lambda r: _page(sim, state, r) for pid in ACCOUNTS},
        APP_PATH: lambda r: _asset(sim, "kuaishou_app", _app(sim), "text/javascript"),
        CSS_PATH: lambda r: _asset(sim, "kuaishou_css", "#app{margin:0 auto}", "text/css"),
        DID_LOG: lambda r: _register(sim, state, r),
        NEW_CALL: lambda r: json_reply({"result": 1}),
        "/rest/v/profile/get": lambda r: _answer(sim, state, r, 0),
        "/rest/v/profile/feed": lambda r: _answer(sim, state, r, 1),
    }


class _Visitors:
    """The dids handed out and those the log SDK registered."""

    def __init__(self) -> None:
        self.serial = itertools.count(1)
        self.registered: set[str] = set()
        self.lock = threading.Lock()


def _count(sim: Simulator, kind: str) -> None:
    with sim._lock:
        sim.pages[kind] = sim.pages.get(kind, 0) + 1


def _app(sim: Simulator) -> str:
    return APP.replace("ROUTER", ROUTER if sim.kuaishou_in_app else "")


def _did(req: Request) -> str:
    for part in req.headers.get("cookie", "").split(";"):
        name, eq, value = part.strip().partition("=")
        if eq and name == "did":
            return value
    return ""


def _page(sim: Simulator, state: _Visitors, req: Request) -> Reply:
    _count(sim, "kuaishou_page")
    reply = html_reply(PAGE)
    if not _did(req):
        with state.lock:
            did = f"web_{next(state.serial):032x}"
        reply.headers["Set-Cookie"] = f"did={did}; path=/; expires=Thu, 24-Nov-2027 06:00:00 GMT"
    return reply


def _asset(sim: Simulator, kind: str, body: str, content_type: str) -> Reply:
    _count(sim, kind)
    # the site's static files are versioned in their path and cached for a year, as its CDN
    # serves them: a browser that keeps its HTTP cache asks for them once
    cache = "public, max-age=31536000, immutable"
    return Reply(
        body=body,
        headers={"Content-Type": f"{content_type}; charset=utf-8", "Cache-Control": cache},
    )


def _register(sim: Simulator, state: _Visitors, req: Request) -> Reply:
    _count(sim, "kuaishou_did")
    if did := _did(req):
        with state.lock:
            state.registered.add(did)
    return json_reply({"result": 1}, Connection="close")  # a POST: its body is not read


def _answer(sim: Simulator, state: _Visitors, req: Request, which: int) -> Reply:
    _count(sim, "kuaishou_api")
    q = parse_qs(req.query)
    with state.lock:
        registered = _did(req) in state.registered
    if q.get("__NS_hxfalcon", [""])[0] != SIGNATURE or q.get("caver") != ["2"]:
        data = answer("kuaishou", "unsigned", sim.now)
    elif not registered:
        data = answer("kuaishou", "feed_result_2", sim.now)
    else:
        pid = urlsplit(req.headers.get("referer", "")).path.rstrip("/").rsplit("/", 1)[-1]
        data = answer("kuaishou", ACCOUNTS.get(pid, ACCOUNTS["3xks000001"])[which], sim.now)
        if which == 0:
            data["userProfile"]["profile"]["user_id"] = pid
    # the body of a POST is never read here: the connection must not be used again
    return json_reply(data, Connection="close")
