"""Plain HTTP first, the browser only when that answer is not shown to us.

A browser check costs ~250 ms of CPU (bench/browser_path.py); an HTTP one ~10. Where a
platform's public answers can be read without the page's script (the state embedded in the
HTML, a signature whose algorithm is public), its reader asks over HTTP and keeps the
browser for what the HTTP answer did not show: an empty list, a refusal, a login wall, a
failed request (:func:`probes.sight.settle` decides, as for every reader). What the platform
itself said — posts, its own word that there are none, an account that is gone — is kept:
the browser would only say it again, at 25 times the cost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from probes.fetch import Tools
from probes.fetch.http import FetchError, Response
from probes.model import Observation, Outcome, Target
from probes.platforms.registry import observation_from
from probes.platforms.spec import PlatformSpec
from probes.sight import settle

Read = Callable[[Target, Tools], Awaitable[Observation]]


def shown(obs: Observation) -> bool:
    """Whether an answer is the platform's word: posts, its own "none", or gone."""
    return obs.outcome is Outcome.not_found or settle(obs).outcome is Outcome.ok


async def read(
    spec: PlatformSpec, target: Target, tools: Tools, over_http: Read, in_browser: Read
) -> Observation:
    """``over_http`` when ``spec.http_first`` and it was shown; else ``in_browser`` — and the
    HTTP answer when there is no browser to ask (``Tools.browser`` None): what HTTP saw
    beats "no browser configured"."""
    if not spec.http_first:
        return await in_browser(target, tools)
    try:
        obs = await over_http(target, tools)
    except FetchError:
        if tools.browser is None:
            raise  # observe() makes it an error observation, as for any HTTP reader
        return await in_browser(target, tools)
    if shown(obs) or tools.browser is None:
        return obs
    return await in_browser(target, tools)


async def get(
    target: Target, tools: Tools, url: str, *, platform: str, accept: str, referer: str, kind: str
) -> tuple[Observation, Response]:
    """GET ``url`` with ``platform``'s cookies (a session's, when the check has one): the
    observation of its answer (outcome from the status, the body as evidence) and the answer."""
    resp = await tools.http.get(
        url, headers={"Accept": accept, "Referer": referer}, platform=platform
    )
    media = "text/html" if kind == "page" else "application/json"
    return observation_from(target, resp, kind=kind, default_media_type=media), resp
