"""Bilibili (哔哩哔哩): a space's videos and 动态, over HTTP (WBI signing is public).

The platform's one home: its declaration (:data:`PLATFORM`, read by the registry, the config,
the messages and the console without loading a reader) and, in :mod:`.reader`, how it is read.
Names of the reader module are reachable from here too (``probes.platforms.bilibili.X``), loaded on
first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare

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


def __getattr__(name: str) -> Any:
    # the reader (HTTP, parsers) loads when a check needs it, not with the declaration
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.reader"), name)
