"""Xiaohongshu (小红书): read through the browser; a login wall for anonymous visitors.

The platform's one home: its declaration (:data:`PLATFORM`, read by the registry, the config,
the messages and the console without loading a reader) and, in :mod:`.reader`, how it is read.
Names of the reader module are reachable from here too
(``probes.platforms.xiaohongshu.X``), loaded on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare

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
    )
)


def __getattr__(name: str) -> Any:
    # the reader (HTTP, parsers) loads when a check needs it, not with the declaration
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.reader"), name)
