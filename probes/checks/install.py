"""Install detector: can people get the government app, and is it still the government's?

Judges :attr:`Observation.app` (filled by the ``app`` reader) against what the reader's
``app_report`` artifact says was registered: host, package, pinned signer and the v3 signer
lineage. A changed signer is high severity — Android refuses it as an update, and it is the
mark of a repackaged (possibly trojaned) app — unless the pinned certificate is in the new
signer's proof-of-rotation, which is how a legitimate key rotation looks. With no pinned
signer there is nothing to compare: an info ``app_signer_pinned`` signal carries the observed
signer so the daemon can pin it (and say so in a notice).
"""

from __future__ import annotations

from typing import Any

from probes.apps.download import host_within
from probes.apps.reader import report_of
from probes.checks.install_kinds import FINDING_KINDS
from probes.checks.registry import Context, register
from probes.evidence import App, Stores
from probes.model import AppFacts, Observation, Severity, Signal

TLS_WARN_DAYS = 30
_STORE_NAMES = {
    "appstore": "App Store（中国区）",
    "yingyongbao": "应用宝",
    "huawei": "华为应用市场",
    "xiaomi": "小米应用商店",
    "vivo": "vivo 应用商店",
}


@register("install", FINDING_KINDS, apps=True)
def detect_install(obs: Observation, ctx: Context) -> list[Signal]:
    """All install signals for one app observation; [] for observations of other readers."""
    app = obs.app
    if app is None:
        return []
    report = report_of(obs)
    base = _evidence(obs, app)
    out: list[Signal] = []
    if app.download_url:  # a store-only (iOS) client has no download to judge
        out += _download(obs, app, base)
        out += _host(app, report, base)
        out += _tls(app, base)
        out += _package(app, report, base)
        out += _signer(app, report, base)
    out += _stores(app)
    return out


def _evidence(obs: Observation, app: AppFacts) -> App:
    """What every install signal shows of the download: where it led and what came back."""
    return App(
        download_url=app.download_url,
        final_url=app.final_url if app.final_url and app.final_url != app.download_url else None,
        redirects=[f"{r.status} {r.url}" for r in obs.redirects] or None,
        status_code=obs.status_code,
        content_type=app.content_type or None,
        length=app.length,
    )


def _download(obs: Observation, app: AppFacts, base: App) -> list[Signal]:
    if app.page_kind == "hijacked":
        return [
            Signal(
                "app_hijacked",
                Severity.high,
                "下载地址被劫持：返回赌博或色情内容",
                detail="下载地址不再提供安装包，而是显示赌博/色情页面，域名可能已失效被抢注。",
                rule="install.hijacked",
                evidence=base.said(page_kind=app.page_kind).to_dict(),
            )
        ]
    status = obs.status_code
    unreachable = (
        app.is_apk is None
        or (status is not None and status >= 400)
        or any(p.startswith("下载不完整") for p in app.problems)
    )
    if unreachable:
        return [
            Signal(
                "app_download_unreachable",
                Severity.high,
                "客户端无法下载",
                detail="；".join(app.problems) or "下载地址没有返回安装包",
                rule="install.download",
                evidence=base.said(problems=app.problems).to_dict(),
            )
        ]
    if app.is_apk is False:
        kind = {"error": "错误页面", "landing": "网页"}.get(app.page_kind or "", "非安装包文件")
        return [
            Signal(
                "app_not_apk",
                Severity.high,
                f"下载地址返回的不是安装包（{kind}）",
                detail="；".join(app.problems),
                rule="install.apk",
                evidence=base.said(page_kind=app.page_kind, problems=app.problems).to_dict(),
            )
        ]
    return []


def _host(app: AppFacts, report: dict[str, Any], base: App) -> list[Signal]:
    registered = report.get("registered_host")
    if not registered or not app.final_host or host_within(app.final_host, registered):
        return []
    return [
        Signal(
            "app_foreign_redirect",
            Severity.high,
            f"下载被转到非登记域名 {app.final_host}",
            detail=f"登记的下载域名为 {registered}，实际从 {app.final_host} 下载。",
            rule="install.host",
            evidence=base.said(registered_host=registered, final_host=app.final_host).to_dict(),
        )
    ]


def _tls(app: AppFacts, base: App) -> list[Signal]:
    ev = base.said(tls_valid=app.tls_valid, tls_days_left=app.tls_days_left).to_dict()
    if app.tls_valid is False:
        reasons = [p for p in app.problems if "TLS" in p]
        return [
            Signal(
                "app_tls",
                Severity.high,
                "下载地址的 HTTPS 证书无效",
                detail="；".join(reasons),
                rule="install.tls",
                evidence=ev,
            )
        ]
    if app.tls_days_left is not None and app.tls_days_left < TLS_WARN_DAYS:
        return [
            Signal(
                "app_tls",
                Severity.warning,
                f"下载地址的 HTTPS 证书将在 {max(app.tls_days_left, 0)} 天内过期",
                rule=f"install.tls_days({TLS_WARN_DAYS})",
                evidence=ev,
            )
        ]
    return []


def _package(app: AppFacts, report: dict[str, Any], base: App) -> list[Signal]:
    expected = report.get("expected_package")
    if not app.is_apk or not expected or app.package == expected:
        return []
    return [
        Signal(
            "app_package_mismatch",
            Severity.high,
            "安装包的包名与登记不符",
            detail=f"登记包名 {expected}，实际为 {app.package or '（无法读取）'}。",
            rule="install.package",
            evidence=base.said(expected=expected, observed=app.package).to_dict(),
        )
    ]


def _signer(app: AppFacts, report: dict[str, Any], base: App) -> list[Signal]:
    if not app.is_apk:
        return []
    pinned = report.get("pinned_signer")
    observed = app.signer_sha256
    ev = base.said(schemes=app.signature_schemes, observed_signer=observed)
    if observed is None:
        return [
            Signal(
                "app_signer_changed",
                Severity.high,
                "安装包签名校验失败，可能被篡改",
                detail="；".join(app.problems) or "无法确认签名者",
                rule="install.signer",
                evidence=ev.said(pinned_signer=pinned, problems=app.problems).to_dict(),
            )
        ]
    if not pinned:
        return [
            Signal(
                "app_signer_pinned",
                Severity.info,
                "首次记录安装包签名证书",
                detail=f"未登记签名证书，本次看到的签名者 SHA-256 为 {observed}。",
                rule="install.signer_pin",
                evidence=ev.to_dict(),
            )
        ]
    lineage = report.get("lineage") or []
    if observed == pinned or pinned in lineage:
        return []
    return [
        Signal(
            "app_signer_changed",
            Severity.high,
            "安装包签名证书已变更，疑似被篡改或仿冒",
            detail=f"登记签名 SHA-256 {pinned}，实际为 {observed}。",
            rule="install.signer",
            evidence=ev.said(pinned_signer=pinned, lineage=lineage).to_dict(),
        )
    ]


def _stores(app: AppFacts) -> list[Signal]:
    missing = [s for s in app.stores if s.present is False]
    if not missing:
        return []
    names = "、".join(_STORE_NAMES.get(s.store, s.store) for s in missing)
    return [
        Signal(
            "app_store_missing",
            Severity.warning,
            f"应用商店中已找不到客户端：{names}",
            detail="；".join(s.detail for s in missing if s.detail),
            rule="install.stores",
            evidence=Stores(
                stores=[{"store": s.store, "detail": s.detail} for s in missing]
            ).to_dict(),
        )
    ]
