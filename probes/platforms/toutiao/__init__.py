"""Toutiao (今日头条, 头条号): its feed over HTTP (the ``a_bogus`` signature is public), the
browser when that answer is not shown.

Its declaration (read by every part without loading a reader) and, in ``reader``, how
it is read (:mod:`probes.platforms.spec`).
"""

from __future__ import annotations

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare, reader_attributes

PLATFORM = declare(
    PlatformSpec(
        code="toutiao",
        rank=40,
        name="今日头条",
        aliases=("头条号", "头条"),
        interval_minutes=240,
        origins={"www": "https://www.toutiao.com"},
        login=Login(
            domains=("toutiao.com",),
            login_cookies=("sessionid", "sid_tt"),
            signed_in_marks=("sessionid",),
            login_url="https://www.toutiao.com/",
        ),
        session=SessionNeed.helps,
        readers=("toutiao",),
        browser=True,
        http_first=True,  # a_bogus ported from RSSHub (toutiao/abogus.py)
    )
)


__getattr__ = reader_attributes(__name__)
