"""Weibo (微博): read over HTTP through the public mobile container API with visitor cookies.

The platform's one home: its declaration (:data:`PLATFORM`, read by the registry, the config,
the messages and the console without loading a reader) and, in :mod:`.reader`, how it is read.
Names of the reader module are reachable from here too (``probes.platforms.weibo.X``), loaded on
first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare

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


def __getattr__(name: str) -> Any:
    # the reader (HTTP, parsers) loads when a check needs it, not with the declaration
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.reader"), name)
