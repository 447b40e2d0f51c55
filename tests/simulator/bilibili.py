"""Bilibili's web API as the simulator serves it: the answers in
``tests/fixtures/platforms/bilibili/`` (their sources in its SOURCES.md), times moved to the
simulator's clock, and the request checked as the real API checks it.

Every WBI endpoint verifies ``w_rid`` against the current keys (computed here on its own,
from the published algorithm): a missing or wrong signature gets ``code 0`` with a bare
``data.v_voucher``; :meth:`BiliSim.rotate_keys` makes every earlier signature wrong, as the
daily change of keys does. The 动态 list refuses (``-352``) a request without a ``buvid3``
cookie, the video list one without the ``dm_img_*`` parameters.

mids: ``10001`` a pinned 200-day-old 动态, a 2-day-old 动态 with a link, a repost quoting
goods, and a 40-day-old video (also announced as a 动态); ``10002`` a real empty account (no
动态, video counter 0); ``10003`` 动态 withheld (empty list while the video counter is 1);
``10004`` a fresh pinned 动态 over 40-day-old ones; ``10352`` 动态 refused (-352);
``10353`` only the video list refused, ``10354`` it answers after 3 s; ``10101`` 动态
need a login (-101); ``10412`` HTTP 412; ``10404`` gone (-404).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlencode

from localserver import Reply, Request

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "bilibili"
ANCHOR = 1795500000  # the fixtures' "now": 2026-11-24 14:00 Beijing
JSON = "application/json; charset=utf-8"
DAY = 86400
#: bilibili-API-collect docs/misc/sign/wbi.md, MIXIN_KEY_ENC_TAB
TAB = [46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49, 33, 9,
       42, 19, 29, 28, 14, 39, 12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40, 61, 26, 17, 0, 1,
       60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63, 57, 62, 11, 36, 20, 34, 44, 52]  # fmt: skip
#: the space page as the browser pool tests use it: a page whose script calls two APIs
MIDS = ("10001", "10352", "10412", "10404")
SPACE_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>个人空间</title></head>
<body><div id="app"><h1 id="h-name"></h1></div><script>
const mid = location.pathname.split('/').filter(Boolean)[0];
const w = '&w_rid=0f1e2d3c4b5a69788796a5b4c3d2e1f0&wts=' + Math.floor(Date.now() / 1000);
fetch('/x/space/wbi/acc/info?mid=' + mid + '&token=&platform=web' + w)
  .then(r => r.json()).then(d => { document.getElementById('h-name').textContent =
    d.code === 0 && d.data.name ? d.data.name : d.message; }).catch(() => {});
fetch('/x/space/wbi/arc/search?mid=' + mid + '&ps=30&tid=0&pn=1&order=pubdate' + w)
  .catch(() => {});
</script></body></html>"""


@cache
def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def _shifted(data: Any, by: int) -> Any:
    """``data`` with every ``pub_ts``/``created`` moved by ``by`` seconds."""
    if isinstance(data, dict):
        return {
            k: v + by if k in ("pub_ts", "created") and isinstance(v, int) else _shifted(v, by)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_shifted(v, by) for v in data]
    return data


def js(data: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(data, ensure_ascii=False), {"Content-Type": JSON})


@dataclass
class BiliSim:
    img_key: str = "7cd084941338484aae1ad9425b84077c"
    sub_key: str = "4932caff0ff746eab6f01bf08b70ac45"
    rotations: int = 0
    #: (path, signature verified) of every WBI request, in order
    checked: list[tuple[str, bool]] = field(default_factory=list)

    def rotate_keys(self) -> None:
        """The day's keys change: every signature made with the old ones is wrong."""
        self.rotations += 1
        self.img_key = hashlib.md5(f"img{self.rotations}".encode()).hexdigest()
        self.sub_key = hashlib.md5(f"sub{self.rotations}".encode()).hexdigest()

    def routes(self, now: Callable[[], datetime]) -> dict[str, Any]:
        def shift(data: dict[str, Any]) -> dict[str, Any]:
            return _shifted(data, int(now().timestamp()) - ANCHOR)

        return {
            **{f"/{mid}": Reply(body=SPACE_PAGE, headers={"Content-Type": "text/html"})
               for mid in MIDS},
            "/x/web-interface/nav": lambda r: self.nav(),
            "/x/frontend/finger/spi": lambda r: js(fixture("finger_spi")),
            "/x/space/wbi/acc/info": lambda r: self.info(r),
            "/x/polymer/web-dynamic/v1/feed/space": lambda r: self.dynamics(r, shift),
            "/x/space/wbi/arc/search": lambda r: self.videos(r, shift),
        }  # fmt: skip

    def nav(self) -> Reply:
        body = copy.deepcopy(fixture("nav_visitor"))
        img = body["data"]["wbi_img"]
        img["img_url"] = f"https://i0.hdslb.com/bfs/wbi/{self.img_key}.png"
        img["sub_url"] = f"https://i0.hdslb.com/bfs/wbi/{self.sub_key}.png"
        return js(body)

    def signed(self, req: Request) -> bool:
        """Is ``w_rid`` right for this query and the current keys?"""
        params = dict(parse_qsl(req.query, keep_blank_values=True))
        w_rid = params.pop("w_rid", "")
        raw = self.img_key + self.sub_key
        mixin = "".join(raw[i] for i in TAB)[:32]
        clean = {k: "".join(c for c in v if c not in "!'()*") for k, v in sorted(params.items())}
        expected = hashlib.md5((urlencode(clean, quote_via=quote) + mixin).encode()).hexdigest()
        ok = "wts" in params and w_rid == expected
        self.checked.append((req.path, ok))
        return ok

    def info(self, req: Request) -> Reply:
        if not self.signed(req):
            return js(fixture("voucher"))
        mid = _q(req, "mid")
        if mid == "10412":
            return js({"code": -412, "message": "请求被拦截"}, 412)
        if mid == "10404":
            return js(fixture("gone_404"))
        body = copy.deepcopy(fixture("acc_info"))
        body["data"]["mid"] = int(mid)
        return js(body)

    def dynamics(self, req: Request, shift: Callable[[dict[str, Any]], dict[str, Any]]) -> Reply:
        if not self.signed(req):
            return js(fixture("voucher"))
        mid = _q(req, "host_mid")
        if "buvid3=" not in req.headers.get("cookie", "") or mid == "10352":
            return js(fixture("risk_352"))
        if mid == "10101":
            return js(fixture("login_101"))
        if mid in ("10002", "10003"):
            return js(fixture("dynamics_empty"))
        body = copy.deepcopy(fixture("dynamics_space"))
        if mid == "10004":  # the pinned 动态 is a day old; the others are 40 days or older
            items = body["data"]["items"]
            items[0]["modules"]["module_author"]["pub_ts"] = ANCHOR - DAY
            for it in items[1:]:
                it["modules"]["module_author"]["pub_ts"] = ANCHOR - 45 * DAY
        return js(shift(body))

    def videos(self, req: Request, shift: Callable[[dict[str, Any]], dict[str, Any]]) -> Reply:
        if not self.signed(req):
            return js(fixture("voucher"))
        mid = _q(req, "mid")
        if not (_q(req, "dm_img_str") and _q(req, "dm_cover_img_str")) or mid == "10353":
            return js(fixture("risk_352"))
        if mid == "10002":
            return js(fixture("arc_search_empty"))
        if mid == "10354":  # slower than a check waits
            return Reply(body=json.dumps(fixture("arc_search")), headers={"Content-Type": JSON},
                         delay=3)  # fmt: skip
        return js(shift(fixture("arc_search")))


def _q(req: Request, name: str) -> str:
    return parse_qs(req.query).get(name, [""])[0]
