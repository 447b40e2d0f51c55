"""Kuaishou's profile page as it loads today (``POST /rest/v/profile/feed``), read in real
Chromium from the simulator's captured answers (``tests/fixtures/platforms/kuaishou``).

Verification answers (``result`` 2 / 50 / 400002 / 2001) are blocked, never stale; their honest
twin is ``result 1`` read as posts. An empty feed under a counter of 56 is withheld; its twin,
under a counter of 0, is a real empty account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_runs import FAST, observe_all, target, verdicts
from localserver import LocalServer
from simulator import NOW, Simulator
from simulator.kuaishou import ACCOUNTS

from probes.fetch.browser import DEFAULT_EXECUTABLE, BrowserPool
from probes.model import Observation, Outcome, Severity, Sight
from probes.platforms import PLATFORMS
from probes.platforms.kuaishou.reader import FEED_API, PROFILE_API
from probes.sight import settle

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_EXECUTABLE).exists(), reason=f"{DEFAULT_EXECUTABLE} is not installed"
)


@pytest.fixture(scope="module")
def seen() -> Iterator[dict[str, Observation]]:
    """Every simulated Kuaishou account read once, plus the normal one through the ``live``
    origin key a configuration of an earlier version names."""
    with LocalServer(Simulator().routes()) as srv:
        handles = list(ACCOUNTS)
        targets = [target("kuaishou", h, srv.base) for h in handles]
        targets.append(target("kuaishou", "3xks000001", srv.base, key="live"))
        observed = observe_all(targets)
        yield {**dict(zip(handles, observed, strict=False)), "live-key": observed[-1]}


def test_the_feed_is_read_with_its_pinned_top_photo(seen: dict[str, Observation]) -> None:
    obs = seen["3xks000001"]
    assert obs.outcome is Outcome.ok and obs.sight is Sight.posts, obs.detail
    p = obs.profile
    assert (p.name, p.bio, p.followers, p.posts_count) == (
        "示例警方",
        "示例市公安局官方快手",
        32015,
        56,
    )
    top, fresh, older = obs.posts
    assert top.pinned and top.published_at == NOW - timedelta(days=4)  # profileUserTopPhoto
    assert not fresh.pinned and fresh.published_at == NOW - timedelta(hours=20)  # ms stamps
    assert older.url == "https://www.kuaishou.com/short-video/3xabc003"
    assert verdicts(obs) == {}


@pytest.mark.parametrize(
    ("handle", "code"),
    [("3xks000002", "2"), ("3xks000050", "50"), ("3xks400002", "400002"), ("3xks002001", "2001")],
)
def test_verification_result_codes_are_blocked(
    seen: dict[str, Observation], handle: str, code: str
) -> None:
    obs = seen[handle]
    assert obs.outcome is Outcome.blocked and obs.posts == []
    assert obs.detail.startswith(f"快手要求完成验证（result={code}")
    assert verdicts(obs) == {"blocked": Severity.warning}


def test_the_captcha_answer_says_why(seen: dict[str, Observation]) -> None:
    detail = seen["3xks002001"].detail
    assert detail == "快手要求完成验证（result=2001，[2001] antispam need captcha），未展示作品"


def test_no_works_under_a_counter_of_56_is_withheld(seen: dict[str, Observation]) -> None:
    obs = seen["3xkswithheld"]
    assert obs.outcome is Outcome.unreadable
    assert obs.detail == "快手未向本次访问展示作品列表（资料显示有 56 个作品）"
    assert verdicts(obs) == {"unreadable": Severity.warning}


def test_no_works_under_a_counter_of_0_is_a_real_empty_account(
    seen: dict[str, Observation],
) -> None:
    obs = seen["3xksempty"]
    assert obs.outcome is Outcome.ok and obs.sight is Sight.none, obs.detail
    assert obs.profile.posts_count == 0
    assert verdicts(obs) == {"stale": Severity.veto}


def test_the_old_live_origin_key_still_reaches_the_profile_page(
    seen: dict[str, Observation],
) -> None:
    obs = seen["live-key"]
    assert obs.outcome is Outcome.ok and len(obs.posts) == 3
    assert obs.final_url is not None and obs.final_url.endswith("/profile/3xks000001")


def test_the_declaration_is_true() -> None:
    spec = PLATFORMS["kuaishou"]
    assert spec.browser and dict(spec.origins) == {"www": "https://www.kuaishou.com"}


def _reads(srv: LocalServer, handles: list[str], whole: bool = False) -> list[Observation]:
    """``handles`` read one after another through one pool: the platform's page is kept."""
    from probes.fetch import Tools
    from probes.fetch.http import Fetcher, HttpSettings
    from probes.platforms.kuaishou.reader import read_kuaishou

    async def main() -> list[Observation]:
        async with BrowserPool(FAST) as pool, Fetcher(HttpSettings(retries=0)) as f:
            tools = Tools(http=f, browser=pool)
            return [
                await read_kuaishou(target("kuaishou", h, srv.base), tools, whole=whole)
                for h in handles
            ]

    return asyncio.run(main())


def _judged(obs: Observation) -> tuple[object, ...]:
    """What a check's judgement rests on (the profile's counters left out: that answer is
    optional, and one that trails the works past the settle time is not waited for)."""
    obs = settle(obs)  # as observe() hands it on
    return (obs.outcome, obs.detail, obs.sight, obs.profile.name, obs.posts, verdicts(obs))


def test_one_page_load_then_the_kept_pages_app_answers_for_each_account() -> None:
    """Three checks of two accounts: the first loads the profile page, trimmed (its document,
    the app's script, the did's registration, the two signed APIs; no stylesheet, no
    picture); the next ones move the kept page's app to the account's profile, which asks
    the two APIs again, signed by the app itself — no document, no second registration."""
    sim = Simulator()
    with LocalServer(sim.routes()) as srv:
        first, other, again = _reads(srv, ["3xks000001", "3xksempty", "3xks000001"])
        picture = srv.hits.get("/kos/nlav12119/vision-pc/logo.png", 0)
    assert first.outcome is Outcome.ok and len(first.posts) == 3, first.detail
    assert _judged(again) == _judged(first)
    assert settle(other).sight is Sight.none and other.final_url.endswith("/3xksempty")
    assert picture == 0 and "kuaishou_css" not in sim.pages
    assert (sim.pages["kuaishou_page"], sim.pages["kuaishou_app"]) == (1, 1)
    assert (sim.pages["kuaishou_did"], sim.pages["kuaishou_api"]) == (1, 6)


@pytest.mark.parametrize("in_app", [True, False], ids=["app follows", "app ignores popstate"])
def test_the_shortcuts_read_as_the_whole_page_does(in_app: bool) -> None:
    """Every account, one after another: through the kept page's app (or, when the app does
    not follow its router, a trimmed navigation after the wait) exactly as through the whole
    page navigated each time. Answers not shown there (verification) go to the page."""
    handles = list(ACCOUNTS)
    sim = Simulator(kuaishou_in_app=in_app)
    with LocalServer(sim.routes()) as srv:
        quick, whole = _reads(srv, handles), _reads(srv, handles, whole=True)
    assert [_judged(o) for o in quick] == [_judged(o) for o in whole]


def test_a_page_whose_app_needs_a_call_not_kept_is_read_whole() -> None:
    """The site changed: its app asks a call the reader does not know before the works. The
    trimmed page never shows them; the check reads the whole page instead of blaming the
    account (a missing list would be 页面未加载作品列表, never the account's)."""
    sim = Simulator()
    with LocalServer(sim.routes()) as srv:
        (obs,) = _reads(srv, ["3xksnewcall"])
    assert obs.outcome is Outcome.ok and len(obs.posts) == 3, obs.detail
    assert sim.pages["kuaishou_page"] == 2  # the trimmed page, then the whole one


def test_a_call_from_a_kept_page_is_refused_unsigned() -> None:
    """Why Kuaishou navigates: the site signs only its app's own calls, so an API asked by a
    page's XHR (Douyin's way) is refused — ``result 50`` "签名验证失败"."""

    async def main(base: str) -> Any:
        async with BrowserPool(FAST) as pool:
            await pool.visit("kuaishou", f"{base}/profile/3xks000001", capture=[FEED_API])
            return await pool.call("kuaishou", base, [f"{base}/rest/v/profile/get"])

    with LocalServer(Simulator().routes()) as srv:
        answers = asyncio.run(main(srv.base))
    assert answers is not None
    assert answers.first(PROFILE_API).data == {"result": 50, "error_msg": "签名验证失败"}


def test_an_app_that_never_follows_its_router_is_not_waited_for_on_every_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the real app does not ask again when moved, two checks wait for it in vain; the
    next ones navigate at once (for an hour) instead of each paying the wait — and read
    the same."""
    from probes.fetch.browser import BrowserPool as Pool
    from probes.platforms.kuaishou import reader

    monkeypatch.setattr(reader, "IN_APP", reader._InAppTrust())
    monkeypatch.setattr(reader, "IN_APP_SECONDS", 1.5)
    tried: list[str] = []
    real_call = Pool.call

    async def call(self: Pool, *args: Any, **kw: Any) -> Any:
        tried.append(str(kw.get("route")))
        return await real_call(self, *args, **kw)

    monkeypatch.setattr(Pool, "call", call)
    sim = Simulator(kuaishou_in_app=False)
    handles = ["3xks000001", "3xksempty", "3xks000001", "3xksempty", "3xks000001"]
    with LocalServer(sim.routes()) as srv:
        seen = _reads(srv, handles)
    # the first check navigates (no page kept yet: the call finds none and waits for nothing)
    assert tried[: reader.MISSES_TO_DOUBT + 1] == [f"/profile/{h}" for h in handles[:3]]
    assert len(tried) == reader.MISSES_TO_DOUBT + 1
    assert [_judged(o) for o in seen[2:4]] == [_judged(o) for o in seen[:2]]
