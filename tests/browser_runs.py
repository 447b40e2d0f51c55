"""Helpers the browser-platform tests share: read many accounts through one real Chromium pool
against the simulator, and judge an observation as a patrol would (national rule set)."""

from __future__ import annotations

import asyncio
from typing import Any

from simulator import NOW

from probes.checks import evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.rules import BUILTIN_RULESETS
from probes.fetch import Tools
from probes.fetch.browser import BrowserPool, BrowserSettings
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Severity, Target
from probes.platforms import observe

# settle: how long an optional answer (a profile beside the works) may trail the awaited
# one; the wait ends as soon as it is in, so only a page that never sends it pays it all —
# 50 ms lost Kuaishou's profile under a loaded full suite
FAST = BrowserSettings(page_timeout_seconds=10, settle_ms=500, max_pages=3)
_CALENDAR = WorkCalendar()


def target(reader: str, handle: str, base: str, key: str = "www") -> Target:
    return Target(f"{reader}-{handle}", reader, reader, handle=handle, origins={key: base})


def observe_all(
    targets: list[Target], *, session: Any = None, settings: BrowserSettings = FAST
) -> list[Observation]:
    """Each target observed at ``NOW`` through one pool; ``session`` (a ``MakeContext``, e.g.
    ``simulator.xiaohongshu.session_context()``) makes the platform's context logged in."""

    async def main() -> list[Observation]:
        async with BrowserPool(settings) as pool, Fetcher(HttpSettings(retries=0)) as f:
            if session is not None:
                for platform in {t.reader for t in targets}:
                    async with pool.page(platform, 10, make=session):
                        pass
            tools = Tools(http=f, browser=pool)
            return list(await asyncio.gather(*(observe(t, tools, now=NOW) for t in targets)))

    return asyncio.run(main())


def verdicts(obs: Observation) -> dict[str, Severity]:
    """What the national rules make of ``obs``: finding kind -> severity."""
    signals = evaluate(obs, ruleset=BUILTIN_RULESETS["national"], calendar=_CALENDAR, now=NOW)
    return {s.kind: s.severity for s in signals}
