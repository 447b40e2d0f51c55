"""Kuaishou's profile page as it loads today (``POST /rest/v/profile/feed``), read in real
Chromium from the simulator's captured answers (``tests/fixtures/platforms/kuaishou``).

Verification answers (``result`` 2 / 50 / 400002 / 2001) are blocked, never stale; their honest
twin is ``result 1`` read as posts. An empty feed under a counter of 56 is withheld; its twin,
under a counter of 0, is a real empty account.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from browser_runs import observe_all, target, verdicts
from localserver import LocalServer
from simulator import NOW, Simulator
from simulator.kuaishou import ACCOUNTS

from probes.fetch.browser import DEFAULT_EXECUTABLE
from probes.model import Observation, Outcome, Severity, Sight
from probes.platforms import PLATFORMS

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
