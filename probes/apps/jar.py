"""APK v1 (JAR) signature verification, for APKs that carry no v2/v3 signature.

Why: old government apps (minSdk < 24) are often v1-only, and without checking the JAR
signature a repackaged v1-only APK would still show the original certificate. Android checks,
and so do we: the PKCS#7 signature over ``X.SF``, ``X.SF``'s digests of ``MANIFEST.MF``, and
``MANIFEST.MF``'s digest of every entry (streamed, so a large APK costs time, not memory).
The ASN.1 read here is the handful of PKCS#7 fields a signer info needs; certificates and
keys are left to ``cryptography``.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from probes.apps.zipread import MemberTooLarge, read_capped

MAX_META_BYTES = 16 * 1024 * 1024  # MANIFEST.MF / .SF of a huge app are a few MB
_READ = 256 * 1024

_HASH_OIDS: dict[str, type[hashes.HashAlgorithm]] = {
    "1.3.14.3.2.26": hashes.SHA1,
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}
_MANIFEST_DIGESTS = {  # JAR attribute prefix -> hashlib name
    "SHA-512": "sha512",
    "SHA-384": "sha384",
    "SHA-256": "sha256",
    "SHA1": "sha1",
    "SHA-1": "sha1",
}
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"


class JarError(Exception):
    """The v1 signature does not hold; the message is Chinese."""


@dataclass
class JarSigner:
    cert_sha256: str
    apk_signed_ids: set[int]  # X-Android-APK-Signed: schemes the signer also applied


def verify_v1(zf: zipfile.ZipFile, names: list[str], max_total: int) -> list[JarSigner]:
    """Verify every v1 signer of ``zf``; raise :class:`JarError` on the first failure.

    ``max_total`` bounds the bytes inflated to check entry digests (ZIP bombs).
    """
    blocks = [
        n
        for n in names
        if n.upper().startswith("META-INF/")
        and "/" not in n[9:]
        and n.upper().endswith((".RSA", ".DSA", ".EC"))
    ]
    if "META-INF/MANIFEST.MF" not in names:
        raise JarError("v1 签名缺少 META-INF/MANIFEST.MF")
    manifest = _read(zf, "META-INF/MANIFEST.MF", MAX_META_BYTES)
    sections = _sections(manifest)
    signers: list[JarSigner] = []
    for block in blocks:
        sf_name = block.rsplit(".", 1)[0] + ".SF"
        if sf_name not in names:
            raise JarError(f"v1 签名块 {block} 缺少对应的 {sf_name}")
        sf = _read(zf, sf_name, MAX_META_BYTES)
        cert = _verify_pkcs7(_read(zf, block, 1 << 20), sf, block)
        signed_ids = _check_sf(sf, manifest, sections, sf_name)
        signers.append(JarSigner(cert.fingerprint(hashes.SHA256()).hex(), signed_ids))
    _check_entries(zf, names, sections, max_total)
    return signers


def _read(zf: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """One signature file, bounded (:func:`~probes.apps.zipread.read_capped`); a damaged
    archive's own errors pass through for the caller to name."""
    try:
        return read_capped(zf, name, cap)
    except MemberTooLarge as e:
        if e.declared is not None:
            raise JarError(f"{name} 过大（{e.declared} 字节）") from e
        raise JarError(f"{name} 过大") from e


# -- MANIFEST.MF / .SF -----------------------------------------------------------------------


def _sections(raw: bytes) -> dict[str, tuple[bytes, dict[str, str]]]:
    """Sections of a manifest: name -> (raw bytes incl. the closing blank line, attributes).

    The main section is under the key ""; raw bytes matter because .SF digests them.
    """
    out: dict[str, tuple[bytes, dict[str, str]]] = {}
    current: list[bytes] = []

    def close() -> None:
        chunk = b"".join(current)
        current.clear()
        if not chunk.strip():
            return
        attrs = _attributes(chunk)
        key = attrs.get("Name", "") if out else ""
        if key in out:
            raise JarError(f"MANIFEST.MF 中条目 {key or '（主段）'} 重复")
        out[key] = (chunk, attrs)

    for line in raw.splitlines(keepends=True):
        current.append(line)
        if line in (b"\r\n", b"\n", b"\r"):
            close()
    close()
    return out


def _attributes(chunk: bytes) -> dict[str, str]:
    attrs: dict[str, str] = {}
    last = ""
    for line in chunk.decode("utf-8", "replace").splitlines():
        if line.startswith(" ") and last:
            attrs[last] += line[1:]
        elif ":" in line:
            k, v = line.split(":", 1)
            last = k.strip()
            attrs[last] = v.strip()
    return attrs


def _digest_of(attrs: dict[str, str], data: bytes, suffix: str) -> bool | None:
    """True/False when ``attrs`` holds a supported ``<ALG>{suffix}``; None when none."""
    for prefix, algo in _MANIFEST_DIGESTS.items():
        want = attrs.get(prefix + suffix)
        if want is not None:
            return base64.b64decode(want) == hashlib.new(algo, data).digest()
    return None


def _check_sf(
    sf: bytes, manifest: bytes, sections: dict[str, tuple[bytes, dict[str, str]]], name: str
) -> set[int]:
    sf_sections = _sections(sf)
    main = sf_sections.get("", (b"", {}))[1]
    whole = _digest_of(main, manifest, "-Digest-Manifest")
    if whole is not True:
        # no whole-manifest digest, or it does not match: every entry digest must
        for entry, (_raw, attrs) in sf_sections.items():
            if not entry:
                continue
            if entry not in sections:
                raise JarError(f"{name} 列出的 {entry} 不在 MANIFEST.MF 中")
            if _digest_of(attrs, sections[entry][0], "-Digest") is not True:
                raise JarError(f"{name} 中 {entry} 的摘要与 MANIFEST.MF 不符")
    ids = set()
    for part in main.get("X-Android-APK-Signed", "").split(","):
        if part.strip().isdigit():
            ids.add(int(part.strip()))
    return ids


def _check_entries(
    zf: zipfile.ZipFile,
    names: list[str],
    sections: dict[str, tuple[bytes, dict[str, str]]],
    max_total: int,
) -> None:
    total = 0
    listed = {k for k in sections if k}
    for zi in zf.infolist():
        n = zi.filename
        if zi.is_dir() or _is_signature_file(n):
            continue
        listed.discard(n)
        if n not in sections:
            raise JarError(f"{n} 不在 v1 签名的 MANIFEST.MF 中（签名后被加入）")
        attrs = sections[n][1]
        algo = next((a for p, a in _MANIFEST_DIGESTS.items() if p + "-Digest" in attrs), None)
        if algo is None:
            raise JarError(f"MANIFEST.MF 中 {n} 没有受支持的摘要")
        want = next(attrs[p + "-Digest"] for p, a in _MANIFEST_DIGESTS.items() if a == algo)
        h = hashlib.new(algo)
        with zf.open(zi) as f:
            while chunk := f.read(_READ):
                total += len(chunk)
                if total > max_total:
                    raise JarError("解压总量超过上限，疑似 ZIP 炸弹")
                h.update(chunk)
        if h.digest() != base64.b64decode(want):
            raise JarError(f"{n} 的摘要与 v1 签名不符：签名后被改动")
    if listed:
        raise JarError(f"MANIFEST.MF 列出的 {sorted(listed)[0]} 不在 APK 中")


def _is_signature_file(name: str) -> bool:
    upper = name.upper()
    if not upper.startswith("META-INF/") or "/" in name[9:]:
        return False
    base = upper[9:]
    return (
        base == "MANIFEST.MF"
        or base.endswith((".SF", ".RSA", ".DSA", ".EC"))
        or base.startswith("SIG-")
    )


# -- PKCS#7 --------------------------------------------------------------------------------


def _tlv(buf: bytes, p: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``p``."""
    tag = buf[p]
    n = buf[p + 1]
    q = p + 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise JarError("PKCS#7 编码不受支持")
        n = int.from_bytes(buf[q : q + k], "big")
        q += k
    if q + n > len(buf):
        raise JarError("PKCS#7 数据不完整")
    return tag, q, q + n


def _children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, content start, content end) of each element in a range."""
    out = []
    p = start
    while p < end:
        tag, s, e = _tlv(buf, p)
        out.append((tag, p, s, e))
        p = e
    return out


def _oid(data: bytes) -> str:
    parts = [data[0] // 40, data[0] % 40]
    v = 0
    for b in data[1:]:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(v)
            v = 0
    return ".".join(map(str, parts))


def _verify_pkcs7(block: bytes, sf: bytes, name: str) -> x509.Certificate:
    try:
        certs = pkcs7.load_der_pkcs7_certificates(block)
    except ValueError as e:
        raise JarError(f"v1 签名块 {name} 无法解析") from e
    try:
        _t, s, e = _tlv(block, 0)  # ContentInfo
        ci = _children(block, s, e)
        _t, s, e = _tlv(block, ci[1][2])  # [0] EXPLICIT -> SignedData
        sd = _children(block, s, e)
        signer_infos = [c for c in sd if c[0] == 0x31][-1]  # the last SET
        infos = _children(block, signer_infos[2], signer_infos[3])
    except (IndexError, JarError) as e:
        raise JarError(f"v1 签名块 {name} 格式错误") from e
    if len(infos) != 1:
        raise JarError(f"v1 签名块 {name} 有 {len(infos)} 个签名者")
    fields = _children(block, infos[0][2], infos[0][3])
    _ver, issuer_serial, digest_alg, *rest = fields
    isn = _children(block, issuer_serial[2], issuer_serial[3])
    serial = int.from_bytes(block[isn[1][2] : isn[1][3]], "big", signed=True)
    cert = next((c for c in certs if c.serial_number == serial), None)
    if cert is None:
        raise JarError(f"v1 签名块 {name} 中找不到签名者证书")
    alg_oid = _children(block, digest_alg[2], digest_alg[3])[0]
    hash_cls = _HASH_OIDS.get(_oid(block[alg_oid[2] : alg_oid[3]]))
    if hash_cls is None:
        raise JarError(f"v1 签名块 {name} 使用了不支持的摘要算法")
    signed = sf
    if rest and rest[0][0] == 0xA0:  # authenticated attributes: signed instead of the .SF
        attrs = rest.pop(0)
        digest = hashlib.new(hash_cls.name, sf).digest()
        if not _message_digest_matches(block, attrs, digest):
            raise JarError(f"v1 签名块 {name} 的摘要属性与 {name[:-4]}.SF 不符")
        signed = b"\x31" + block[attrs[1] + 1 : attrs[3]]
    encrypted = next(c for c in rest if c[0] == 0x04)
    signature = block[encrypted[2] : encrypted[3]]
    _verify_signature(cert.public_key(), signature, signed, hash_cls, name)
    return cert


def _verify_signature(key: Any, signature: bytes, signed: bytes, hash_cls: Any, name: str) -> None:
    """The signer's signature over what it signed, by its key's kind (PKCS#1 v1.5 for RSA)."""
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, padding.PKCS1v15(), hash_cls())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed, ec.ECDSA(hash_cls()))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, signed, hash_cls())
        else:
            raise JarError(f"v1 签名块 {name} 使用了不支持的密钥类型")
    except (InvalidSignature, UnsupportedAlgorithm) as e:
        raise JarError(f"v1 签名块 {name} 的签名校验失败") from e


def _message_digest_matches(block: bytes, attrs: tuple[int, int, int, int], digest: bytes) -> bool:
    for _t, _p, s, e in _children(block, attrs[2], attrs[3]):
        kids = _children(block, s, e)
        if _oid(block[kids[0][2] : kids[0][3]]) == _OID_MESSAGE_DIGEST:
            values = _children(block, kids[1][2], kids[1][3])
            return bool(values) and block[values[0][2] : values[0][3]] == digest
    return False
