"""Platforms read over plain HTTP first (``PlatformSpec.http_first``), the browser only when
that answer was not shown to us: Toutiao's feed signed with its public ``a_bogus``, and
Xiaohongshu's state embedded in the profile page's HTML, read with the session's cookies.

The simulator checks Toutiao's signature against the query and the User-Agent, and refuses a
bad one as the site does (HTTP 200, an empty body); it shows Xiaohongshu's notes only to the
session's ``web_session`` cookie. Where the HTTP answer serves, the browser is never launched.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from browser_runs import FAST, target
from localserver import LocalServer
from simulator import NOW, Simulator
from simulator.toutiao import signed
from simulator.xiaohongshu import SESSION

from probes.fetch import Tools
from probes.fetch.browser import DEFAULT_EXECUTABLE, BrowserPool
from probes.fetch.http import DEFAULT_USER_AGENT, Fetcher, HttpSettings
from probes.fetch.session import Cookie, LoginSession
from probes.model import Observation, Outcome, Previous, Sight, Target
from probes.platforms import PLATFORMS, observe
from probes.platforms.toutiao.abogus import sign
from probes.platforms.xiaohongshu.reader import embedded_state

HAS_CHROMIUM = Path(DEFAULT_EXECUTABLE).exists()
XHS = "5f00000000000000000"
#: RSSHub's query for an author's feed (lib/routes/toutiao/user.tsx)
QUERY = (
    "category=profile_all&token=MS4wLjABAAAApOspM7AnWqplD9FIBGnhJRfUjFT_msD1KZMfNPBZa-c"
    "&max_behot_time=0&entrance_gid&aid=24&app_name=toutiao_web"
)


class Draws(random.Random):
    """``Math.random`` as the reference run drew it."""

    def __init__(self, *values: float) -> None:
        super().__init__()
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def test_a_bogus_is_rsshubs_byte_for_byte() -> None:
    """DIYgod/RSSHub ``lib/routes/toutiao/a-bogus.ts`` run under node (its SM3 and RC4 from
    node's crypto) with ``Date.now()`` 1795500000000 and ``Math.random()`` 0.1234, 0.5678,
    0.9012 gave this for QUERY and xuncha's User-Agent."""
    got = sign(
        QUERY, DEFAULT_USER_AGENT, now_ms=1_795_500_000_000, rng=Draws(0.1234, 0.5678, 0.9012)
    )
    assert got == (
        "E7mhBdugDifihdWk5RxLfY3q6RF3Ypsf0trEMD2fcn370639HMYD9exooHiveR8jFT/nIeYjy4hbT3ohrQ2y8qw"
        "f9W0L/25gsDSkKl12so0j53inCLf/E0iE5hsAtFH8svr4iKi8owICSYyhldAJ5kIlO62-zo0/9Wj="
    )


def test_the_simulator_tells_a_signature_of_another_query_or_agent() -> None:
    sig = sign(QUERY, DEFAULT_USER_AGENT)
    assert signed(QUERY, sig, DEFAULT_USER_AGENT)
    assert not signed(
        QUERY.replace("max_behot_time=0", "max_behot_time=1"), sig, DEFAULT_USER_AGENT
    )
    assert not signed(QUERY, sig, "Mozilla/5.0 (X11; Linux x86_64)")
    assert not signed(QUERY, "sim", DEFAULT_USER_AGENT)


def test_the_embedded_state_is_read_with_its_undefined_values() -> None:
    html = (
        '<script>window.__INITIAL_STATE__={"global":{"firstVisitUrl":undefined,"a":[undefined,1]},'
        '"user":{"desc":"not undefined here","url":"https:\\u002F\\u002Fx"}}</script>'
    )
    assert embedded_state(html) == {
        "global": {"firstVisitUrl": None, "a": [None, 1]},
        "user": {"desc": "not undefined here", "url": "https://x"},
    }
    assert embedded_state("<html>no state</html>") is None


def test_the_declarations() -> None:
    http_first = {code for code, spec in PLATFORMS.items() if spec.http_first}
    assert http_first == {"toutiao", "xiaohongshu"}
    assert all(PLATFORMS[c].browser for c in http_first)  # the browser stays their fallback


def _session() -> LoginSession:
    cookie = Cookie("web_session", SESSION, "127.0.0.1", host_only=True)
    return LoginSession(1, "xiaohongshu", "值班", (cookie,))


def _read(
    targets: list[Target], *, browser: bool, session: LoginSession | None = None
) -> tuple[list[Observation], int]:
    """Each target observed at NOW; and how many times a browser was launched."""

    async def main() -> tuple[list[Observation], int]:
        async with Fetcher(HttpSettings(retries=0)) as f:
            if not browser:
                tools = Tools(http=f)
                return [await observe(t, _signed(tools, session), now=NOW) for t in targets], 0
            async with BrowserPool(FAST) as pool:
                tools = Tools(http=f, browser=pool)
                got = [await observe(t, _signed(tools, session), now=NOW) for t in targets]
                return got, pool.launches

    return asyncio.run(main())


def _signed(tools: Tools, session: LoginSession | None) -> Tools:
    return tools.signed_in(session) if session is not None else tools


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[Simulator, str]]:
    s = Simulator()
    with LocalServer(s.routes()) as srv:
        yield s, srv.base


@contextmanager
def refusing(sim: tuple[Simulator, str]) -> Iterator[str]:
    """The simulator's signed Toutiao feed refusing every signature, for the block."""
    sim[0].toutiao_refuses = True
    try:
        yield sim[1]
    finally:
        sim[0].toutiao_refuses = False


def test_toutiao_over_http_alone(sim: tuple[Simulator, str]) -> None:
    """No browser at all: the signed feed is read; the withheld one is said as before."""
    _, base = sim
    (ok, withheld), _ = _read(
        [target("toutiao", t, base) for t in ("MS4wLjABAAAAtt", "MS4wLjABAAAAttwithheld")],
        browser=False,
    )
    assert ok.outcome is Outcome.ok and ok.sight is Sight.posts, ok.detail
    assert [p.url for p in ok.posts][:2] == [
        "https://www.toutiao.com/article/7440000000000000001/",
        "https://www.toutiao.com/w/7440000000000000002/",
    ]
    assert ok.posts[1].published_at == NOW - timedelta(hours=6)
    assert ok.artifacts[0].url.split("?")[0].endswith("/api/pc/list/feed")  # evidence: the JSON
    assert withheld.outcome is Outcome.unreadable
    assert withheld.detail == "今日头条未向本次访问展示作品列表（返回空列表，主页不显示作品数）"


def test_a_feed_api_that_answers_404_is_not_an_account_gone() -> None:
    """The site retired the feed endpoint: every account's request answers 404. That is the
    API's word, not the account's — never 账号已关停 (a finding told to the unit), but
    "not shown to us", which sends the check to the browser (here none: ops are told)."""
    with LocalServer({}) as srv:  # nothing served: 404 for every path
        (obs,), _ = _read([target("toutiao", "MS4wLjABAAAAtt", srv.base)], browser=False)
    assert obs.outcome is Outcome.unreadable and obs.posts == []
    assert obs.detail.startswith("今日头条作品接口不存在（") and "404" in obs.detail


def test_a_refused_signature_is_not_shown_to_us(sim: tuple[Simulator, str]) -> None:
    with refusing(sim) as base:
        (obs,), _ = _read([target("toutiao", "MS4wLjABAAAAtt", base)], browser=False)
    assert obs.outcome is Outcome.blocked and obs.posts == []
    assert obs.detail == "今日头条作品接口返回空内容（签名或风控），未展示作品"


def test_xiaohongshu_with_the_sessions_cookies_over_http(sim: tuple[Simulator, str]) -> None:
    """The session's cookies ride on the GET (``Tools.signed_in``); without one, the wall."""
    _, base = sim
    targets = [target("xiaohongshu", XHS + h, base) for h in ("00001", "00002", "00404")]
    (n1, n2, gone), _ = _read(targets, browser=False, session=_session())
    for obs in (n1, n2):
        assert obs.outcome is Outcome.ok and obs.sight is Sight.posts, obs.detail
        assert [(p.pinned, p.published_at) for p in obs.posts] == [
            (True, NOW - timedelta(days=200)),
            (False, NOW - timedelta(days=1)),
            (False, NOW - timedelta(days=30)),
        ]
        assert (obs.profile.name, obs.profile.followers) == ("示例文旅", 10000)
    assert gone.outcome is Outcome.not_found
    (redirected, guest), _ = _read(targets[:2], browser=False)
    for obs in (redirected, guest):
        assert (obs.outcome, obs.login_required) == (Outcome.blocked, True)


@pytest.mark.skipif(not HAS_CHROMIUM, reason=f"{DEFAULT_EXECUTABLE} is not installed")
def test_read_over_http_the_browser_is_never_launched(sim: tuple[Simulator, str]) -> None:
    _, base = sim
    targets = [
        target("toutiao", "MS4wLjABAAAAtt", base),
        target("xiaohongshu", XHS + "00001", base),
    ]
    got, launches = _read(targets, browser=True, session=_session())
    assert [o.outcome for o in got] == [Outcome.ok, Outcome.ok]
    assert launches == 0


@pytest.mark.skipif(not HAS_CHROMIUM, reason=f"{DEFAULT_EXECUTABLE} is not installed")
def test_what_http_was_not_shown_the_browser_reads(sim: tuple[Simulator, str]) -> None:
    """A refused signature: the author page in the browser signs for itself and is read."""
    with refusing(sim) as base:
        (obs,), launches = _read([target("toutiao", "MS4wLjABAAAAtt", base)], browser=True)
    assert obs.outcome is Outcome.ok and len(obs.posts) == 4, obs.detail
    assert launches == 1
    assert any(a.kind == "page" for a in obs.artifacts)  # the browser's page is the evidence


def test_a_look_that_read_the_same_means_the_same(sim: tuple[Simulator, str]) -> None:
    """The signatures (Toutiao's ``a_bogus``, Bilibili's ``w_rid``/``wts``) change at every
    request; a second look a second later at an unchanged account is ``unchanged``."""
    _, base = sim

    async def twice(t: Target) -> tuple[Observation, Observation]:
        async with Fetcher(HttpSettings(retries=0)) as f:
            first = await observe(t, Tools(http=f), now=NOW)
            prev = Previous(meaning=first.meaning, posts_count=first.profile.posts_count)
            later = NOW + timedelta(seconds=1)
            return first, await observe(replace(t, previous=prev), Tools(http=f), now=later)

    tt = target("toutiao", "MS4wLjABAAAAtt", base)
    bili = Target("b", "bilibili", "bilibili", handle="10001", origins={"api": base, "space": base})
    for t in (tt, bili):
        first, second = asyncio.run(twice(t))
        assert first.outcome is Outcome.ok and first.meaning, (t.reader, first.detail)
        assert second.unchanged, t.reader
        assert "a_bogus" not in (first.final_url or "") and "w_rid" not in (first.final_url or "")
