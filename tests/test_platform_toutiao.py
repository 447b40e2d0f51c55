"""Toutiao's author page as it loads today (``/api/pc/list/user/feed?category=profile_all``),
read in real Chromium from the simulator's captured answers (``tests/fixtures/platforms/
toutiao``): every cell type dated right, the pinned item kept pinned, and the anonymous
``data: []`` withheld — its honest twin is the same feed with items, judged on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from browser_runs import observe_all, target, verdicts
from localserver import LocalServer
from simulator import NOW, Simulator

from probes.fetch.browser import DEFAULT_EXECUTABLE
from probes.model import Observation, Outcome, Severity, Sight

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_EXECUTABLE).exists(), reason=f"{DEFAULT_EXECUTABLE} is not installed"
)


@pytest.fixture(scope="module")
def seen() -> Iterator[dict[str, Observation]]:
    with LocalServer(Simulator().routes()) as srv:
        ok, withheld = observe_all(
            [target("toutiao", t, srv.base) for t in ("MS4wLjABAAAAtt", "MS4wLjABAAAAttwithheld")]
        )
        yield {"ok": ok, "withheld": withheld}


def test_each_cell_type_is_dated_and_linked_right(seen: dict[str, Observation]) -> None:
    obs = seen["ok"]
    assert obs.outcome is Outcome.ok and obs.sight is Sight.posts, obs.detail
    got = [(p.title, p.published_at, p.pinned, p.url) for p in obs.posts]
    base = "https://www.toutiao.com"
    assert got == [
        # cell 60, stuck on top for 300 days
        ("置顶：办事指南", NOW - timedelta(days=300), True, f"{base}/article/7440000000000000001/"),
        # cell 32 微头条: no title, its first line stands for one
        ("全市冬季供暖工作会议召开", NOW - timedelta(hours=6), False,
         f"{base}/w/7440000000000000002/"),
        # cell 49 video
        ("冬季消防安全提示", NOW - timedelta(days=2), False, f"{base}/video/7440000000000000003/"),
        ("关于开展冬季安全生产大检查的通知", NOW - timedelta(days=12), False,
         f"{base}/article/7440000000000000004/"),
    ]  # fmt: skip
    assert obs.posts[1].text == "全市冬季供暖工作会议召开\n会议要求各区县确保供暖平稳。"
    p = obs.profile
    assert (p.name, p.verified, p.verified_reason) == (
        "示例发布",
        True,
        "示例市人民政府新闻办公室官方账号",
    )
    assert verdicts(obs) == {}  # the 微头条 six hours ago is an update


def test_an_anonymous_empty_feed_is_withheld(seen: dict[str, Observation]) -> None:
    obs = seen["withheld"]
    assert obs.outcome is Outcome.unreadable and obs.posts == []
    assert obs.detail == "今日头条未向本次访问展示作品列表（返回空列表，主页不显示作品数）"
    assert verdicts(obs) == {"unreadable": Severity.warning}
