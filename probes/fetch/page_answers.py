"""What a browser page answers a check: the responses it captures and the page it shows.

:class:`~probes.fetch.browser.BrowserPool` owns the browser, its contexts and kept pages;
this module reads one page it hands over, two ways: a navigation (:func:`read_page`: the
document, the captured API answers, what an expression evaluates to, the HTML) and the
kept page's app moved to another of its routes (:func:`in_app`: only the answers its own
script then fetches). Both listen to the page's responses through one :class:`_Answers`,
so "which answers count and when to stop waiting" is said once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: the app moved to another of its routes as its own links move it: the URL pushed, then the
#: ``popstate`` its router listens to (what the back button sends)
_IN_APP_ROUTE = """(path) => {
  history.pushState(history.state, '', path);
  window.dispatchEvent(new PopStateEvent('popstate', {state: history.state}));
}"""


class BrowserError(Exception):
    """The browser could not do its job; ``message`` is Chinese, for the duty officer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Captured:
    """One response the page fetched whose URL matched a capture pattern."""

    url: str
    status: int
    body: bytes
    data: Any = None  # parsed JSON, None if the body is not JSON


@dataclass
class PageResult:
    url: str
    final_url: str
    status: int | None  # of the main document
    html: str
    captured: list[Captured] = field(default_factory=list)
    evaluated: Any = None
    screenshot: bytes | None = None
    elapsed_ms: int = 0

    def first(self, pattern: str) -> Captured | None:
        rx = re.compile(pattern)
        return next((c for c in self.captured if rx.search(c.url)), None)


class _Answers:
    """The page's responses a check captures: those whose URL matches a ``capture`` pattern
    (and whose request ``accept`` takes). ``arrived`` once each ``wait_for`` pattern has
    answered, ``complete`` once each captured one has: nothing left to wait for."""

    def __init__(
        self,
        capture: Sequence[str],
        wait_for: Sequence[str],
        accept: Callable[[Any], bool] | None = None,
    ) -> None:
        self.patterns = [re.compile(p) for p in capture]
        self.waits = [re.compile(p) for p in wait_for]
        self.accept = accept
        self.seen: list[Any] = []
        self.arrived, self.complete = asyncio.Event(), asyncio.Event()
        if not self.waits:
            self.arrived.set()
        if not self.patterns:
            self.complete.set()

    def on_response(self, resp: Any) -> None:
        if not any(p.search(resp.url) for p in self.patterns):
            return
        if self.accept is not None and not self.accept(resp.request):
            return  # another account's (a call the page made before this check)
        self.seen.append(resp)
        if all(any(w.search(r.url) for r in self.seen) for w in self.waits):
            self.arrived.set()
        if all(any(p.search(r.url) for r in self.seen) for p in self.patterns):
            self.complete.set()

    async def settle(self, settle_ms: int) -> None:
        """Give the answers not awaited a moment to come too (``[browser] settle_ms``)."""
        if settle_ms and not self.complete.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.complete.wait(), settle_ms / 1000)

    async def captured(self) -> list[Captured]:
        out: list[Captured] = []
        for resp in list(self.seen):
            try:
                body = await asyncio.wait_for(resp.body(), 5)
            except Exception:
                continue  # a redirect or aborted response has no body
            out.append(Captured(resp.url, resp.status, body, json_of(body)))
        return out


async def in_app(
    page: Any,
    route: str,
    capture: Sequence[str],
    wait_for: Sequence[str],
    accept: Callable[[Any], bool] | None,
    limit: float,
    settle_ms: int,
) -> list[Captured] | None:
    """The answers the kept page's app fetches once moved to ``route`` (as its own links
    move it), or None when the awaited did not come within ``limit``."""
    answers = _Answers(capture, wait_for, accept)
    page.on("response", answers.on_response)
    try:
        await asyncio.wait_for(page.evaluate(_IN_APP_ROUTE, route), limit)
        try:
            await asyncio.wait_for(answers.arrived.wait(), limit)
        except TimeoutError:
            return None
        await answers.settle(settle_ms)
        return await answers.captured()
    finally:
        page.remove_listener("response", answers.on_response)


async def read_page(
    page: Any,
    url: str,
    capture: Sequence[str],
    wait_for: Sequence[str] | None,
    evaluate: str | None,
    limit: float,
    settle_ms: int,
) -> PageResult:
    """``url`` navigated in ``page``: its status, the answers matching ``capture`` (waited
    for until each of ``wait_for``, default all of ``capture``, answered or ``limit``),
    ``evaluate``'s value and the HTML. Missing answers are not an error here: the reader
    judges. :class:`BrowserError` when the page never came."""
    answers = _Answers(capture, capture if wait_for is None else wait_for)
    page.on("response", answers.on_response)
    try:
        return await _navigate(page, url, answers, evaluate, limit, settle_ms)
    finally:  # a page kept for the next check must not feed this check's list
        page.remove_listener("response", answers.on_response)


async def _navigate(
    page: Any, url: str, answers: _Answers, evaluate: str | None, limit: float, settle_ms: int
) -> PageResult:
    deadline = time.monotonic() + limit
    status: int | None = None
    # with answers to wait for, the document's first bytes are enough: the wait below is
    # for those answers, not for the page's own events
    until = "commit" if answers.waits or answers.patterns else "domcontentloaded"
    try:
        main = await page.goto(url, wait_until=until, timeout=limit * 1000)
        status = main.status if main is not None else None
    except Exception as e:  # playwright's TimeoutError/Error: the page never came
        raise BrowserError(f"浏览器打开页面失败：{short(str(e).splitlines()[0])}") from e
    if status is not None and status >= 400:
        answers.arrived.set()  # an error page will not call the account's APIs: do not wait
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(answers.arrived.wait(), max(0.1, deadline - time.monotonic()))
    await answers.settle(settle_ms)
    captured = await answers.captured()
    if answers.patterns:  # all we read is in: the rest of the page is not loaded
        with contextlib.suppress(Exception):
            await asyncio.wait_for(page.evaluate("window.stop()"), 2)
    evaluated = None
    if evaluate:
        with contextlib.suppress(Exception):
            evaluated = await asyncio.wait_for(page.evaluate(evaluate), 5)
    html = ""
    with contextlib.suppress(Exception):
        html = await asyncio.wait_for(page.content(), 5)
    return PageResult(url, page.url, status, html, captured, evaluated)


def json_of(body: bytes) -> Any:
    """``body`` parsed as JSON, None when it is not a JSON object or list."""
    text = body.strip()
    if not text or text[:1] not in (b"{", b"["):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def short(s: str, limit: int = 160) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"
