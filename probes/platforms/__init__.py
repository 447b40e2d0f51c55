"""Platform readers: one registry, one entry point that never raises.

A reader turns a :class:`~probes.model.Target` into an :class:`~probes.model.Observation`
(registry pattern after urlwatch's job kinds), given the :class:`~probes.fetch.Tools` it may
use. :func:`observe` is what the daemon calls: an unknown reader, a failed fetch or a reader
bug each become an ``error`` observation with a Chinese reason, so one broken account never
stops a patrol.

Readers that need "now" (relative dates such as "3小时前", the observation time) call
:func:`clock`, which :func:`observe` pins for the duration of one call.

The registry lives in :mod:`probes.platforms.registry`, which readers import; this package
only imports the reader modules (and the mobile-client reader of :mod:`probes.apps`) so that
they register, which keeps the import graph free of cycles.
"""

from __future__ import annotations

from probes.apps import reader as _app_reader  # noqa: F401  (registers "app")
from probes.platforms import (
    bilibili,
    douyin,
    generic,
    kuaishou,
    rss,
    toutiao,
    webpage,
    wechat,
    weibo,
    xiaohongshu,
)
from probes.platforms.registry import (
    READERS,
    Reader,
    clock,
    describe_status,
    failed,
    get_reader,
    observation_from,
    observe,
    outcome_for_status,
    register,
)
from probes.platforms.spec import PLATFORMS, PlatformSpec, SessionNeed, declare, platform_name

__all__ = [
    "PLATFORMS",
    "READERS",
    "PlatformSpec",
    "Reader",
    "SessionNeed",
    "bilibili",
    "clock",
    "declare",
    "describe_status",
    "douyin",
    "failed",
    "generic",
    "get_reader",
    "kuaishou",
    "observation_from",
    "observe",
    "outcome_for_status",
    "platform_name",
    "register",
    "rss",
    "toutiao",
    "webpage",
    "wechat",
    "weibo",
    "xiaohongshu",
]
