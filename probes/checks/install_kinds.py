"""The kinds :mod:`probes.checks.install` emits: declared apart from it so that naming them (the
console, the CLI) does not load the app reader and its HTTP client."""

from __future__ import annotations

from probes.checks.kinds import FindingKind, declare
from probes.model import Severity

FINDING_KINDS = declare(
    __name__,
    FindingKind(
        "app_download_unreachable", "客户端无法下载", "install", Severity.high, fix_hours=72,
        advice="检查客户端下载地址和服务器，尽快恢复安装包下载",
    ),
    FindingKind(
        "app_not_apk", "下载地址返回的不是安装包", "install", Severity.high, fix_hours=72,
        advice="检查下载地址，确保直接提供有效的安装包",
    ),
    FindingKind(
        "app_hijacked", "下载地址被劫持", "install", Severity.high, fix_hours=24,
        advice="立即停用被劫持的下载地址并排查域名解析，在官网公布正确的下载方式",
    ),
    FindingKind(
        "app_foreign_redirect", "下载被转到非登记域名", "install", Severity.high, fix_hours=72,
        advice="核实下载跳转到的域名；不是本单位的，立即修正下载地址",
    ),
    FindingKind(
        "app_tls", "下载地址的 HTTPS 证书无效或即将过期", "install", Severity.high,
        fix_hours=72, advice="更换或续期下载地址的 HTTPS 证书",
    ),
    FindingKind(
        "app_package_mismatch", "安装包的包名与登记不符", "install", Severity.high,
        fix_hours=72, advice="核实安装包来源；包名确有变更的，请更新登记表",
    ),
    FindingKind(
        "app_signer_changed", "安装包的签名证书已变更", "install", Severity.high, fix_hours=24,
        advice="立即核实安装包是否被篡改或仿冒并撤下可疑安装包；"
        "属正常更换签名的，请告知运维人员重新登记",
    ),
    # a record kept for later comparison: nothing for the unit to put right
    FindingKind(
        "app_signer_pinned", "已记录客户端的签名证书", "install", Severity.info,
        advice="无需处理：已记录客户端的签名证书，今后按此核对", pins_signer=True,
    ),
    FindingKind(
        "app_store_missing", "应用商店中查不到该客户端", "install", Severity.warning,
        fix_hours=168, advice="在所列应用商店重新上架，或在登记表中注明不再上架",
    ),
)  # fmt: skip
