"""Web application firewalls and captcha walls: an answer that is a challenge, not the page.

Government sites sit behind the common Chinese WAFs (阿里云盾, 腾讯云 WAF, 360网站卫士, 安全狗,
知道创宇/加速乐, 长亭雷池, 华为云 WAF, 百度云加速) or Cloudflare. When one of them doubts a
client it answers — often with 200 — a small page that sets a cookie from script and
reloads, a slider or a "请输入验证码" form, or it redirects to a verification address. The
list behind it was never seen, so the check is ``blocked``, never "no update found".

:func:`recognise` is the one recogniser every HTTP reader's answer passes
(``probes.platforms.registry.observation_from``). It judges the shape, not a word: a news
list that mentions 验证码 in its footer has items and links and is left alone; words count
only on a page that has no list in it (a challenge page is small and nearly linkless),
a vendor's technical token (``acw_sc__v2``, ``__jsl_clearance``, ``cf-chl``…) only on a
page without items, a redirect only when it ends at a verification address the request
did not ask for. A feed (``<rss>``, ``<feed>``, any ``<item>``) is never a wall page.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from probes.fetch.http import Response

#: A challenge page is small: past this many bytes the body is a real page (or feed).
MAX_CHALLENGE_BYTES = 200_000
#: Statuses WAFs answer with; 405/418/468/493 (and 加速乐's 521) are otherwise mere errors.
CHALLENGE_STATUSES = frozenset({403, 405, 412, 418, 429, 468, 493, 521})
#: A challenge page shows a line or two: past this much visible text, words are the page's.
MAX_CHALLENGE_TEXT = 1_000

# (vendor, tokens): technical tokens found in their challenge and block pages
VENDORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("阿里云盾", ("acw_sc__v2", "aliyun_waf", "_____tmd_____", "x5secdata", "errors.aliyun.com")),
    ("知道创宇/加速乐", ("__jsl_clearance", "jsl_clearance", "__jsluid", "jiasule", "创宇盾")),
    ("360网站卫士", ("360wzws", "wzws-ray", "wzws_cid", "360网站卫士")),
    ("安全狗", ("safedog", "安全狗")),
    ("长亭雷池", ("safeline", "/.safeline/", "雷池", "chaitin")),
    ("腾讯云 WAF", ("waf.tencent-cloud.com", "腾讯云web应用防火墙", "tencent-cloud waf")),
    ("华为云 WAF", ("hwwaf", "hws_waf", "华为云web应用防火墙", "huaweicloud waf")),
    ("Cloudflare", ("cf-chl", "cf_chl_opt", "challenge-platform", "just a moment...")),
    ("百度云加速", ("yunjiasu", "百度云加速")),
)
# words of a challenge page; counted only on a page with no list in it
PHRASES = (
    "请输入验证码",
    "安全验证",
    "滑动验证",
    "拖动滑块",
    "人机验证",
    "访问验证",
    "请完成验证",
    "请求已被拦截",
    "访问被拦截",
    "网站防火墙",
    "attention required",
)
# where a redirect to a verification page ends
_VERIFY_URL = re.compile(
    r"captcha|verif(?:y|ication)|(?:^|[/_.?=&-])waf(?:[/_.?=&-]|$)|security[-_]?check"
    r"|cdn-cgi/challenge|安全验证|验证码",
    re.I,
)
_LIST = re.compile(r"<(?:li|tr|dd)\b", re.I)
_FEED = re.compile(r"<(?:item|entry)\b|<(?:rss|feed|rdf:rdf)\b", re.I)
_ANCHORS = re.compile(r"<a\s[^>]{0,500}?href", re.I)
_TITLE = re.compile(r"<title[^>]{0,200}>([^<]{0,300})", re.I)
_TAG = re.compile(r"<[^<>]{0,300}>|&[#\w]{1,10};")
_RELOAD = re.compile(r"location(?:\.href|\.replace|\.reload|\s*=)|window\.location", re.I)


def recognise(resp: Response) -> str | None:
    """What a WAF or captcha wall answer is, in Chinese ("网站防火墙拦截（安全验证页面）：…"),
    or None when ``resp`` is the page itself."""
    if why := _redirected_to_verification(resp):
        return why
    if resp.headers.get("cf-mitigated", "").lower() == "challenge":
        return "网站防火墙拦截（安全验证页面）：Cloudflare（cf-mitigated: challenge）"
    if not (200 <= resp.status < 300 or resp.status in CHALLENGE_STATUSES):
        return None
    if not resp.content or len(resp.content) > MAX_CHALLENGE_BYTES:
        return None
    text = resp.text
    if not text or text.lstrip()[:1] in ("{", "["):  # JSON is an API's answer, not a wall
        return None
    if _FEED.search(text) or len(_LIST.findall(text)) >= 2:
        return None  # a feed, or a list: the page itself, whatever its footer says
    why = _vendor(text.lower()) or _wall_words(text)
    if why:
        return why
    if _script_only(text):
        return "网站防火墙拦截（安全验证页面）：只有设置 cookie 后重新加载的脚本，没有内容"
    return None


def _vendor(low: str) -> str | None:
    """A known WAF's own token in the page (lower-cased)."""
    for vendor, tokens in VENDORS:
        for token in tokens:
            if token in low:
                return f"网站防火墙拦截（安全验证页面）：{vendor}（{token}）"
    return None


def _wall_words(text: str) -> str | None:
    """A short page of few links that says it is a verification (in its title or body)."""
    if len(_ANCHORS.findall(text)) > 5 or _visible_chars(_split_scripts(text)[1]) > (
        MAX_CHALLENGE_TEXT
    ):
        return None
    low = text.lower()
    title = _TITLE.search(text)
    for phrase in PHRASES:
        if phrase in low:
            where = "标题" if title and phrase in title.group(1).lower() else "页面"
            return f"网站防火墙拦截（安全验证页面）：{where}显示“{phrase}”"
    return None


def _redirected_to_verification(resp: Response) -> str | None:
    if not resp.redirects:
        return None
    asked = _path_query(resp.url)
    landed = _path_query(resp.final_url)
    if _VERIFY_URL.search(landed) and not _VERIFY_URL.search(asked):
        return f"网站防火墙拦截（跳转到安全验证页面 {resp.final_url[:200]}）"
    return None


def _path_query(url: str) -> str:
    parts = urlsplit(url)
    return unquote(f"{parts.hostname or ''}{parts.path}?{parts.query}")


def _script_only(text: str) -> bool:
    """A body that is only a script setting a cookie and reloading: 加速乐's and 云盾's first
    answer (``document.cookie=…; location.href=…``)."""
    if "document.cookie" not in text:
        return False
    code, outside = _split_scripts(text)
    if "document.cookie" not in code or not _RELOAD.search(code):
        return False
    return _visible_chars(outside) < 200


def _split_scripts(text: str) -> tuple[str, str]:
    """(the scripts' code, the rest of the page), in one pass over the text."""
    low = text.lower()
    scripts, outside, at = [], [], 0
    while (start := low.find("<script", at)) >= 0:
        end = low.find("</script", start)
        outside.append(text[at:start])
        if end < 0:
            scripts.append(text[start:])
            at = len(text)
            break
        scripts.append(text[start:end])
        at = end + len("</script")
    outside.append(text[at:])
    return " ".join(scripts), " ".join(outside)


def _visible_chars(html: str) -> int:
    """How many non-space characters of ``html`` are outside tags."""
    return len("".join(_TAG.sub(" ", html).split()))
