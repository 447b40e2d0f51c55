"""Toutiao's author page as it loads today (fixtures: ``fixtures/platforms/toutiao``).

``/c/user/token/<token>/`` is a script that fetches ``/api/pc/list/user/feed?category=
profile_all`` as the real page does. Tokens:

- ``MS4wLjABAAAAtt``: a pinned article 300 days old (``is_stick``), a 微头条 six hours old,
  a video two days old and an article twelve days old — every cell type the feed mixes;
- ``MS4wLjABAAAAttwithheld``: ``message: "success"`` with ``data: []``, what an anonymous
  visitor is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from localserver import Reply, Request

from .captured import answer, json_reply, script_page

if TYPE_CHECKING:
    from . import Simulator

#: token -> feed answer
ACCOUNTS = {"MS4wLjABAAAAtt": "feed_ok", "MS4wLjABAAAAttwithheld": "feed_withheld"}

PAGE_SCRIPT = """const token = location.pathname.split('/').filter(Boolean).pop();
fetch('/api/pc/list/user/feed?category=profile_all&token=' + token + '&max_behot_time=0'
  + '&entrance_gid=&aid=24&app_name=toutiao_web&a_bogus=sim')
  .then(r => r.json()).catch(() => {});"""


def routes(sim: Simulator) -> dict[str, Any]:
    return {
        **{f"/c/user/token/{token}/": _page for token in ACCOUNTS},
        "/api/pc/list/user/feed": lambda r: _feed(sim, r),
    }


def _page(req: Request) -> Reply:
    return script_page("示例发布的头条主页 - 今日头条(www.toutiao.com)", PAGE_SCRIPT)


def _feed(sim: Simulator, req: Request) -> Reply:
    token = parse_qs(req.query).get("token", [""])[0]
    return json_reply(answer("toutiao", ACCOUNTS.get(token, "feed_withheld"), sim.now))
