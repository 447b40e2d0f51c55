"""Douyin as it answers today, read in real Chromium from the simulator's captured answers
(``tests/fixtures/platforms/douyin``, sources in its ``SOURCES.md``).

An empty post list is what Douyin shows anonymous visitors of accounts with hundreds of works:
never an accusation. Each withheld case has its honest twin: the same empty list with a profile
counter of 0 is a real empty account, and stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from browser_runs import observe_all, target, verdicts
from localserver import LocalServer
from simulator import NOW, Simulator
from simulator.douyin import ACCOUNTS

from probes.fetch.browser import DEFAULT_EXECUTABLE
from probes.model import Observation, Outcome, Severity, Sight
from probes.platforms import PLATFORMS

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_EXECUTABLE).exists(), reason=f"{DEFAULT_EXECUTABLE} is not installed"
)
P = "MS4wLjABAAAA"


@pytest.fixture(scope="module")
def seen() -> Iterator[dict[str, Observation]]:
    """Every simulated Douyin account, read once through one pool."""
    with LocalServer(Simulator().routes()) as srv:
        handles = list(ACCOUNTS)
        observed = observe_all([target("douyin", h, srv.base) for h in handles])
        yield {h.removeprefix(P): o for h, o in zip(handles, observed, strict=True)}


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
