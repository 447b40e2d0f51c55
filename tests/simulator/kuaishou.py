"""Kuaishou's profile page as it loads today (fixtures: ``fixtures/platforms/kuaishou``).

``/profile/<principalId>`` is a script that fetches ``GET /rest/v/profile/get`` (the profile
and its counters) and ``POST /rest/v/profile/feed`` (the works), signed in the query as the
real page signs them. The local server does not read request bodies, so it tells accounts
apart by the ``Referer`` (the profile page), and closes the connection after a POST. What a
principalId is decides the answers:

- ``3xks000001``: 56 works, a pinned ``profileUserTopPhoto`` and posts 20 hours and 3 days old;
- ``3xks000002`` / ``3xks000050`` / ``3xks400002``: the feed answers ``result`` 2 / 50 / 400002;
- ``3xks002001``: ``result 2001`` "antispam need captcha" with its slider config;
- ``3xkswithheld``: ``result 1`` and no works while the profile counts 56;
- ``3xksempty``: a real empty account: ``result 1``, no works, and a counter of 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from localserver import Reply, Request

from .captured import answer, json_reply, script_page

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
}

SIGNED = "__NS_hxfalcon=HUDR_sFnX-sim&caver=2"
PAGE_SCRIPT = f"""const uid = location.pathname.split('/').pop();
fetch('/rest/v/profile/get?{SIGNED}').then(r => r.json()).catch(() => {{}});
fetch('/rest/v/profile/feed?{SIGNED}', {{method: 'POST',
  headers: {{'Content-Type': 'application/json'}},
  body: JSON.stringify({{user_id: uid, pcursor: '', page: 'profile'}})}})
  .then(r => r.json()).catch(() => {{}});"""


def routes(sim: Simulator) -> dict[str, Any]:
    return {
        **{f"/profile/{pid}": _page for pid in ACCOUNTS},
        "/rest/v/profile/get": lambda r: _answer(sim, r, 0),
        "/rest/v/profile/feed": lambda r: _answer(sim, r, 1),
    }


def _page(req: Request) -> Reply:
    return script_page("示例警方的快手 - 快手", PAGE_SCRIPT)


def _answer(sim: Simulator, req: Request, which: int) -> Reply:
    pid = urlsplit(req.headers.get("referer", "")).path.rstrip("/").rsplit("/", 1)[-1]
    name = ACCOUNTS.get(pid, ACCOUNTS["3xks000001"])[which]
    data = answer("kuaishou", name, sim.now)
    if which == 0:
        data["userProfile"]["profile"]["user_id"] = pid
    # the body of a POST is never read here: the connection must not be used again
    return json_reply(data, Connection="close")
