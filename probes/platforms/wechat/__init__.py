"""WeChat 公众号: article pages and a configured list source (no anonymous list exists).

Its declaration (read by every part without loading a reader) and, in ``reader``, how
it is read (:mod:`probes.platforms.spec`).
"""

from __future__ import annotations

from probes.platforms.spec import PlatformSpec, declare, reader_attributes

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


__getattr__ = reader_attributes(__name__)
