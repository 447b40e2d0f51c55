"""A local stand-in for the platforms, serving their pages and JSON in the real shapes.

``Simulator().routes()`` plugs into :class:`localserver.LocalServer`; point a target's
``origins`` at the server's base URL. Accounts are keyed by id; what an id is decides the
answer (DOMAIN §7 field names, real timestamp formats):

- Weibo uids: ``1000`` normal (pinned old post, repost, wrapped outbound link), ``1405``
  banned (profile info ``现已无法查看``), ``1432`` / ``1412`` anti-bot statuses, ``1100``
  login required (``ok: -100``), ``1101`` sent to the sign-in page, ``1407`` the visitor
  page in place of the API; empty lists (tests/fixtures/platforms/weibo/): ``1404`` /
  ``1401`` ``这里还没有内容`` / ``ok: 1`` without cards while the profile counts 8765,
  ``1400`` / ``1402`` the same with a count of 0, ``1403`` ``这里还没有内容`` instead of the
  profile; ``1408`` short ``created_at`` forms and pin markers. With
  ``weibo_visitor`` set, the API needs a visitor ``SUB`` cookie, as the real site does: a
  request without one gets ``302`` to ``/visitor/visitor?a=enter`` (the "Sina Visitor
  System" page, whose script POSTs ``/visitor/genvisitor`` for a ``tid``, then GETs
  ``/visitor/visitor?a=incarnate&t=<tid>``, which sets ``SUB``/``SUBP``); a ``SUB`` the
  simulator does not know (forged, or expired by :meth:`Simulator.expire_weibo_visitors`)
  gets HTTP 432. ``weibo_visitor_passes = False`` makes genvisitor refuse (retcode ≠
  20000000). Cookies carry ``Domain=.weibo.com``/``.weibo.cn`` when the request's Host is
  such a name (tests reach named hosts by using the server as an HTTP proxy), else none.
- WeChat articles, an RSS bridge's feed and an album page: :mod:`simulator.wechat`.
- Bilibili's web API (WBI-signed, checked): :mod:`simulator.bilibili`.
- Browser platforms (``/user/<sec_uid>``, ``/profile/<id>``, …): an HTML page whose script
  fetches the platform's JSON API the way the real site does, so a browser reader captures it.
  Douyin, Kuaishou, Toutiao and Xiaohongshu live in modules of their own
  (``simulator.douyin`` …), serving the captured answers of ``tests/fixtures/platforms/``.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from localserver import Reply, Request

from simulator import douyin, kuaishou, toutiao, wechat, xiaohongshu
from simulator.bilibili import BiliSim

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 14:00 in Beijing
CST = "+0800"
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


def weibo_time(dt: datetime) -> str:
    """Weibo's ``created_at``: ``Sun Nov 22 14:05:00 +0800 2026`` (Beijing wall clock)."""
    return (dt + timedelta(hours=8)).strftime(f"%a %b %d %H:%M:%S {CST} %Y")


def js(data: Any) -> Reply:
    return Reply(body=json.dumps(data, ensure_ascii=False), headers={"Content-Type": JSON})


@dataclass
class Simulator:
    now: datetime = NOW
    weibo_visitor: bool = False
    weibo_visitor_passes: bool = True
    #: where strangers are sent for visitor cookies; "" = this server (relative redirect)
    weibo_passport: str = ""
    pages: dict[str, int] = field(default_factory=dict)  # hits per page kind
    bili: BiliSim = field(default_factory=BiliSim)  # Bilibili's keys and checks (bilibili.py)
    toutiao_refuses: bool = False  # the signed feed refuses every signature (toutiao.py)
    kuaishou_in_app: bool = True  # Kuaishou's app follows its router's popstate (kuaishou.py)
    weibo_tids: set[str] = field(default_factory=set)  # handed out by genvisitor
    weibo_subs: set[str] = field(default_factory=set)  # visitor SUBs currently honoured
    _serial: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_weibo_visitors(self) -> None:
        """Every visitor cookie handed out so far stops working (HTTP 432 from now on)."""
        with self._lock:
            self.weibo_subs.clear()

    def routes(self) -> dict[str, Any]:
        return {
            "/api/container/getIndex": self.weibo_index,
            "/ajax/profile/info": self.weibo_info,
            "/visitor/visitor": self.weibo_visitor_page,
            "/visitor/genvisitor": self.weibo_genvisitor,
            "/signin/login": Reply(body=WEIBO_SIGNIN, headers={"Content-Type": HTML}),
            **wechat.routes(lambda: self.now),
            **self.bili.routes(lambda: self.now),
            **douyin.routes(self),
            **kuaishou.routes(self),
            **toutiao.routes(self),
            **xiaohongshu.routes(self),
        }

    # -- Weibo --------------------------------------------------------------------------

    def _needs_visitor(self, req: Request) -> Reply | None:
        if not self.weibo_visitor:
            return None
        sub = _cookies(req).get("SUB")
        if sub is None:
            host = req.headers.get("host", "")
            back = quote(f"http://{host}{req.path}?{req.query}", safe="")
            return Reply.redirect(
                f"{self.weibo_passport}/visitor/visitor?entry=miniblog&a=enter&url={back}"
                "&domain=weibo.com&ua=Mozilla&_rand=1732428000.123"
            )
        with self._lock:
            known = sub in self.weibo_subs
        if not known:
            return Reply(432, b"", {"Content-Type": "text/html"})
        return None

    def weibo_visitor_page(self, req: Request) -> Reply:
        """``a=enter``: the page whose script runs genvisitor; ``a=incarnate``: the cookies."""
        q = {k: v[0] for k, v in parse_qs(req.query, keep_blank_values=True).items()}
        if q.get("a") != "incarnate":
            return Reply(body=VISITOR_PAGE, headers={"Content-Type": HTML})
        cb = q.get("cb", "cross_domain")
        with self._lock:
            known = q.get("t", "") in self.weibo_tids
            n = next(self._serial)
            sub = f"_2AkMV{n:06d}isitorSUBf8Fnq5RZ"
            if known:
                self.weibo_subs.add(sub)
        if not known:
            return _jsonp(cb, {"retcode": 50111299, "msg": "tid invalid", "data": {}})
        subp = f"0033WrSXqPxfM72-Ws9jqgMF55529P9D9W{n:06d}"
        domain = _cookie_domain(req)
        reply = _jsonp(cb, {"retcode": 20000000, "msg": "succ", "data": {"sub": sub, "subp": subp}})
        expires = "expires=Thu, 24-Nov-2027 06:00:00 GMT; path=/" + domain
        # Reply.headers is a dict: keys that differ in case give two Set-Cookie lines
        reply.headers["Set-Cookie"] = f"SUB={sub}; {expires}; httponly"
        reply.headers["set-cookie"] = f"SUBP={subp}; {expires}"
        return reply

    def weibo_genvisitor(self, req: Request) -> Reply:
        """POST ``cb=gen_callback&fp=<json>`` -> a visitor ``tid`` (JSONP)."""
        if req.method != "POST":
            return Reply(405, b"", {"Content-Type": "text/html", "Allow": "POST"})
        if not self.weibo_visitor_passes:
            body = {"retcode": 50111299, "msg": "系统繁忙", "data": {}}
        else:
            with self._lock:
                tid = f"+AsJ{next(self._serial):06d}Ha0jZt3eJg0Nw3JOkhA2JC0tB0="
                self.weibo_tids.add(tid)
            body = {
                "retcode": 20000000,
                "msg": "succ",
                "data": {"tid": tid, "new_tid": True, "confidence": 95},
            }
        reply = _jsonp("gen_callback", body)
        # the local server does not read request bodies: end the connection after this one
        reply.headers["Connection"] = "close"
        return reply

    def weibo_index(self, req: Request) -> Reply:
        if (bounce := self._needs_visitor(req)) is not None:
            return bounce
        q = {k: v[0] for k, v in parse_qs(req.query).items()}
        uid = q.get("value", "")
        if uid == "1432":
            return Reply(432, b"", {"Content-Type": "text/html"})
        if uid == "1412":
            return Reply(412, "<html>Request Blocked</html>", {"Content-Type": HTML})
        if uid == "1100":
            return js(weibo_fixture("login_required"))
        if uid == "1101":
            return Reply.redirect(f"{self.weibo_passport}/signin/login?entry=mweibo&r=x")
        if uid == "1407":
            return Reply(body=VISITOR_PAGE, headers={"Content-Type": HTML})
        if uid == "1403" or (uid in ("1400", "1404") and "containerid" in q):
            return js(weibo_fixture("container_empty"))
        if uid in ("1401", "1402") and "containerid" in q:
            return js(weibo_fixture("container_no_cards"))
        if uid == "1408" and "containerid" in q:
            return js(weibo_fixture("cards_short_dates"))
        if "containerid" not in q:
            return js({"ok": 1, "data": {"userInfo": self._weibo_user(uid), "tabsInfo": {
                "selectedTab": 1,
                "tabs": [
                    {"id": 1, "tabKey": "profile", "title": "主页", "containerid": f"230283{uid}"},
                    {"id": 2, "tabKey": "weibo", "title": "微博", "containerid": f"107603{uid}"},
                ],
            }}})  # fmt: skip
        return js({"ok": 1, "data": {"cardlistInfo": {"containerid": q["containerid"],
                   "total": 3, "since_id": 4999}, "cards": self._weibo_cards(uid)}})  # fmt: skip

    def _weibo_user(self, uid: str) -> dict[str, Any]:
        return {
            "id": int(uid),
            "screen_name": "平安示例",
            "profile_image_url": "https://tvax1.sinaimg.cn/crop.0.0.180.180.180/abc.jpg",
            "avatar_hd": "https://wx1.sinaimg.cn/orj480/abc.jpg",
            "description": "示例市公安局官方微博",
            "verified": True,
            "verified_type": 1,
            "verified_reason": "示例市公安局官方微博",
            "followers_count": "12.3万",
            "statuses_count": 0 if uid in ("1400", "1402") else 8765,
            "gender": "m",
        }

    def _weibo_cards(self, uid: str) -> list[dict[str, Any]]:
        n = self.now
        return [
            {"card_type": 9, "itemid": "", "mblog": {
                "id": "4900000000000001", "mid": "4900000000000001", "bid": "PinOld1",
                "created_at": weibo_time(n - timedelta(days=200)),
                "text": "【置顶】欢迎关注示例市公安局", "source": "微博 weibo.com",
                "isTop": 1, "profile_type_id": "proweibotop_4900000000000001",
                "region_name": "发布于 山东",
            }},
            {"card_type": 9, "mblog": {
                "id": "4900000000000003", "bid": "Fresh3",
                "created_at": weibo_time(n - timedelta(hours=3)),
                "text": '冬季防火提示 <a href="https://weibo.cn/sinaurl?u=https%3A%2F%2Fitem.taobao'
                        '.com%2Fitem.htm%3Fid%3D1">网页链接</a> <a href="/search?containerid=231522'
                        'type%3D1%26q%3D%23防火%23">#防火#</a>',
                "source": "iPhone 15 Pro", "region_name": "发布于 山东",
                "profile_type_id": "proweibo_4900000000000003",
            }},
            {"card_type": 11, "card_group": [{"card_type": 9, "mblog": {
                "id": "4900000000000002", "bid": "Repost2",
                "created_at": weibo_time(n - timedelta(days=2)),
                "text": "转发微博", "source": "<a href='x'>微博网页版</a>",
                "retweeted_status": {"id": "4800000000000000", "text": "原文 <a href="
                                     "'https://www.gov.cn/zhengce/'>政策</a>"},
            }}]},
        ]  # fmt: skip

    def weibo_info(self, req: Request) -> Reply:
        if (bounce := self._needs_visitor(req)) is not None:
            return bounce
        uid = parse_qs(req.query).get("uid", [""])[0]
        if uid == "1405":
            return js({"ok": 0, "msg": "该账号因被投诉违反法律法规和《微博社区公约》的有关规定，"
                       "现已无法查看。查看帮助"})  # fmt: skip
        user = self._weibo_user(uid) | {"followers_count": 123456, "ip_location": "IP属地：山东"}
        return js({"ok": 1, "data": {"user": user}})


VISITOR_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Sina Visitor System</title></head><body><script type="text/javascript">
var url = url || {}; (function () { this.l = function (u, c) { var s = document.createElement(
"script"); s.src = u; s.charset = "utf-8"; document.body.appendChild(s); }; }).call(url);
function gen_callback(d) { if (d.retcode == 20000000) { var t = encodeURIComponent(d.data.tid);
url.l("/visitor/visitor?a=incarnate&t=" + t + "&w=" + (d.data.new_tid ? 3 : 2) + "&c=" +
("00" + d.data.confidence).slice(-3) + "&gc=&cb=cross_domain&from=weibo&_rand=" +
Math.random()); } }
var xhr = new XMLHttpRequest(); xhr.open("POST", "/visitor/genvisitor", true);
xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
xhr.send("cb=gen_callback&fp=" + encodeURIComponent(JSON.stringify({os: "1",
browser: "Chrome131,0,0,0", fonts: "undefined", screenInfo: "1920*1080*24", plugins: ""})));
</script></body></html>"""


WEIBO_SIGNIN = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>登录 - 新浪微博</title>
</head><body><div id="loginWrapper">请登录后查看</div></body></html>"""
WEIBO_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "weibo"


def weibo_fixture(name: str) -> Any:
    return json.loads((WEIBO_FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def _jsonp(cb: str, data: dict[str, Any]) -> Reply:
    body = f"window.{cb} && {cb}({json.dumps(data, ensure_ascii=False)});"
    return Reply(body=body, headers={"Content-Type": "application/javascript; charset=utf-8"})


def _cookies(req: Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in req.headers.get("cookie", "").split(";"):
        name, eq, value = part.strip().partition("=")
        if eq:
            out.setdefault(name, value)
    return out


def _cookie_domain(req: Request) -> str:
    """``; domain=.weibo.com`` for the real names, nothing for 127.0.0.1 (host-only)."""
    host = req.headers.get("host", "").split(":")[0].lower()
    for parent in ("weibo.com", "weibo.cn"):
        if host == parent or host.endswith("." + parent):
            return f"; domain=.{parent}"
    return ""
