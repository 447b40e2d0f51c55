"""Douyin (抖音): read through the browser (its web APIs are signed in page script).

The platform's one home: its declaration (:data:`PLATFORM`, read by the registry, the config,
the messages and the console without loading a reader) and, in :mod:`.reader`, how it is read.
Names of the reader module are reachable from here too (``probes.platforms.douyin.X``), loaded on
first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare

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


def __getattr__(name: str) -> Any:
    # the reader (HTTP, parsers) loads when a check needs it, not with the declaration
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.reader"), name)
