"""Douyin as it answers today, read in real Chromium from the simulator's captured answers
(``tests/fixtures/platforms/douyin``, sources in its ``SOURCES.md``).

An empty post list is what Douyin shows anonymous visitors of accounts with hundreds of works:
never an accusation. Each withheld case has its honest twin: the same empty list with a profile
counter of 0 is a real empty account, and stale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from browser_runs import FAST, observe_all, target, verdicts
from localserver import LocalServer
from simulator import NOW, Simulator
from simulator.douyin import ACCOUNTS

from probes.fetch import Tools
from probes.fetch.browser import DEFAULT_EXECUTABLE, BrowserPool
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Severity, Sight
from probes.platforms import PLATFORMS, observe

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_EXECUTABLE).exists(), reason=f"{DEFAULT_EXECUTABLE} is not installed"
)
P = "MS4wLjABAAAA"


@pytest.fixture(scope="module")
def both() -> Iterator[tuple[dict[str, Observation], dict[str, Observation]]]:
    """Every simulated Douyin account read through one pool at once (each check loads the
    user page), and one after another through another pool, once a first check left a page
    open (each check asks the APIs from it)."""
    with LocalServer(Simulator().routes()) as srv:
        handles = list(ACCOUNTS)
        targets = [target("douyin", h, srv.base) for h in handles]
        observed = observe_all(targets)

        async def in_turn() -> list[Observation]:
            async with BrowserPool(FAST) as pool, Fetcher(HttpSettings(retries=0)) as f:
                tools = Tools(http=f, browser=pool)
                await observe(targets[0], tools, now=NOW)  # loads a user page, left open
                got = [await observe(t, tools, now=NOW) for t in targets]
                return [*got, await observe(targets[0], tools, now=NOW)]

        *one_by_one, again = asyncio.run(in_turn())
        asked = {h.removeprefix(P): o for h, o in zip(handles, one_by_one, strict=True)}
        yield (
            {h.removeprefix(P): o for h, o in zip(handles, observed, strict=True)},
            asked | {"ok-again": again},
        )


@pytest.fixture(scope="module")
def seen(
    both: tuple[dict[str, Observation], dict[str, Observation]],
) -> dict[str, Observation]:
    return both[0]


@pytest.mark.parametrize("handle", [h.removeprefix(P) for h in ACCOUNTS])
def test_asked_from_an_open_page_the_answers_are_judged_alike(
    both: tuple[dict[str, Observation], dict[str, Observation]], handle: str
) -> None:
    """A check that asks the APIs from a page left open says what one that loads the user page
    says — and for what that page call was not shown (the verification page's account, whose
    calls come back empty), the check loads the user page as before."""
    loaded, asked = both[0][handle], both[1][handle]
    assert (asked.outcome, asked.detail, asked.sight) == (
        loaded.outcome,
        loaded.detail,
        loaded.sight,
    )
    assert [(p.id, p.published_at, p.pinned) for p in asked.posts] == [
        (p.id, p.published_at, p.pinned) for p in loaded.posts
    ]
    assert asked.profile == loaded.profile
    documents = [a for a in asked.artifacts if a.kind == "page"]
    if handle in ("ok", "gone", "empty", "stalepin"):  # shown: no page was loaded for them
        assert documents == [] and {a.kind for a in asked.artifacts} == {"json"}
    if handle == "captcha":  # the empty answers sent it to the user page: the evidence
        assert documents and "验证码中间页" in documents[0].content.decode()


def test_an_unsigned_call_gets_an_empty_body() -> None:
    """The simulator's APIs answer only calls the site's script signed (an in-page call is)."""
    import urllib.request

    with LocalServer(Simulator().routes()) as srv:
        q = f"device_platform=webapp&aid=6383&channel=channel_pc_web&sec_user_id={P}ok"
        url = f"{srv.base}/aweme/v1/web/aweme/post/?{q}"
        with urllib.request.urlopen(url) as r:
            assert (r.status, r.read()) == (200, b"")
        with urllib.request.urlopen(url + "&a_bogus=sim") as r:
            assert b"aweme_list" in r.read()


def test_profile_counter_pins_and_dates_are_read(seen: dict[str, Observation]) -> None:
    obs = seen["ok"]
    assert obs.outcome is Outcome.ok and obs.sight is Sight.posts, obs.detail
    assert (obs.profile.name, obs.profile.posts_count, obs.profile.followers) == (
        "示例市融媒体中心",
        321,
        56789,
    )
    pin, fresh = obs.posts
    assert pin.pinned and pin.published_at == NOW - timedelta(days=90)
    assert not fresh.pinned and fresh.published_at == NOW - timedelta(hours=2)
    assert fresh.comments_disabled is False  # aweme_control.can_comment
    assert verdicts(obs) == {}  # posted two hours ago; the old pin does not count


@pytest.mark.parametrize("handle", ["withheld", "null"])
def test_an_empty_list_while_the_profile_counts_works_is_withheld(
    seen: dict[str, Observation], handle: str
) -> None:
    """``aweme_list: []`` / ``null``, ``has_more 0``, and 1,288 works on the profile."""
    obs = seen[handle]
    assert obs.outcome is Outcome.unreadable and obs.sight is None
    assert obs.detail == "抖音未向未登录访客展示作品列表（资料显示有 1288 个作品）"
    assert obs.profile.posts_count == 1288  # the counter-growth rule still reads it
    assert verdicts(obs) == {"unreadable": Severity.warning}  # told to ops: never stale


@pytest.mark.parametrize("handle", ["empty", "emptynull"])
def test_the_same_empty_list_with_a_counter_of_0_is_a_real_empty_account(
    seen: dict[str, Observation], handle: str
) -> None:
    obs = seen[handle]
    assert obs.outcome is Outcome.ok and obs.sight is Sight.none, obs.detail
    assert obs.profile.posts_count == 0 and obs.posts == []
    assert verdicts(obs) == {"stale": Severity.veto}  # an account that never posts is stale


@pytest.mark.parametrize(
    ("handle", "reason"),
    [
        ("captcha", "抖音要求完成验证（验证码页面），未展示账号内容"),
        ("verify", "抖音接口要求完成验证（verify），未展示账号内容"),
        ("verifycheck", "抖音接口要求完成验证（verify），未展示账号内容"),
        ("emptybody", "抖音接口返回空内容（风控验证），未展示账号内容"),
    ],
)
def test_verification_answers_are_blocked(
    seen: dict[str, Observation], handle: str, reason: str
) -> None:
    obs = seen[handle]
    assert (obs.outcome, obs.detail) == (Outcome.blocked, reason)
    assert obs.posts == [] and not obs.login_required
    assert verdicts(obs) == {"blocked": Severity.warning}


def test_a_fresh_pin_over_old_posts_is_still_stale(seen: dict[str, Observation]) -> None:
    obs = seen["stalepin"]
    assert obs.outcome is Outcome.ok
    assert [p.pinned for p in obs.posts] == [True, False, False]
    assert obs.posts[0].published_at == NOW - timedelta(days=1)  # pinned yesterday
    assert verdicts(obs) == {"stale": Severity.veto}  # the newest unpinned post is 40 days old


def test_a_cancelled_account_is_gone(seen: dict[str, Observation]) -> None:
    obs = seen["gone"]
    assert (obs.outcome, obs.detail) == (Outcome.not_found, "抖音账号已不存在：该账号已注销")


def test_the_declaration_is_true() -> None:
    spec = PLATFORMS["douyin"]
    assert spec.browser and dict(spec.origins) == {"www": "https://www.douyin.com"}


def test_two_looks_asked_from_a_page_say_the_same(
    both: tuple[dict[str, Observation], dict[str, Observation]],
) -> None:
    """Whichever account's page was left open, the look names the list it asked for: two
    looks at an account that did not change mean the same (``probes.meaning``)."""
    first, again = both[1]["ok"], both[1]["ok-again"]
    assert first.meaning and first.meaning == again.meaning
    assert first.final_url is not None and "/aweme/v1/web/aweme/post/" in first.final_url
