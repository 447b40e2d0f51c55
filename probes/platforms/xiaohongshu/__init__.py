"""Xiaohongshu (小红书): its page's embedded state over HTTP, the browser when that is not
shown; a login wall for anonymous visitors.

Its declaration (read by every part without loading a reader) and, in ``reader``, how
it is read (:mod:`probes.platforms.spec`).
"""

from __future__ import annotations

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare, reader_attributes

PLATFORM = declare(
    PlatformSpec(
        code="xiaohongshu",
        rank=70,
        name="小红书",
        interval_minutes=240,
        origins={"www": "https://www.xiaohongshu.com"},
        login=Login(
            domains=("xiaohongshu.com",),
            login_cookies=("web_session",),
            signed_in_marks=("web_session",),
            login_url="https://www.xiaohongshu.com/explore",
            qr_selector="xpath=//img[@class='qrcode-img']",
            login_button="xpath=//*[@id='app']/div[1]/div[2]/div[1]/ul/div[1]/button",
            pace_seconds=60.0,  # the strictest risk control of them: a session reads slowly
        ),
        session=SessionNeed.required,
        readers=("xiaohongshu",),
        browser=True,
        http_first=True,  # the profile page's HTML carries __INITIAL_STATE__ (reader.py)
    )
)


__getattr__ = reader_attributes(__name__)
