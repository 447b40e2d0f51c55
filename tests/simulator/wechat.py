"""WeChat as the simulator serves it: article pages, an RSS bridge's feed, an album page.

Articles under ``/s/``: ``AbCdEf123`` (5 hours old), ``Old456`` (9 days), ``deleted``, ``env``
(环境异常 captcha page); the long form ``/s?__biz=…&mid=…`` by ``mid`` (the album's
articles). ``/mp/appmsgalbum`` (and ``/wx/album``):
tests/fixtures/platforms/wechat/album.html (sources in its SOURCES.md), its times moved to
the simulator's clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from localserver import Reply, Request

HTML = "text/html; charset=utf-8"
ALBUM = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "wechat" / "album.html"
ANCHOR = 1795500000  # the fixture's "now": 2026-11-24 14:00 Beijing
#: the album's articles by ``mid``: title and age
ALBUM_ARTICLES = {
    "2247485001": ("冬季防火提示", timedelta(hours=5)),
    "2247485002": ("旧文章", timedelta(days=9)),
    "2247485003": ("秋季征兵公告", timedelta(days=30)),
}
_EPOCH = re.compile(r"(?<![\d.])1[789]\d{8}(?!\d)")


def routes(now: Callable[[], datetime]) -> dict[str, Any]:
    return {
        "/s/AbCdEf123": lambda r: article(now, "冬季防火提示", timedelta(hours=5)),
        "/s/Old456": lambda r: article(now, "旧文章", timedelta(days=9)),
        "/s": lambda r: article(now, *ALBUM_ARTICLES[_q(r, "mid")]),
        "/s/deleted": Reply(body=WECHAT_DELETED, headers={"Content-Type": HTML}),
        "/s/env": Reply(body=WECHAT_ENV, headers={"Content-Type": HTML}),
        "/wx/feed.xml": lambda r: feed(now()),
        "/mp/appmsgalbum": lambda r: album(now()),
        "/wx/album": lambda r: album(now()),  # the same page elsewhere (a mirror)
    }


WECHAT_ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta property="og:title" content="{title}"><title>{title}</title></head><body>
<div id="js_article"><h1 class="rich_media_title" id="activity-name">{title}</h1>
<div id="meta_content"><span id="js_name" class="rich_media_meta_nickname">平安示例</span>
<em id="publish_time"></em><span id="js_ip_wording_wrp"><span id="js_ip_wording"></span>
</span></div>
<div class="rich_media_content" id="js_content">
<p>冬季防火，人人有责。</p>
<p><a href="https://www.gov.cn/zhengce/2026-11/20/content_1.htm">政策原文</a>
<a href="https://u.jd.com/abcdef" target="_blank">领券购买</a></p></div>
<div class="wx_follow_nickname">平安示例</div></div>
<script>
var nickname = htmlDecode("平安示例");
var user_name = "gh_0123456789ab";
var msg_title = '{title}'.html(false);
var msg_source_url = 'https://www.example-shop.com/promo?from=wx';
var ct = "{ct}";
var create_time = "{ct}" * 1;
window.ip_wording = {{ countryName: '中国', countryId: '156', provinceName: '山东',
  provinceId: '370000', cityName: '', cityId: '' }};
</script></body></html>"""

WECHAT_DELETED = """<!DOCTYPE html><html><head><meta charset="utf-8"><title></title></head><body>
<div class="weui-msg"><div class="weui-msg__text-area"><h2 class="weui-msg__title">
该内容已被发布者删除</h2></div></div></body></html>"""

WECHAT_ENV = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>微信公众平台</title></head>
<body><div class="weui-msg"><p class="weui-msg__title">环境异常</p>
<p class="weui-msg__desc">当前环境异常，完成验证后即可继续访问。</p>
<a id="js_verify" class="weui-btn weui-btn_primary">去验证</a></div></body></html>"""


def article(now: Callable[[], datetime], title: str, age: timedelta) -> Reply:
    ct = int((now() - age).timestamp())
    return Reply(body=WECHAT_ARTICLE.format(title=title, ct=ct), headers={"Content-Type": HTML})


def feed(now: datetime) -> Reply:
    """An RSS bridge's feed (RSSHub/WeRSS shape): dates are day-precise, links real."""
    items = ""
    for aid, title, age in (("Old456", "旧文章", 9), ("AbCdEf123", "冬季防火提示", 0)):
        day = (now - timedelta(days=age)).strftime("%a, %d %b %Y 00:00:00 +0800")
        items += (
            f"<item><title>{title}</title><link>https://mp.weixin.qq.com/s/{aid}</link>"
            f"<guid>https://mp.weixin.qq.com/s/{aid}</guid><pubDate>{day}</pubDate>"
            f"<description>{title}</description></item>"
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>平安示例</title><link>https://mp.weixin.qq.com/</link>"
        f"<description>公众号 平安示例</description>{items}</channel></rss>"
    )
    return Reply(body=xml, headers={"Content-Type": "application/rss+xml; charset=utf-8"})


def album(now: datetime) -> Reply:
    """The album page, its unix times moved by the simulator's clock."""
    by = int(now.timestamp()) - ANCHOR
    html = _EPOCH.sub(lambda m: str(int(m.group(0)) + by), ALBUM.read_text(encoding="utf-8"))
    return Reply(body=html, headers={"Content-Type": HTML})


def _q(req: Request, name: str) -> str:
    return parse_qs(req.query).get(name, [""])[0]
