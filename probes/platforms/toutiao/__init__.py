"""Toutiao (今日头条, 头条号): read through the browser (its feed API is signed).

The platform's one home: its declaration (:data:`PLATFORM`, read by the registry, the config,
the messages and the console without loading a reader) and, in :mod:`.reader`, how it is read.
Names of the reader module are reachable from here too (``probes.platforms.toutiao.X``), loaded on
first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from probes.platforms.spec import Login, PlatformSpec, SessionNeed, declare

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
    )
)


def __getattr__(name: str) -> Any:
    # the reader (HTTP, parsers) loads when a check needs it, not with the declaration
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.reader"), name)
