"""Xiaohongshu behind its 2025 login wall, read in real Chromium from the simulator's captured
pages (``tests/fixtures/platforms/xiaohongshu``): an anonymous visitor is redirected to
``/login`` or shown the profile with a login dialog and no notes — ``blocked`` and
``login_required``, never stale. The honest twin: the same accounts through a logged-in context
(a ``web_session`` cookie) show their notes, dated from their ids and judged on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from browser_runs import observe_all, target, verdicts
from localserver import LocalServer
from simulator import NOW, Simulator
from simulator.xiaohongshu import session_context

from probes.fetch.browser import DEFAULT_EXECUTABLE
from probes.model import Observation, Outcome, Severity, Sight
from probes.platforms import PLATFORMS, SessionNeed

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_EXECUTABLE).exists(), reason=f"{DEFAULT_EXECUTABLE} is not installed"
)
P = "5f00000000000000000"
WALL = "小红书未向未登录访客展示主页（需要登录会话：xuncha sessions）"
HANDLES = ("00001", "00002", "00403", "00404")


@pytest.fixture(scope="module")
def seen() -> Iterator[dict[str, Observation]]:
    """Each account read anonymously and through a logged-in context."""
    with LocalServer(Simulator().routes()) as srv:
        targets = [target("xiaohongshu", P + h, srv.base) for h in HANDLES]
        anonymous = observe_all(targets)
        logged_in = observe_all(targets, session=session_context())
        yield {
            **{f"anon-{h}": o for h, o in zip(HANDLES, anonymous, strict=True)},
            **{f"session-{h}": o for h, o in zip(HANDLES, logged_in, strict=True)},
        }


@pytest.mark.parametrize("handle", ["00001", "00002"])
def test_the_login_wall_is_blocked_and_asks_for_a_session(
    seen: dict[str, Observation], handle: str
) -> None:
    """``…0001``: 302 to ``/login``; ``…0002``: the profile with a login dialog, no notes."""
    obs = seen[f"anon-{handle}"]
    assert (obs.outcome, obs.detail, obs.login_required) == (Outcome.blocked, WALL, True)
    assert obs.posts == [] and obs.sight is None
    assert verdicts(obs) == {"blocked": Severity.warning}
    assert obs.facts()["login_required"] is True  # kept on the snapshot for the sessions work


def test_the_redirect_and_the_dialog_are_both_evidence(seen: dict[str, Observation]) -> None:
    redirected, dialog = seen["anon-00001"], seen["anon-00002"]
    assert redirected.final_url is not None and "/login?redirectPath=" in redirected.final_url
    assert dialog.profile.name == "示例文旅"  # what the wall still shows is kept


@pytest.mark.parametrize("handle", ["00001", "00002"])
def test_a_logged_in_session_reads_the_notes(seen: dict[str, Observation], handle: str) -> None:
    obs = seen[f"session-{handle}"]
    assert obs.outcome is Outcome.ok and obs.sight is Sight.posts, obs.detail
    assert not obs.login_required
    assert (obs.profile.name, obs.profile.ip_location, obs.profile.followers) == (
        "示例文旅",
        "山东",
        10000,
    )
    # dated from their ObjectIds: a pin from 200 days ago, notes of yesterday and 30 days ago
    assert [(p.pinned, p.published_at) for p in obs.posts] == [
        (True, NOW - timedelta(days=200)),
        (False, NOW - timedelta(days=1)),
        (False, NOW - timedelta(days=30)),
    ]
    assert verdicts(obs) == {}


@pytest.mark.parametrize("who", ["anon", "session"])
def test_the_security_check_and_a_gone_account_are_not_a_login_wall(
    seen: dict[str, Observation], who: str
) -> None:
    captcha, gone = seen[f"{who}-00403"], seen[f"{who}-00404"]
    assert (captcha.outcome, captcha.login_required) == (Outcome.blocked, False)
    assert captcha.detail == "被小红书安全验证拦截"
    assert (gone.outcome, gone.login_required) == (Outcome.not_found, False)


def test_the_declaration_is_true() -> None:
    spec = PLATFORMS["xiaohongshu"]
    assert spec.browser and spec.session is SessionNeed.required
    assert dict(spec.origins) == {"www": "https://www.xiaohongshu.com"}
