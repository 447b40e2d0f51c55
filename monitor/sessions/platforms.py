"""What xuncha knows of each platform's login: its cookie domains, the cookies that are the
login, its login page and QR code.

Sourced from a maintained open-source reader that logs in to these platforms,
NanmiCoder/MediaCrawler, ``media_platform/<p>/login.py`` (2025): the QR image selectors of
``login_by_qrcode``, the login button clicked when no dialog pops up, and the cookie each
``check_login_state`` waits for (Xiaohongshu ``web_session`` changing from the visitor's,
Douyin ``LOGIN_STATUS`` = 1, Weibo ``WBPSESS``, Bilibili ``SESSDATA``/``DedeUserID``,
Kuaishou ``passToken``). Toutiao is not there: its login page is shown whole.

A platform's other hosts (the readers' ``origins``) and any stand-in configured for them are
the platform's too (:func:`cookie_hosts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoginFacts:
    domains: tuple[str, ...]  # registrable domains whose cookies are the platform's
    login_cookies: tuple[str, ...]  # the login itself: their earliest expiry is the session's
    # cookies that appear (or change from the visitor's value) when a QR scan logged in
    signed_in_marks: tuple[str, ...]
    login_url: str  # where 扫码登录 starts: origin key "login" replaces its scheme and host
    qr_selector: str = ""  # the QR image; "" = show the page
    login_button: str = ""  # clicked when the QR does not show by itself
    pace_seconds: float | None = None  # default seconds between two uses (None: [sessions])


LOGIN: Mapping[str, LoginFacts] = {
    "xiaohongshu": LoginFacts(
        domains=("xiaohongshu.com",),
        login_cookies=("web_session",),
        signed_in_marks=("web_session",),
        login_url="https://www.xiaohongshu.com/explore",
        qr_selector="xpath=//img[@class='qrcode-img']",
        login_button="xpath=//*[@id='app']/div[1]/div[2]/div[1]/ul/div[1]/button",
        pace_seconds=60.0,  # the strictest risk control of them: a session reads slowly
    ),
    "douyin": LoginFacts(
        domains=("douyin.com",),
        login_cookies=("sessionid", "sessionid_ss", "sid_guard"),
        signed_in_marks=("LOGIN_STATUS", "sessionid"),
        login_url="https://www.douyin.com/",
        qr_selector="xpath=//div[@id='animate_qrcode_container']//img",
        login_button="xpath=//p[text() = '登录']",
    ),
    "weibo": LoginFacts(
        domains=("weibo.com", "weibo.cn", "sina.com.cn"),
        login_cookies=("SUB", "SUBP"),
        signed_in_marks=("WBPSESS", "SSOLoginState"),
        login_url="https://weibo.com/",
        qr_selector="xpath=//div[@class='woo-modal-main']//img",
        login_button="xpath=//a[text()='登录']",
    ),
    "bilibili": LoginFacts(
        domains=("bilibili.com",),
        login_cookies=("SESSDATA", "bili_jct", "DedeUserID"),
        signed_in_marks=("SESSDATA", "DedeUserID"),
        login_url="https://www.bilibili.com/",
        qr_selector="xpath=//div[@class='login-scan-box']//img",
        login_button="xpath=//div[@class='right-entry__outside go-login-btn']//div",
    ),
    "kuaishou": LoginFacts(
        domains=("kuaishou.com",),
        login_cookies=("passToken", "userId"),
        signed_in_marks=("passToken",),
        login_url="https://www.kuaishou.com/",
        qr_selector="xpath=//div[@class='qrcode-img']//img",
        login_button="xpath=//p[text()='登录']",
    ),
    "toutiao": LoginFacts(
        domains=("toutiao.com",),
        login_cookies=("sessionid", "sid_tt"),
        signed_in_marks=("sessionid",),
        login_url="https://www.toutiao.com/",
    ),
}


def supported(platform: str) -> bool:
    return platform in LOGIN


def login_url(platform: str, origins: Mapping[str, str]) -> str:
    """The login page, on the ``login`` origin when ``[platforms.<p>] origins`` gives one."""
    url = LOGIN[platform].login_url
    base = origins.get("login", "").rstrip("/")
    if not base:
        return url
    parts = urlsplit(url)
    return base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def cookie_hosts(platform: str, defaults: Mapping[str, str], origins: Mapping[str, str]) -> dict:
    """Real host → stand-in base URL, for each origin key ``[platforms.<p>] origins`` gives a
    stand-in for (``defaults``: the platform's own origins, plus the login page's)."""
    real = {**defaults, "login": LOGIN[platform].login_url} if platform in LOGIN else defaults
    out: dict[str, str] = {}
    for key, base in origins.items():
        host = urlsplit(real.get(key, "")).hostname
        if host and base:
            out[host] = base
    return out


def owns(platform: str, host: str, stand_ins: Mapping[str, str]) -> bool:
    """Whether a cookie for ``host`` is the platform's: one of its domains (or a subdomain),
    or the host of a stand-in configured for it."""
    host = host.lstrip(".").lower()
    if any(host == d or host.endswith("." + d) for d in LOGIN[platform].domains):
        return True
    return any(host == (urlsplit(b).hostname or "").lower() for b in stand_ins.values())
