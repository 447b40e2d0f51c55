"""Douyin (抖音): read through the browser (its web APIs are signed in page script).

Its declaration (read by every part without loading a reader) and, in ``reader``, how
it is read (:mod:`probes.platforms.spec`).
"""

from __future__ import annotations

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare, reader_attributes

PLATFORM = declare(
    PlatformSpec(
        code="douyin",
        rank=30,
        name="抖音",
        interval_minutes=240,
        origins={"www": "https://www.douyin.com"},
        login=Login(
            domains=("douyin.com",),
            login_cookies=("sessionid", "sessionid_ss", "sid_guard"),
            signed_in_marks=("LOGIN_STATUS", "sessionid"),
            login_url="https://www.douyin.com/",
            qr_selector="xpath=//div[@id='animate_qrcode_container']//img",
            login_button="xpath=//p[text() = '登录']",
        ),
        session=SessionNeed.helps,
        readers=("douyin",),
        browser=True,
    )
)


__getattr__ = reader_attributes(__name__)
