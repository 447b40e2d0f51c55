"""Bilibili (哔哩哔哩): a space's videos and 动态, over HTTP (WBI signing is public).

Its declaration (read by every part without loading a reader) and, in ``reader``, how
it is read (:mod:`probes.platforms.spec`).
"""

from __future__ import annotations

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare, reader_attributes

PLATFORM = declare(
    PlatformSpec(
        code="bilibili",
        rank=50,
        name="哔哩哔哩",
        aliases=("B站", "b站"),
        # read over HTTP since; kept at 240 to stay clear of its risk control
        interval_minutes=240,
        origins={"api": "https://api.bilibili.com", "space": "https://space.bilibili.com"},
        login=Login(
            domains=("bilibili.com",),
            login_cookies=("SESSDATA", "bili_jct", "DedeUserID"),
            signed_in_marks=("SESSDATA", "DedeUserID"),
            login_url="https://www.bilibili.com/",
            qr_selector="xpath=//div[@class='login-scan-box']//img",
            login_button="xpath=//div[@class='right-entry__outside go-login-btn']//div",
        ),
        session=SessionNeed.helps,
        readers=("bilibili",),
    )
)


__getattr__ = reader_attributes(__name__)
