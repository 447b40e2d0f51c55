"""The "app" reader: can the government app be downloaded, installed and trusted?

Fills :attr:`Observation.app` from the download (hop by hop, TLS, the file itself) and the app
stores. A download that fails is not a failed *observation*: the outcome stays ``ok`` and the
facts say what a user would meet, so the ``install`` detector can name the problem (a 404 on
the download link is exactly the finding). What the facts were judged against (registered
host, expected package, pinned signer, signer lineage, every URL's result) goes into a JSON
artifact of kind ``app_report`` — evidence of the check, and read back by the detector.

``Target.options``: ``download_url`` (one or several, space separated; default ``Target.url``),
``package``, ``signer_sha256``, ``ios_id`` or ``bundle_id``, ``yyb_package``, ``huawei_id``,
``xiaomi_package``, ``vivo_package``, ``registered_host`` (default: the registrable host of
the first download URL). ``Target.origins``: see :data:`probes.apps.stores.DEFAULT_ORIGINS`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any
from urllib.parse import urlsplit

import anyio

from probes.apps.apk import ApkError, ApkInfo, classify_page, inspect_apk, looks_like_html
from probes.apps.download import (
    Download,
    DownloadSettings,
    download,
    host_within,
    registrable_host,
)
from probes.apps.stores import check_stores, make_client
from probes.fetch import Tools
from probes.fetch.http import decode_text
from probes.model import AppFacts, Artifact, Observation, Outcome, Target
from probes.platforms.registry import clock, register

REPORT_KIND = "app_report"
PAGE_KIND = "download_page"
DOWNLOADS = DownloadSettings()  # the limits every check downloads within (no setting yet)


def download_urls(target: Target) -> list[str]:
    return (target.options.get("download_url") or target.url).split()


@register("app")
async def read_app(
    target: Target, tools: Tools, downloads: DownloadSettings = DOWNLOADS
) -> Observation:
    """Download every registered URL, verify what came back, ask the stores.

    Downloads and store queries use clients of their own (streamed to disk, a POST for
    应用宝); from ``tools.http`` they take only its proxy and timeouts. ``downloads``: the
    size cap, deadline and trust anchors — a test registers the reader with its own.
    """
    http = tools.http.settings
    urls = download_urls(target)
    s = replace(
        downloads,
        proxy=downloads.proxy or http.proxy,
        connect_timeout_seconds=http.connect_timeout_seconds,
    )
    registered = target.options.get("registered_host") or (
        registrable_host(urlsplit(urls[0]).hostname or "") if urls else ""
    )
    obs = Observation(
        account_id=target.account_id,
        reader=target.reader,
        url=target.url or (urls[0] if urls else ""),
        fetched_at=clock(),
        outcome=Outcome.ok,
    )
    results: list[tuple[AppFacts, Download, ApkInfo | Exception | None]] = []
    for url in urls:
        d = await download(url, s)
        try:
            info = await _verify(d)
        finally:
            d.cleanup()
        results.append((_facts(d, info, registered), d, info))
    # the facts shown are the first URL with a problem, else the first: a hijacked mirror
    # must not hide behind a healthy main link (every URL is in the report)
    chosen = next((r for r in results if _has_problem(r[0])), None)
    chosen = chosen or (results[0] if results else None)
    if chosen is not None:
        facts, d, _info = chosen
        obs.app = facts
        obs.status_code = d.status
        obs.final_url = d.final_url
        obs.redirects = list(d.redirects)
        obs.elapsed_ms = d.elapsed_ms
        if d.head and facts.is_apk is False:
            media = d.content_type.split(";")[0].strip() or "application/octet-stream"
            obs.artifacts.append(Artifact(PAGE_KIND, media, d.head, d.final_url))
    else:
        obs.app = AppFacts()  # a store-only (e.g. iOS) client: nothing to download
    async with make_client(timeout=http.timeout_seconds, proxy=s.proxy) as client:
        obs.app.stores = await check_stores(target, client)
    report = {
        "registered_host": registered,
        "expected_package": target.options.get("package") or None,
        "pinned_signer": _fingerprint(target.options.get("signer_sha256", "")),
        "lineage": chosen[2].lineage if chosen and isinstance(chosen[2], ApkInfo) else [],
        "downloads": [_summary(f, d, i) for f, d, i in results],
    }
    obs.artifacts.append(
        Artifact(REPORT_KIND, "application/json", json.dumps(report, ensure_ascii=False).encode())
    )
    return obs


def _fingerprint(value: str) -> str | None:
    """``AB:CD:…`` (keytool) or ``abcd…`` (apksigner) -> lower-case hex; None when empty."""
    return value.replace(":", "").replace(" ", "").lower() or None


def report_of(obs: Observation) -> dict[str, Any]:
    """The ``app_report`` artifact of an observation, or {} (older snapshots had none)."""
    for a in obs.artifacts:
        if a.kind == REPORT_KIND:
            try:
                data = json.loads(a.content)
            except ValueError:
                return {}
            return data if isinstance(data, dict) else {}
    return {}


async def _verify(d: Download) -> ApkInfo | Exception | None:
    """Inspect the spooled file off the event loop; None when nothing was downloaded."""
    if d.path is None or d.length == 0 or not d.path.exists():
        return None
    if not d.head.startswith(b"PK\x03\x04"):
        return ApkError("文件不是 ZIP/APK")
    path = d.path
    try:
        return await anyio.to_thread.run_sync(inspect_apk, path)
    except ApkError as e:
        return e


def _facts(d: Download, info: ApkInfo | Exception | None, registered: str) -> AppFacts:
    final_host = urlsplit(d.final_url).hostname
    facts = AppFacts(
        download_url=d.url,
        final_url=d.final_url,
        final_host=final_host,
        content_type=d.content_type or None,
        length=d.length if d.path is not None or d.length else None,
    )
    if d.tls:
        facts.tls_valid = all(t.valid for t in d.tls)
        days = [t.days_left for t in d.tls if t.days_left is not None]
        facts.tls_days_left = min(days) if days else None
        facts.problems += [f"{t.host} 的 TLS 证书无效：{t.reason}" for t in d.tls if not t.valid]
    if d.error:
        facts.problems.append(d.error)
    if d.status is not None and d.status >= 400:
        facts.problems.append(f"下载地址返回 HTTP {d.status}")
    if d.truncated:
        facts.problems.append(f"下载不完整：服务器在 {d.length} 字节处断开")
    if final_host and registered and not host_within(final_host, registered):
        facts.problems.append(f"下载被转到非登记域名 {final_host}（登记为 {registered}）")
    if isinstance(info, ApkInfo):
        facts.is_apk = True
        facts.package = info.package
        facts.version_code = info.version_code
        facts.version_name = info.version_name
        facts.min_sdk = info.min_sdk
        facts.signer_sha256 = info.signer_sha256
        facts.signature_schemes = list(info.schemes)
        facts.problems += info.problems
    elif isinstance(info, Exception) and not d.truncated:
        facts.is_apk = False
        if looks_like_html(d.head, d.content_type):
            text, _codec = decode_text(d.head, d.content_type)
            facts.page_kind, _words = classify_page(text, d.status)
        else:
            facts.problems.append(getattr(info, "message", str(info)))
    return facts


def _has_problem(f: AppFacts) -> bool:
    return bool(f.problems) or f.is_apk is not True


def _summary(f: AppFacts, d: Download, info: ApkInfo | Exception | None) -> dict[str, Any]:
    out = asdict(f)
    out.pop("stores")
    out["status"] = d.status
    out["sha256"] = d.sha256
    out["truncated"] = d.truncated
    out["redirects"] = [asdict(r) for r in d.redirects]
    out["tls"] = [asdict(t) for t in d.tls]
    if isinstance(info, ApkInfo):
        out["signers"] = [asdict(s) for s in info.signers]
        out["lineage"] = info.lineage
    if f.page_kind and d.head:
        text, _codec = decode_text(d.head, d.content_type)
        out["page_words"] = classify_page(text, d.status)[1]
    return out
