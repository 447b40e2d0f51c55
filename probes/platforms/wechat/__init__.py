"""WeChat 公众号: article pages and a configured list source (no anonymous list exists).

The platform's one home: its declaration (:data:`PLATFORM`, read by the registry, the config,
the messages and the console without loading a reader) and, in :mod:`.reader`, how it is read.
Names of the reader module are reachable from here too (``probes.platforms.wechat.X``), loaded on
first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from probes.platforms.spec import PlatformSpec, declare

PLATFORM = declare(
    PlatformSpec(
        code="wechat",
        rank=20,
        name="微信公众号",
        aliases=("微信", "公众号"),
        origins={"mp": "https://mp.weixin.qq.com"},
        readers=("wechat", "rss", "webpage"),
    )
)


def __getattr__(name: str) -> Any:
    # the reader (HTTP, parsers) loads when a check needs it, not with the declaration
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.reader"), name)
