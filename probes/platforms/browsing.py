"""What the browser readers share: open a page in the pool, keep the evidence.

Douyin, Toutiao and Kuaishou sign their APIs in page script, so the reader lets
the real page call them and reads the JSON it captured (DOMAIN §7). The page HTML and each
captured JSON body become artifacts (and a screenshot, when the pool takes one per visit:
the evidence picture is otherwise drawn from the HTML later); a browser failure becomes an
``error`` observation with the pool's Chinese message. The pool is the one the caller was given
(``Tools.browser``): without one the reader says so, rather than starting a default browser
the configuration never asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from probes.fetch.browser import BrowserError, BrowserPool, PageResult
from probes.model import Artifact, Observation, Outcome, Target
from probes.platforms.common import first_marker, set_outcome
from probes.platforms.registry import clock, describe_status, failed, outcome_for_status

#: Words on a page that mean "prove you are human": a block, not a stale account.
CAPTCHA_MARKERS = ("验证码", "captcha", "安全验证", "环境异常", "访问频繁", "verify.snssdk")
#: Why a browser platform was not read when the process has no browser pool.
NO_BROWSER = "未配置浏览器（[browser]），无法读取该平台"


async def open_page(
    target: Target,
    pool: BrowserPool | None,
    platform: str,
    url: str,
    *,
    capture: Sequence[str],
    wait_for: Sequence[str] | None = None,
    evaluate: str | None = None,
) -> tuple[Observation, PageResult | None]:
    """Visit ``url`` in ``pool``; the observation carries status, artifacts and an outcome from
    status. No pool (``Tools.browser`` is None): an ``error`` observation and no page."""
    if pool is None:
        return failed(target, clock(), NO_BROWSER), None
    try:
        page = await pool.visit(
            platform, url, capture=capture, wait_for=wait_for, evaluate=evaluate
        )
    except BrowserError as e:
        return failed(target, clock(), e.message), None
    return page_observation(target, page, url), page


def page_observation(target: Target, page: PageResult, url: str = "") -> Observation:
    """An ``ok`` observation of what a page showed: its HTML, the answers it captured (and a
    picture) as evidence; the outcome from the document's status, when there was one."""
    obs = Observation(
        account_id=target.account_id,
        reader=target.reader,
        url=target.url or url or page.url,
        fetched_at=clock(),
        outcome=Outcome.ok,
        status_code=page.status,
        final_url=page.final_url,
        elapsed_ms=page.elapsed_ms,
    )
    if page.html:
        obs.artifacts.append(Artifact("page", "text/html", page.html.encode(), page.final_url))
    for c in page.captured:
        obs.artifacts.append(Artifact("json", "application/json", c.body, c.url))
    if page.screenshot:
        obs.artifacts.append(Artifact("screenshot", "image/jpeg", page.screenshot, page.final_url))
    if page.status is not None and (o := outcome_for_status(page.status)) is not None:
        set_outcome(obs, o, describe_status(page.status))
    return obs


def missing(obs: Observation, page: PageResult, what: str, gone: Sequence[str] = ()) -> Observation:
    """The page did not call the API we wait for: gone, captcha, or a changed site."""
    text = page.html
    if marker := first_marker(text, tuple(gone)):
        return set_outcome(obs, Outcome.not_found, f"账号已不存在：页面显示“{marker}”")
    if first_marker(text, CAPTCHA_MARKERS) or "captcha" in page.final_url:
        return set_outcome(obs, Outcome.blocked, "被平台验证码/风控页面拦截")
    return set_outcome(obs, Outcome.error, f"页面未加载{what}（平台改版或加载超时）")


def dig(data: Any, *keys: str | int) -> Any:
    """``data[k1][k2]...`` or None: platform JSON is deep and fields come and go."""
    for k in keys:
        if isinstance(k, int):
            if not isinstance(data, list) or len(data) <= k:
                return None
        elif not isinstance(data, dict) or k not in data:
            return None
        data = data[k]
    return data
