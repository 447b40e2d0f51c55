"""The platforms read by the generic readers (``rss``, ``webpage``), and mini-programs.

Declared here because no platform module of their own holds them: a government website is
read from its news list (``webpage``) or feed (``rss``); "other" is whatever an RSS bridge or
a page with selectors can read; a mini-program has no public page to read and is kept in
the registry only.
"""

from __future__ import annotations

from probes.platforms.spec import PlatformSpec, declare

WEBSITE = declare(
    PlatformSpec(
        code="website",
        name="网站",
        aliases=("政府网站", "web"),
        readers=("webpage", "rss"),
    )
)
MINIPROGRAM = declare(PlatformSpec(code="miniprogram", name="小程序", aliases=("微信小程序",)))
OTHER = declare(
    PlatformSpec(code="other", name="其他", aliases=("其它",), readers=("rss", "webpage"))
)
