"""The platforms read by the generic readers (``rss``, ``webpage``).

Declared here because no platform module of their own holds them: a government website is
read from its news list (``webpage``) or feed (``rss``); "other" is whatever an RSS bridge or
a page with selectors can read.
"""

from __future__ import annotations

from probes.platforms.spec import PlatformSpec, declare

WEBSITE = declare(
    PlatformSpec(
        code="website",
        rank=80,
        name="网站",
        aliases=("政府网站",),
        readers=("webpage", "rss"),
    )
)
OTHER = declare(
    PlatformSpec(code="other", name="其他", aliases=("其它",), readers=("rss", "webpage"), rank=100)
)
