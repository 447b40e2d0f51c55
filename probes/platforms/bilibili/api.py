"""Bilibili's web API as an anonymous visitor's page calls it: cookies, signature, refusals.

What the space page does before it may ask for an account's lists (sources in
``tests/fixtures/platforms/bilibili/SOURCES.md``):

- visitor cookies ``buvid3``/``buvid4`` from ``/x/frontend/finger/spi`` (``data.b_3``,
  ``data.b_4``; the page stores them itself: the answer sets no cookie), kept in the
  fetcher's ``bilibili`` jar, so every account of a patrol reuses them;
- the day's WBI keys from ``/x/web-interface/nav`` (:mod:`probes.platforms.bilibili.wbi`), kept with
  that jar (as Weibo's visitor cookies are) for :data:`KEY_TTL_SECONDS` of the observation
  clock; one task renews them while the others wait;
- every list request signed, with the ``dm_img_*`` fingerprint parameters the page adds
  (without them the API answers ``-352``: bilibili-API-collect issue #868).

A signed request refused as risk control (``code -352``, or ``data.v_voucher`` alone) is
asked once more, with keys and visitor cookies fetched anew, when the keys used are older
than :data:`RETRY_AFTER_SECONDS` (the keys change about once a day); refused again it is
``blocked``, as is HTTP 412.
"""

from __future__ import annotations

import base64
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from probes.fetch.http import Fetcher, FetchError, PlatformJar, Response
from probes.platforms.bilibili import wbi
from probes.platforms.common import as_int, cookie_domain, load_json
from probes.platforms.registry import clock

JAR = "bilibili"  # the fetcher's cookie jar of the platform
#: signing keys older than this are fetched again before use
KEY_TTL_SECONDS = 6 * 3600.0
#: a refused request is retried with new keys only when the keys used are older than this
RETRY_AFTER_SECONDS = 60.0
JSON_ACCEPT = "application/json, text/plain, */*"
#: codes the API answers for an account that does not exist (errcode.md: -404, -626)
GONE_CODES = (-404, -626)
RISK_CODE = -352
LOGIN_CODE = -101  # "账号未登录"
#: what the space page's script adds to a signed query (WebGL version and renderer, base64
#: without its last two characters; bilibili-API-collect issue #868)
DM_IMG = {
    "dm_img_list": "[]",
    "dm_img_str": base64.b64encode(b"WebGL 1.0 (OpenGL ES 2.0 Chromium)").decode()[:-2],
    "dm_cover_img_str": base64.b64encode(
        b"ANGLE (Intel, Intel(R) UHD Graphics 620 Direct3D11 vs_5_0 ps_5_0, D3D11)"
        b"Google Inc. (Intel)"
    ).decode()[:-2],
    "dm_img_inter": '{"ds":[],"wh":[0,0,0],"of":[0,0,0]}',
}


@dataclass(frozen=True)
class Keys:
    mixin: str
    at: float  # when fetched, unix seconds of the observation clock


_KEYS: weakref.WeakKeyDictionary[PlatformJar, Keys] = weakref.WeakKeyDictionary()


@dataclass
class Answer:
    """One API answer: the response (evidence) and its JSON body, if it had one."""

    resp: Response
    body: Any

    @property
    def code(self) -> int | None:
        return as_int(self.body.get("code")) if isinstance(self.body, dict) else None

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    def refused(self) -> str:
        """Why this is risk control ("" when it is not): HTTP 412, -352, a bare voucher."""
        if self.resp.status == 412:
            return "HTTP 412"
        if self.code == RISK_CODE:
            return f"code {RISK_CODE}"
        data = self.data
        if self.code == 0 and isinstance(data, dict) and set(data) == {"v_voucher"}:
            return "v_voucher"
        return ""


@dataclass
class BiliApi:
    """Signed GETs to ``api`` with the platform's visitor cookies and the day's keys."""

    fetcher: Fetcher
    api: str  # origin, no trailing slash
    referer: str

    async def get(self, path: str, params: dict[str, object]) -> Answer | str:
        """The answer to a signed GET of ``path``; or why no request could be signed."""
        keys = await self._keys()
        if isinstance(keys, str):
            return keys
        answer = await self._signed(path, params, keys)
        if answer.refused() and _age(keys) > RETRY_AFTER_SECONDS:
            renewed = await self._keys(stale=keys)
            if isinstance(renewed, Keys) and renewed is not keys:
                retry = await self._signed(path, params, renewed)
                retry.resp.redirects = answer.resp.redirects + retry.resp.redirects
                return retry
        return answer

    async def _signed(self, path: str, params: dict[str, object], keys: Keys) -> Answer:
        query = wbi.sign({**params, **DM_IMG}, keys.mixin, int(clock().timestamp()))
        resp = await self.fetcher.get(
            f"{self.api}{path}?{query}", headers=self._headers(), platform=JAR
        )
        return Answer(resp, load_json(resp.text))

    def _headers(self) -> dict[str, str]:
        parts = urlsplit(self.referer)
        return {
            "Accept": JSON_ACCEPT,
            "Referer": self.referer,
            "Origin": f"{parts.scheme}://{parts.netloc}",
        }

    async def _keys(self, stale: Keys | None = None) -> Keys | str:
        """The jar's keys, fetched (with visitor cookies) when missing, old or ``stale``."""
        jar = self.fetcher.jar(JAR)
        keys = _KEYS.get(jar)
        if keys is not None and _usable(keys, stale):
            return keys
        async with jar.renewal:  # one task renews; the others wait and reuse its keys
            keys = _KEYS.get(jar)
            if keys is not None and _usable(keys, stale):
                return keys  # another task renewed them while this one waited
            if stale is not None:
                jar.clear()  # refused: new visitor cookies too (the bilibili jar only)
            if jar.value("buvid3") is None:
                await self._visitor(jar)
            mixin, why = await self._nav()
            if not mixin:
                return why
            keys = _KEYS[jar] = Keys(mixin, clock().timestamp())
            return keys

    async def _visitor(self, jar: PlatformJar) -> None:
        """``buvid3``/``buvid4`` for the jar; best effort: without them the lists are
        refused (``-352``), which is said then."""
        try:
            resp = await self.fetcher.get(
                f"{self.api}/x/frontend/finger/spi", headers=self._headers(), platform=JAR
            )
        except FetchError:
            return
        data = Answer(resp, load_json(resp.text)).data
        domain = cookie_domain(urlsplit(self.api).hostname or "")
        if isinstance(data, dict) and domain:
            for name, key in (("buvid3", "b_3"), ("buvid4", "b_4")):
                if data.get(key):
                    jar.set(name, str(data[key]), domain)

    async def _nav(self) -> tuple[str, str]:
        """The mixin key from ``/x/web-interface/nav`` (``code -101`` for a visitor, with the
        keys all the same), and "" — or "" and why there is none."""
        resp = await self.fetcher.get(
            f"{self.api}/x/web-interface/nav", headers=self._headers(), platform=JAR
        )
        answer = Answer(resp, load_json(resp.text))
        img = answer.data.get("wbi_img") if isinstance(answer.data, dict) else None
        mixin = ""
        if isinstance(img, dict):
            mixin = wbi.mixin_key(
                wbi.key_of(str(img.get("img_url") or "")), wbi.key_of(str(img.get("sub_url") or ""))
            )
        if mixin:
            return mixin, ""
        how = f"HTTP {resp.status}" if resp.status != 200 else f"code {answer.code}"
        return "", f"未取得B站 WBI 签名口令（nav 接口 {how}）"


def _age(keys: Keys) -> float:
    return clock().timestamp() - keys.at


def _usable(keys: Keys | None, stale: Keys | None) -> bool:
    """Keys to sign with: present, not the ones just refused, not older than the TTL (nor
    from an observation clock set later than this one's)."""
    return keys is not None and keys is not stale and 0 <= _age(keys) < KEY_TTL_SECONDS
