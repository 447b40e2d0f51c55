"""Is a downloaded file a real APK, what is it, and who signed it?

Why our own parser: the facts we need (package, version, minSdk, signer) sit in a few
hundred lines of well-documented formats, while the libraries that read them (androguard,
pyaxmlparser) are large and pull in much more. Everything here reads from a file on disk in
bounded pieces, so a 1 GB APK or a ZIP bomb costs no more memory than a small one.

Signer precedence follows Android's: APK Signature Scheme v3, then v2, then v1 (JAR). A v1
signer that differs from the v2/v3 one is a rejection, not a footnote: reading v1 first let
crafted APKs show a different signer (F-Droid, 2024). v2/v3 are verified cryptographically
(signature over the signed data, and the whole-file chunked digest); v1 is only read for its
certificate and compared when v2/v3 exist (Android ignores it then), and fully verified by
:mod:`probes.apps.jar` when it is the only scheme.

This module reads the archive and gives the verdict; the formats have modules of their own:
:mod:`probes.apps.manifest` (binary AndroidManifest.xml), :mod:`probes.apps.sigblock` (the
v2/v3 APK Signing Block), :mod:`probes.apps.zipread` (bounded member reads). Their public
names used by callers are importable from here.
"""

from __future__ import annotations

import itertools
import struct
import zipfile
import zlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs7

from probes.apps.apkinfo import ApkError, ApkInfo, Signer
from probes.apps.jar import JarError, verify_v1
from probes.apps.manifest import parse_manifest
from probes.apps.sigblock import V2_ID, V3_ID, signing_block, verify_scheme
from probes.apps.zipread import MemberTooLarge, read_capped

__all__ = [
    "MAX_ENTRIES",
    "MAX_MANIFEST_BYTES",
    "MAX_V1_INFLATE",
    "ApkError",
    "ApkInfo",
    "Signer",
    "classify_page",
    "hijack_words",
    "inspect_apk",
    "looks_like_html",
    "parse_manifest",
]

#: A manifest larger than this (uncompressed) is hostile: real ones are tens of KB.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
#: More entries than this in the central directory is hostile.
MAX_ENTRIES = 200_000
#: Inflating more than this to check v1 entry digests is hostile (raised for big APKs).
MAX_V1_INFLATE = 2_000_000_000


def inspect_apk(path: Path) -> ApkInfo:
    """Read manifest and signers of ``path``; raise :class:`ApkError` if it is no APK at all."""
    info = ApkInfo()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ApkError(f"文件不是有效的 ZIP/APK（{_short(e)}）") from e
    with zf:
        names = zf.namelist()
        if len(names) > MAX_ENTRIES:
            raise ApkError(f"APK 条目数异常（{len(names)} 个），疑似恶意文件")
        if "AndroidManifest.xml" not in names:
            raise ApkError("ZIP 中没有 AndroidManifest.xml，不是 APK")
        manifest = _read_bounded(zf, "AndroidManifest.xml", MAX_MANIFEST_BYTES)
        try:
            parse_manifest(manifest, info)
        except (ValueError, struct.error, IndexError, UnicodeDecodeError) as e:
            raise ApkError(f"AndroidManifest.xml 无法解析（{_short(e)}）") from e
        v1 = _v1_signers(zf, names, info)
        with path.open("rb") as f:
            blocks = signing_block(f, info)
            v2 = verify_scheme(f, blocks, V2_ID, "v2", info) if V2_ID in blocks else []
            v3 = verify_scheme(f, blocks, V3_ID, "v3", info) if V3_ID in blocks else []
        if v1 and V2_ID not in blocks and V3_ID not in blocks:
            _verify_v1(zf, names, info, path.stat().st_size)
    _decide(info, v1, v2, v3)
    return info


def _read_bounded(zf: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """Read one member, refusing to inflate beyond ``cap`` whatever its header claims."""
    try:
        return read_capped(zf, name, cap)
    except MemberTooLarge as e:
        if e.declared is not None:
            raise ApkError(f"{name} 解压后达 {e.declared} 字节，疑似 ZIP 炸弹") from e
        raise ApkError(f"{name} 解压后超过 {cap} 字节，疑似 ZIP 炸弹") from e
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, zlib.error) as e:
        raise ApkError(f"{name} 无法解压（{_short(e)}）") from e


# -- v1 (JAR) ------------------------------------------------------------------------------


def _v1_signers(zf: zipfile.ZipFile, names: list[str], info: ApkInfo) -> list[Signer]:
    """Certificates of META-INF/*.RSA|DSA|EC blocks (signer identity only; see module doc)."""
    signers: list[Signer] = []
    for name in names:
        upper = name.upper()
        if not upper.startswith("META-INF/") or "/" in name[9:]:
            continue
        if not upper.endswith((".RSA", ".DSA", ".EC")):
            continue
        try:
            certs = pkcs7.load_der_pkcs7_certificates(_read_bounded(zf, name, 1 << 20))
        except (ValueError, ApkError) as e:
            info.problems.append(f"v1 签名块 {name} 无法解析（{_short(e)}）")
            continue
        if not certs:
            info.problems.append(f"v1 签名块 {name} 中没有证书")
            continue
        # the signer's certificate is the leaf: apksigner writes exactly one
        signers.append(Signer("v1", _cert_sha256(certs[0])))
    return signers


def _verify_v1(zf: zipfile.ZipFile, names: list[str], info: ApkInfo, size: int) -> None:
    """Android checks the JAR signature only when there is no v2/v3: so do we."""
    try:
        signers = verify_v1(zf, names, max_total=max(MAX_V1_INFLATE, 20 * size))
    except JarError as e:
        info.problems.append(f"v1 签名校验失败：{e}")
        return
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError) as e:
        info.problems.append(f"v1 签名校验失败：APK 内容损坏（{_short(e)}）")
        return
    if any(s.apk_signed_ids & {2, 3} for s in signers):
        # the .SF says v2/v3 signatures were applied, and they are gone: stripped
        info.problems.append("v1 签名声明还有 v2/v3 签名，但 APK 中没有：签名被剥离")
        return
    info.v1_verified = True


# -- the verdict ---------------------------------------------------------------------------


def _decide(info: ApkInfo, v1: list[Signer], v2: list[Signer], v3: list[Signer]) -> None:
    """Pick the signer Android would use and reject disagreement between schemes."""
    info.signers = [*v3, *v2, *v1]
    info.schemes = [s for s, found in (("v1", v1), ("v2", v2), ("v3", v3)) if found]
    if len(v3) > 1 and _overlap([s.sdk or (0, 0xFFFFFFFF) for s in v3]):
        info.problems.append("v3 有多个适用于同一系统版本的签名者，无法确定发布者")
        return
    # v3 signers for disjoint SDK ranges are legitimate: today's devices use the newest range
    v3 = sorted(v3, key=lambda s: (s.sdk or (0, 0))[1], reverse=True)
    for scheme, found in (("v2", v2), ("v1", v1)):
        if len({s.cert_sha256 for s in found}) > 1:
            info.problems.append(f"{scheme} 有多个不同的签名者，无法确定发布者")
            return
    primary = next((found[0] for found in (v3, v2, v1) if found), None)
    if primary is None:
        if not any("签名" in p for p in info.problems):
            info.problems.append("APK 未签名")
        return
    if v3:
        info.lineage = primary.lineage
    # older schemes must be signed by the same key, or (v3 rotation) by one in its lineage
    accepted = {primary.cert_sha256, *primary.lineage, *(x.cert_sha256 for x in v3)}
    for older in (*v2, *v1):
        if older.cert_sha256 not in accepted:
            info.problems.append(
                f"{older.scheme} 签名者 {older.cert_sha256[:16]}… 与 {primary.scheme} 签名者"
                f" {primary.cert_sha256[:16]}… 不一致，疑似篡改"
            )
            return
    if any("签名" in p or "摘要" in p for p in info.problems):
        return  # a scheme failed verification: do not vouch for any signer
    info.signer_sha256 = primary.cert_sha256


def _overlap(ranges: list[tuple[int, int]]) -> bool:
    ordered = sorted(ranges)
    return any(b[0] <= a[1] for a, b in itertools.pairwise(ordered))


def _cert_sha256(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _short(e: object, limit: int = 80) -> str:
    s = str(e)
    return s if len(s) <= limit else s[: limit - 1] + "…"


# -- a page served instead of a package ----------------------------------------------------

_HIJACK_FILE = Path(__file__).resolve().parent.parent / "data" / "apps_hijack.txt"
_ERROR_WORDS = (
    "404",
    "not found",
    "页面不存在",
    "找不到",
    "文件不存在",
    "已删除",
    "出错",
    "错误",
    "error",
    "forbidden",
    "访问被拒绝",
    "维护",
    "bad gateway",
    "service unavailable",
)
_hijack_words: list[str] | None = None


def hijack_words() -> list[str]:
    """The gambling/porn lexicon from ``probes/data/apps_hijack.txt`` (read once)."""
    global _hijack_words
    if _hijack_words is None:
        lines = _HIJACK_FILE.read_text(encoding="utf-8").splitlines()
        _hijack_words = [w.strip().lower() for w in lines if w.strip() and not w.startswith("#")]
    return _hijack_words


def looks_like_html(head: bytes, content_type: str = "") -> bool:
    """Does the body start like a web page (whatever it is named)?"""
    media = content_type.split(";")[0].strip().lower()
    if media in ("text/html", "application/xhtml+xml"):
        return True
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<meta"))


def classify_page(text: str, status: int | None = None) -> tuple[str, list[str]]:
    """``(kind, matched words)`` for a page served instead of an APK.

    ``hijacked`` when the page speaks of gambling or porn (two words, so one stray "棋牌" in
    a government news list is not enough), ``error`` for an error status or error wording,
    otherwise ``landing`` (a download page that links to the package).
    """
    low = text.lower()
    hits = [w for w in hijack_words() if w in low]
    if len(hits) >= 2:
        return "hijacked", hits
    if (status is not None and status >= 400) or any(w in low[:4000] for w in _ERROR_WORDS):
        return "error", hits
    return "landing", hits
