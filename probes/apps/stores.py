"""Is the app still listed where the unit says it is? iOS App Store and four Android stores.

One function per store, each returning a :class:`StorePresence`: ``present`` True/False when
the store answered clearly, None when it could not be asked (network error, unreadable answer)
— "could not tell" must never read as "gone". Every origin comes from ``Target.origins`` so a
mirror or a local stand-in replaces the real store; the defaults are the real addresses.

Own small httpx client, not the shared Fetcher: 应用宝 needs a POST, and Huawei's answer is
the redirect itself (following it would download the whole APK).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx

from probes.fetch.http import DEFAULT_USER_AGENT, decode_text
from probes.model import StorePresence, Target

DEFAULT_ORIGINS: dict[str, str] = {
    "itunes": "https://itunes.apple.com",
    "yingyongbao": "https://upage.html5.qq.com",
    "huawei": "https://appgallery.cloud.huawei.com",
    "xiaomi": "https://app.mi.com",
    "vivo": "https://h5-api.appstore.vivo.com.cn",
}
MAX_ANSWER_BYTES = 2_000_000


def origin(target: Target, key: str) -> str:
    return (target.origins.get(key) or DEFAULT_ORIGINS[key]).rstrip("/")


def make_client(timeout: float = 20.0, proxy: str | None = None) -> httpx.AsyncClient:
    """The stores' client: no automatic redirects (Huawei's answer *is* the redirect)."""
    return httpx.AsyncClient(
        headers={"User-Agent": DEFAULT_USER_AGENT, "Accept-Language": "zh-CN,zh;q=0.9"},
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        proxy=proxy,
    )


async def check_stores(target: Target, client: httpx.AsyncClient) -> list[StorePresence]:
    """Ask every store the target is registered in (by its options); skip the others."""
    o = target.options
    jobs: list[tuple[str, Callable[[], Awaitable[StorePresence]]]] = []
    if o.get("ios_id") or o.get("bundle_id"):
        jobs.append(("appstore", lambda: appstore(target, client)))
    if o.get("yyb_package"):
        jobs.append(("yingyongbao", lambda: yingyongbao(target, client)))
    if o.get("huawei_id"):
        jobs.append(("huawei", lambda: huawei(target, client)))
    if o.get("xiaomi_package"):
        jobs.append(("xiaomi", lambda: xiaomi(target, client)))
    if o.get("vivo_package"):
        jobs.append(("vivo", lambda: vivo(target, client)))
    out: list[StorePresence] = []
    for store, job in jobs:
        try:
            out.append(await job())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as e:
            out.append(StorePresence(store, None, detail=f"无法查询：{_short(e)}"))
    return out


async def _read(resp: httpx.Response) -> bytes:
    body = bytearray()
    async for chunk in resp.aiter_bytes():
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise ValueError("应用商店返回内容过大")
    return bytes(body)


async def _request(
    client: httpx.AsyncClient, method: str, url: str, **kw: Any
) -> tuple[int, dict[str, str], bytes]:
    async with client.stream(method, url, **kw) as resp:
        headers = {k.lower(): v for k, v in resp.headers.items()}
        body = b"" if 300 <= resp.status_code < 400 else await _read(resp)
        return resp.status_code, headers, body


async def appstore(target: Target, client: httpx.AsyncClient) -> StorePresence:
    """iTunes lookup, always with ``country=cn`` (without it the US store answers)."""
    o = target.options
    key = f"id={quote(o['ios_id'])}" if o.get("ios_id") else f"bundleId={quote(o['bundle_id'])}"
    url = f"{origin(target, 'itunes')}/lookup?{key}&country=cn"
    status, _h, body = await _request(client, "GET", url)
    if status != 200:
        return StorePresence("appstore", None, detail=f"App Store 查询失败（HTTP {status}）")
    data = json.loads(body)
    if not data.get("resultCount") or not data.get("results"):
        return StorePresence("appstore", False, detail="App Store（中国区）查无此应用")
    r = data["results"][0]
    released = str(r.get("currentVersionReleaseDate") or "")
    return StorePresence(
        "appstore",
        True,
        version=r.get("version"),
        updated=released[:10] or None,
        detail=f"{r.get('trackName', '')}（{r.get('sellerName', '')}）",
    )


async def yingyongbao(target: Target, client: httpx.AsyncClient) -> StorePresence:
    """应用宝: ``POST /wechat-apkinfo {"packagename": ...}``; no record = not listed."""
    pkg = target.options["yyb_package"]
    url = f"{origin(target, 'yingyongbao')}/wechat-apkinfo"
    status, _h, body = await _request(client, "POST", url, json={"packagename": pkg})
    if status != 200:
        return StorePresence("yingyongbao", None, detail=f"应用宝查询失败（HTTP {status}）")
    data = json.loads(body)
    records = data.get("app_detail_records") or {}
    record = records.get(pkg) if isinstance(records, dict) else None
    info = (record or {}).get("app_info") if isinstance(record, dict) else None
    if not info:
        return StorePresence("yingyongbao", False, detail="应用宝查无此应用")
    published = info.get("apk_publish_time")
    updated = None
    if isinstance(published, int | float) and published > 0:
        updated = datetime.fromtimestamp(published, UTC).date().isoformat()
    return StorePresence(
        "yingyongbao",
        True,
        version=info.get("version_name"),
        updated=updated,
        detail=str(info.get("name") or ""),
    )


_HUAWEI_FILE = re.compile(r"^(?P<pkg>.+)\.(?P<stamp>\d{10})\.apk$")


async def huawei(target: Target, client: httpx.AsyncClient) -> StorePresence:
    """AppGallery ``/appdl/C<id>`` answers 302 to ``<package>.<yyMMddHHmm>.apk``."""
    appid = target.options["huawei_id"].removeprefix("C")
    url = f"{origin(target, 'huawei')}/appdl/C{quote(appid)}"
    status, headers, _b = await _request(client, "GET", url)
    location = headers.get("location", "")
    if status in (301, 302, 303, 307, 308) and location:
        name = unquote(urlsplit(location).path.rsplit("/", 1)[-1])
        m = _HUAWEI_FILE.match(name)
        if not m:
            return StorePresence("huawei", True, detail=f"下载文件名无法识别：{_short(name)}")
        pkg, stamp = m.group("pkg"), m.group("stamp")
        updated = f"20{stamp[0:2]}-{stamp[2:4]}-{stamp[4:6]}"
        expected = target.options.get("package") or target.options.get("huawei_package")
        if expected and pkg != expected:
            detail = f"华为应用市场该编号对应的是 {pkg}，不是 {expected}"
            return StorePresence("huawei", False, updated=updated, detail=detail)
        return StorePresence("huawei", True, updated=updated, detail=pkg)
    if status in (404, 410) or 200 <= status < 300:
        return StorePresence("huawei", False, detail=f"华为应用市场无下载（HTTP {status}）")
    return StorePresence("huawei", None, detail=f"华为应用市场查询失败（HTTP {status}）")


_MI_FIELD = re.compile(
    r"<li[^>]*>\s*(版本号|更新时间|包名)\s*[:：]\s*</li>\s*<li[^>]*>([^<]*)</li>"
)


async def xiaomi(target: Target, client: httpx.AsyncClient) -> StorePresence:
    """小米应用商店 detail page: the 包名 row must name the package."""
    pkg = target.options["xiaomi_package"]
    url = f"{origin(target, 'xiaomi')}/details?id={quote(pkg)}"
    status, _h, body = await _request(client, "GET", url)
    if status in (404, 410) or 300 <= status < 400:
        return StorePresence("xiaomi", False, detail=f"小米应用商店查无此应用（HTTP {status}）")
    if status != 200:
        return StorePresence("xiaomi", None, detail=f"小米应用商店查询失败（HTTP {status}）")
    text, _codec = decode_text(body, "text/html")
    fields = {k: v.strip() for k, v in _MI_FIELD.findall(text)}
    if fields.get("包名") != pkg:
        return StorePresence("xiaomi", False, detail="小米应用商店查无此应用")
    return StorePresence(
        "xiaomi", True, version=fields.get("版本号"), updated=fields.get("更新时间") or None
    )


async def vivo(target: Target, client: httpx.AsyncClient) -> StorePresence:
    """vivo 应用商店 detail JSON (``/detail/<id>``): ``package_name``, ``version_name``,
    ``upload_time``; an empty object or another package = not listed."""
    key = target.options["vivo_package"]
    url = f"{origin(target, 'vivo')}/detail/{quote(key)}?frompage=messageh5"
    status, _h, body = await _request(client, "GET", url)
    if status in (404, 410):
        return StorePresence("vivo", False, detail=f"vivo 应用商店查无此应用（HTTP {status}）")
    if status != 200:
        return StorePresence("vivo", None, detail=f"vivo 应用商店查询失败（HTTP {status}）")
    data = json.loads(body) if body.strip() else {}
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"]
    pkg = data.get("package_name") if isinstance(data, dict) else None
    expected = target.options.get("package") or (key if "." in key else None)
    if not pkg or (expected and pkg != expected):
        return StorePresence("vivo", False, detail="vivo 应用商店查无此应用")
    updated = str(data.get("upload_time") or "")[:10] or None
    return StorePresence(
        "vivo",
        True,
        version=data.get("version_name"),
        updated=updated,
        detail=str(data.get("title_zh") or ""),
    )


def _short(e: object, limit: int = 100) -> str:
    s = str(e) or type(e).__name__
    return s if len(s) <= limit else s[: limit - 1] + "…"
