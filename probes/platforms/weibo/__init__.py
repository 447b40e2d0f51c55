"""Weibo (微博): read over HTTP through the public mobile container API with visitor cookies.

Its declaration (read by every part without loading a reader) and, in ``reader``, how
it is read (:mod:`probes.platforms.spec`).
"""

from __future__ import annotations

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare, reader_attributes

PLATFORM = declare(
    PlatformSpec(
        code="weibo",
        rank=10,
        name="微博",
        aliases=("新浪微博",),
        origins={
            "m": "https://m.weibo.cn",
            "www": "https://weibo.com",
            "passport": "https://passport.weibo.com",
        },
        login=Login(
            domains=("weibo.com", "weibo.cn", "sina.com.cn"),
            login_cookies=("SUB", "SUBP"),
            signed_in_marks=("WBPSESS", "SSOLoginState"),
            login_url="https://weibo.com/",
            qr_selector="xpath=//div[@class='woo-modal-main']//img",
            login_button="xpath=//a[text()='登录']",
        ),
        session=SessionNeed.helps,
        readers=("weibo",),
    )
)


__getattr__ = reader_attributes(__name__)
