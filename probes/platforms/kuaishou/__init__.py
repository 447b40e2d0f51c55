"""Kuaishou (快手): read through the browser.

Its declaration (read by every part without loading a reader) and, in ``reader``, how
it is read (:mod:`probes.platforms.spec`).
"""

from __future__ import annotations

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare, reader_attributes

PLATFORM = declare(
    PlatformSpec(
        code="kuaishou",
        rank=60,
        name="快手",
        interval_minutes=240,
        origins={"www": "https://www.kuaishou.com"},
        login=Login(
            domains=("kuaishou.com",),
            login_cookies=("passToken", "userId"),
            signed_in_marks=("passToken",),
            login_url="https://www.kuaishou.com/",
            qr_selector="xpath=//div[@class='qrcode-img']//img",
            login_button="xpath=//p[text()='登录']",
        ),
        session=SessionNeed.helps,
        readers=("kuaishou",),
        browser=True,
    )
)


__getattr__ = reader_attributes(__name__)
