"""A list page that changed only in noise (a CSRF token, a nonce, a visit counter) is known
unchanged from its items' own HTML, without its posts being built again
(``probes.platforms.webpage.READS``): the observation must be exactly the one reading it in
full gives — on the peer bench's page, on noisy variants of it and of the fixture pages —
and a page whose posts would read differently at another time is never remembered."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from localserver import FIXTURES, LocalServer, Reply, Request

from probes.fetch import Tools
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Previous, Target
from probes.platforms import observe
from probes.platforms.webpage import READS

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 14:00 in Beijing
FAST = HttpSettings(timeout_seconds=5.0, connect_timeout_seconds=1.0, retries=0)
BENCH = Path(__file__).resolve().parents[1] / "bench"


def _bench_page(i: int) -> bytes:
    """``bench/pages.py``'s news list, the page ``bench/peer.py`` measures."""
    spec = importlib.util.spec_from_file_location("bench_pages", BENCH / "pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_pages", module)
    spec.loader.exec_module(module)
    page: Callable[..., bytes] = module.page
    return page(i, today=NOW.date())  # dated from the test's clock, not the run's day


def noisy(body: bytes, n: int) -> bytes:
    """``body`` with what changes per request on real pages (as ``bench/peer_pages.py``):
    a CSRF token and a script nonce in the head, a form field and a visit counter below."""
    head = f'<meta name="csrf-token" content="t{n:08x}"><script nonce="n{n}">var t={n};</script>'
    foot = (
        f'<form class="search"><input type="hidden" name="_csrf" value="t{n:08x}"></form>'
        f'<div class="visits">本页访问量：{1000 + n} 次 生成时间：{1764000000 + n}.125</div>'
    )
    body = body.replace(b"</head>", head.encode() + b"</head>", 1)
    return body.replace(b"</body>", foot.encode() + b"</body>", 1)


@dataclass
class Case:
    body: bytes
    content_type: str
    options: dict[str, str]
    changed: Callable[[bytes], bytes]  # the page with one post's text changed
    remembered: bool = True  # every date read without the clock


def _fixture(name: str) -> bytes:
    return (FIXTURES / "pages" / name).read_bytes()


CASES = {
    "bench page": Case(
        _bench_page(7),
        "text/html; charset=utf-8",
        {"item": "ul.news-list > li", "date": "span.date"},
        lambda b: b.replace("第3批".encode(), "第三批".encode(), 1),
    ),
    "bench page, dates in the item text": Case(
        _bench_page(8),
        "text/html; charset=utf-8",
        {"item": "ul.news-list > li"},
        lambda b: b.replace(b"2026-11-23", b"2026-11-22", 1),
    ),
    "gbk list with a pinned item": Case(
        _fixture("tzgg_gbk_meta.html"),
        "text/html",
        {"item": "ul.news-list > li", "date": "span.date", "pinned": "span.top"},
        lambda b: b.replace("燃气".encode("gb18030"), "供水".encode("gb18030"), 1),
    ),
    "gbk table without a charset": Case(
        _fixture("zwdt_gbk_nometa.html"),
        "text/html",
        {"item": "table.list tr.row"},
        lambda b: b.replace("传达学习".encode("gb18030"), "学习贯彻".encode("gb18030"), 1),
    ),
    "styled gb2312 list": Case(
        _fixture("zwdt_styled_gb2312.html"),
        "text/html",
        {"item": "ul.news > li", "date": "span.date"},
        lambda b: b.replace("森林".encode("gb2312"), "草原".encode("gb2312"), 1),
    ),
    "relative dates (read against the clock)": Case(
        _fixture("xwzx_utf8.html"),
        "text/html; charset=utf-8",
        {"item": "article.card", "date": ".meta time, .meta .when", "pinned": ".icon-top"},
        lambda b: b.replace("办事指南".encode(), "办事须知".encode(), 1),
        remembered=False,
    ),
}


class Page:
    """One URL whose body the test sets before each look."""

    def __init__(self, case: Case) -> None:
        self.body, self.case = case.body, case

    def __call__(self, req: Request) -> Reply:
        return Reply(body=self.body, headers={"Content-Type": self.case.content_type})


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Page, Target]]:
    page = Page(CASES[request.param])
    READS.clear()
    with LocalServer({"/list/": page}) as srv:
        t = Target(
            account_id="web-1", platform="website", reader="webpage", url=srv.url("/list/"),
            options=page.case.options,
        )  # fmt: skip
        yield page, t
    READS.clear()


def look(t: Target, prev: Previous | None, at: datetime = NOW) -> Observation:
    async def main() -> Observation:
        async with Fetcher(FAST) as f:
            return await observe(replace(t, previous=prev), Tools(http=f), now=at)

    obs = asyncio.run(main())
    obs.elapsed_ms = 0  # the one thing two looks at the same bytes do not share
    return obs


def fast_and_slow(page: Page, t: Target, body: bytes, prev: Previous) -> tuple[Observation, ...]:
    """The look at ``body`` with what this process remembers, and the one reading it whole."""
    page.body = body
    hits = READS.hits
    fast = look(t, prev)
    used = READS.hits > hits
    READS.clear()
    slow = look(t, prev)
    return fast, slow, used  # type: ignore[return-value]


@pytest.mark.parametrize("served", list(CASES), indirect=True)
def test_a_remembered_read_is_the_full_read(served: tuple[Page, Target]) -> None:
    page, t = served
    case = page.case
    page.body = noisy(case.body, 1)
    first = look(t, None)
    assert first.posts and first.meaning and not first.unchanged
    assert len(READS) == (1 if case.remembered else 0)
    prev = Previous(meaning=first.meaning)

    # the same posts, other noise: unchanged, and exactly what reading it in full says
    fast, slow, used = fast_and_slow(page, t, noisy(case.body, 2), prev)
    assert fast == slow
    assert fast.unchanged and not fast.posts and fast.meaning == first.meaning
    assert used is case.remembered

    # one post's text changed under new noise: read in full, whatever was remembered
    look(t, None)  # remember the page again (fast_and_slow forgot it)
    fast, slow, used = fast_and_slow(page, t, noisy(case.changed(case.body), 3), prev)
    assert fast == slow and not fast.unchanged and fast.posts
    assert fast.meaning != first.meaning

    # no last meaning (fresh evidence due): read in full though the input is known
    page.body = noisy(case.body, 4)
    look(t, None)
    fast, slow, _ = fast_and_slow(page, t, noisy(case.body, 5), Previous())
    assert fast == slow and not fast.unchanged and fast.posts == first.posts


@pytest.mark.parametrize("served", list(CASES), indirect=True)
def test_what_is_remembered_reads_the_same_at_any_time(served: tuple[Page, Target]) -> None:
    """The property the memory stands on: a remembered page's posts do not depend on when
    it is read; a page whose posts do (relative dates) is not remembered."""
    page, t = served
    page.body = noisy(page.case.body, 1)
    now = look(t, None)
    READS.clear()
    later = look(t, None, NOW + timedelta(days=400))
    if page.case.remembered:
        assert len(READS) == 1 and later.posts == now.posts
    else:
        assert len(READS) == 0 and later.posts != now.posts


@pytest.mark.parametrize("served", ["bench page"], indirect=True)
def test_the_memory_does_not_outgrow_its_bound(served: tuple[Page, Target]) -> None:
    _, t = served
    size = READS.size
    READS.size = 3
    try:
        for i in range(6):  # six pages: their bases differ
            look(replace(t, url=f"{t.url}?a={i}"), None)
        assert len(READS) == 3
    finally:
        READS.size = size
