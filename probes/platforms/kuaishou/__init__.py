"""Kuaishou (快手): read through the browser.

The platform's one home: its declaration (:data:`PLATFORM`, read by the registry, the config,
the messages and the console without loading a reader) and, in :mod:`.reader`, how it is read.
Names of the reader module are reachable from here too (``probes.platforms.kuaishou.X``), loaded on
first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare

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


def __getattr__(name: str) -> Any:
    # the reader (HTTP, parsers) loads when a check needs it, not with the declaration
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.reader"), name)
