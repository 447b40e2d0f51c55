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
"""

from __future__ import annotations

import hashlib
import itertools
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from probes.apps.jar import JarError, verify_v1

#: A manifest larger than this (uncompressed) is hostile: real ones are tens of KB.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
#: More entries than this in the central directory is hostile.
MAX_ENTRIES = 200_000
#: Inflating more than this to check v1 entry digests is hostile (raised for big APKs).
MAX_V1_INFLATE = 2_000_000_000
_CHUNK = 1024 * 1024  # v2/v3 content digests are over 1 MB chunks
_READ = 256 * 1024

_SIG_BLOCK_MAGIC = b"APK Sig Block 42"
_V2_ID = 0x7109871A
_V3_ID = 0xF05368C0
_V31_ID = 0x1B93AD61
_POR_ATTR = 0x3BA06F8C  # v3 proof-of-rotation (lineage)

# signature algorithm id -> (hash, kind); 0x0421.. (verity) are skipped, not failures
_ALGOS: dict[int, tuple[type[hashes.HashAlgorithm], str]] = {
    0x0101: (hashes.SHA256, "pss"),
    0x0102: (hashes.SHA512, "pss"),
    0x0103: (hashes.SHA256, "pkcs1"),
    0x0104: (hashes.SHA512, "pkcs1"),
    0x0201: (hashes.SHA256, "ecdsa"),
    0x0202: (hashes.SHA512, "ecdsa"),
    0x0301: (hashes.SHA256, "dsa"),
}


class ApkError(Exception):
    """The file cannot be read as an APK; ``message`` is Chinese, for the duty officer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Signer:
    scheme: str  # v1, v2, v3
    cert_sha256: str  # of the DER certificate, lower-case hex (what apksigner prints)
    lineage: list[str] = field(default_factory=list)  # v3: older certs' sha256, oldest first
    sdk: tuple[int, int] | None = None  # v3: platform versions this signer is for


@dataclass
class ApkInfo:
    """What :func:`inspect_apk` learned. ``problems`` are Chinese lines; any means untrusted."""

    package: str | None = None
    version_code: int | None = None
    version_name: str | None = None
    min_sdk: int | None = None
    signer_sha256: str | None = None  # the signer Android would use, when verification passed
    schemes: list[str] = field(default_factory=list)
    lineage: list[str] = field(default_factory=list)  # certs the v3 signer rotated from
    signers: list[Signer] = field(default_factory=list)
    v1_verified: bool = False  # v1 JAR signature checked (only when it is the only scheme)
    problems: list[str] = field(default_factory=list)


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
            blocks = _signing_block(f, info)
            v2 = _verify_scheme(f, blocks, _V2_ID, "v2", info) if _V2_ID in blocks else []
            v3 = _verify_scheme(f, blocks, _V3_ID, "v3", info) if _V3_ID in blocks else []
        if v1 and _V2_ID not in blocks and _V3_ID not in blocks:
            _verify_v1(zf, names, info, path.stat().st_size)
    _decide(info, v1, v2, v3)
    return info


def _read_bounded(zf: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """Read one member, refusing to inflate beyond ``cap`` whatever its header claims."""
    zi = zf.getinfo(name)
    if zi.file_size > cap:
        raise ApkError(f"{name} 解压后达 {zi.file_size} 字节，疑似 ZIP 炸弹")
    out = bytearray()
    try:
        with zf.open(zi) as member:
            while chunk := member.read(_READ):
                out += chunk
                if len(out) > cap:
                    raise ApkError(f"{name} 解压后超过 {cap} 字节，疑似 ZIP 炸弹")
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, zlib.error) as e:
        raise ApkError(f"{name} 无法解压（{_short(e)}）") from e
    return bytes(out)


# -- binary XML (AXML) ---------------------------------------------------------------------

_RES_STRING_POOL = 0x0001
_RES_XML = 0x0003
_RES_XML_START_ELEMENT = 0x0102
_RES_XML_RESOURCE_MAP = 0x0180
_ATTR_IDS = {0x0101021B: "versionCode", 0x0101021C: "versionName", 0x0101020C: "minSdkVersion"}
_TYPE_STRING = 0x03
_INT_TYPES = range(0x10, 0x20)


def parse_manifest(data: bytes, info: ApkInfo) -> None:
    """Fill package, version and minSdk from a compiled AndroidManifest.xml."""
    typ, hsize, _size = struct.unpack_from("<HHI", data, 0)
    if typ != _RES_XML:
        raise ValueError("not a binary XML document")
    strings: list[str] = []
    res_ids: list[int] = []
    pos = hsize
    while pos + 8 <= len(data):
        ctype, chsize, csize = struct.unpack_from("<HHI", data, pos)
        if csize < 8 or pos + csize > len(data):
            raise ValueError("chunk overruns the document")
        if ctype == _RES_STRING_POOL:
            strings = _string_pool(data, pos)
        elif ctype == _RES_XML_RESOURCE_MAP:
            n = (csize - chsize) // 4
            res_ids = list(struct.unpack_from(f"<{n}I", data, pos + chsize))
        elif ctype == _RES_XML_START_ELEMENT:
            _element(data, pos + chsize, strings, res_ids, info)
        pos += csize


def _element(data: bytes, p: int, strings: list[str], res_ids: list[int], info: ApkInfo) -> None:
    _ns, name_i, attr_start, attr_size, count = struct.unpack_from("<IIHHH", data, p)
    tag = strings[name_i] if name_i < len(strings) else ""
    if tag not in ("manifest", "uses-sdk"):
        return
    for k in range(count):
        a = p + attr_start + k * attr_size
        _ans, aname, raw, _vsize, _res0, dtype, value = struct.unpack_from("<IIIHBBI", data, a)
        attr = strings[aname] if aname < len(strings) else ""
        if aname < len(res_ids) and res_ids[aname] in _ATTR_IDS:
            attr = _ATTR_IDS[res_ids[aname]]  # obfuscated names: the resource id decides
        text = strings[raw] if raw != 0xFFFFFFFF and raw < len(strings) else None
        if dtype == _TYPE_STRING and text is None and value < len(strings):
            text = strings[value]
        number = value if dtype in _INT_TYPES else (int(text) if text and text.isdigit() else None)
        if tag == "manifest" and attr == "package":
            info.package = text
        elif tag == "manifest" and attr == "versionCode":
            info.version_code = number
        elif tag == "manifest" and attr == "versionName":
            info.version_name = text if text is not None else (str(value) if number else None)
        elif tag == "uses-sdk" and attr == "minSdkVersion":
            info.min_sdk = number


def _string_pool(data: bytes, p: int) -> list[str]:
    _t, hsize, _size, count, _styles, flags, str_start, _sty = struct.unpack_from(
        "<HHIIIIII", data, p
    )
    utf8 = bool(flags & 0x100)
    offsets = struct.unpack_from(f"<{count}I", data, p + hsize)
    base = p + str_start
    out: list[str] = []
    for off in offsets:
        q = base + off
        if utf8:
            _chars, q = _len8(data, q)
            nbytes, q = _len8(data, q)
            out.append(data[q : q + nbytes].decode("utf-8", "replace"))
        else:
            n, q = _len16(data, q)
            out.append(data[q : q + 2 * n].decode("utf-16-le", "replace"))
    return out


def _len8(data: bytes, q: int) -> tuple[int, int]:
    n = data[q]
    if n & 0x80:
        return ((n & 0x7F) << 8) | data[q + 1], q + 2
    return n, q + 1


def _len16(data: bytes, q: int) -> tuple[int, int]:
    (n,) = struct.unpack_from("<H", data, q)
    if n & 0x8000:
        (lo,) = struct.unpack_from("<H", data, q + 2)
        return ((n & 0x7FFF) << 16) | lo, q + 4
    return n, q + 2


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


# -- APK Signing Block (v2/v3) -------------------------------------------------------------


@dataclass
class _Layout:
    block_offset: int  # start of the APK Signing Block
    cd_offset: int
    cd_size: int
    eocd_offset: int
    eocd: bytes
    pairs: dict[int, tuple[int, int]]  # id -> (offset, length) of the value in the file


def _find_eocd(f: BinaryIO) -> tuple[int, bytes]:
    f.seek(0, 2)
    size = f.tell()
    tail_len = min(size, 65535 + 22)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    i = tail.rfind(b"PK\x05\x06")
    while i >= 0:
        if i + 22 <= len(tail):
            (clen,) = struct.unpack_from("<H", tail, i + 20)
            if i + 22 + clen == len(tail):
                return size - tail_len + i, tail[i:]
        i = tail.rfind(b"PK\x05\x06", 0, i)
    raise ApkError("找不到 ZIP 目录结尾")


def _signing_block(f: BinaryIO, info: ApkInfo) -> dict[int, _Layout]:
    """Locate the APK Signing Block; {} when there is none (v1-only or unsigned)."""
    eocd_off, eocd = _find_eocd(f)
    cd_size, cd_off = struct.unpack_from("<II", eocd, 12)
    if cd_off + cd_size != eocd_off:
        info.problems.append("ZIP 中央目录与目录结尾之间有多余数据")
    if cd_off < 32:
        return {}
    f.seek(cd_off - 24)
    footer = f.read(24)
    if len(footer) != 24 or footer[8:] != _SIG_BLOCK_MAGIC:
        return {}
    (size2,) = struct.unpack_from("<Q", footer, 0)
    start = cd_off - size2 - 8
    if size2 < 24 or start < 0:
        info.problems.append("APK 签名块大小异常")
        return {}
    f.seek(start)
    (size1,) = struct.unpack("<Q", f.read(8))
    if size1 != size2:
        info.problems.append("APK 签名块首尾大小不一致")
        return {}
    pairs: dict[int, tuple[int, int]] = {}
    pos, end = start + 8, cd_off - 24
    while pos < end:
        f.seek(pos)
        head = f.read(12)
        if len(head) < 12:
            break
        plen, pid = struct.unpack("<QI", head)
        if plen < 4 or pos + 8 + plen > end:
            info.problems.append("APK 签名块内容越界")
            break
        pairs[pid] = (pos + 12, plen - 4)
        pos += 8 + plen
    layout = _Layout(start, cd_off, cd_size, eocd_off, eocd, pairs)
    return {pid: layout for pid in pairs}


def _lp(buf: bytes, p: int) -> tuple[bytes, int]:
    """A u32 length-prefixed slice of ``buf`` at ``p`` and the position after it."""
    (n,) = struct.unpack_from("<I", buf, p)
    if p + 4 + n > len(buf):
        raise ValueError("length prefix overruns")
    return buf[p + 4 : p + 4 + n], p + 4 + n


def _seq(buf: bytes) -> list[bytes]:
    out, p = [], 0
    while p < len(buf):
        item, p = _lp(buf, p)
        out.append(item)
    return out


def _verify_scheme(
    f: BinaryIO, blocks: dict[int, _Layout], pid: int, scheme: str, info: ApkInfo
) -> list[Signer]:
    layout = blocks[pid]
    off, length = layout.pairs[pid]
    if length > 16 * 1024 * 1024:
        info.problems.append(f"{scheme} 签名数据过大")
        return []
    f.seek(off)
    value = f.read(length)
    signers: list[Signer] = []
    try:
        (signers_buf, _) = _lp(value, 0)
        raw_signers = _seq(signers_buf)
        if not raw_signers:
            info.problems.append(f"{scheme} 签名块中没有签名者")
        for raw in raw_signers:
            signer = _verify_signer(f, layout, raw, scheme, info)
            if signer is not None:
                signers.append(signer)
    except (ValueError, struct.error) as e:
        info.problems.append(f"{scheme} 签名块格式错误（{_short(e)}）")
        return []
    return signers


def _verify_signer(
    f: BinaryIO, layout: _Layout, raw: bytes, scheme: str, info: ApkInfo
) -> Signer | None:
    signed_data, p = _lp(raw, 0)
    sdk: tuple[int, int] | None = None
    if scheme == "v3":
        sdk = struct.unpack_from("<II", raw, p)
        p += 8
    signatures_buf, p = _lp(raw, p)
    public_key_der, p = _lp(raw, p)
    digests_buf, q = _lp(signed_data, 0)
    certs_buf, q = _lp(signed_data, q)
    if scheme == "v3":
        q += 8  # min/max sdk repeated inside signed data
    attrs_buf, q = _lp(signed_data, q)
    try:
        public_key = serialization.load_der_public_key(public_key_der)
    except ValueError:
        info.problems.append(f"{scheme} 签名者公钥无法解析")
        return None
    # the strongest supported signature must verify over the signed data
    verified_algo: int | None = None
    for item in _seq(signatures_buf):
        (algo,) = struct.unpack_from("<I", item, 0)
        sig, _ = _lp(item, 4)
        if algo not in _ALGOS:
            continue
        if not _check_sig(public_key, algo, sig, signed_data):
            info.problems.append(f"{scheme} 签名校验失败（算法 0x{algo:04x}）")
            return None
        verified_algo = algo if verified_algo is None else verified_algo
    if verified_algo is None:
        info.problems.append(f"{scheme} 签名没有受支持的算法")
        return None
    certs = _seq(certs_buf)
    if not certs:
        info.problems.append(f"{scheme} 签名者没有证书")
        return None
    cert = x509.load_der_x509_certificate(certs[0])
    if cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        info.problems.append(f"{scheme} 证书与签名公钥不一致")
        return None
    # the content digest of the whole file, for the verified algorithm
    digests = {}
    for item in _seq(digests_buf):
        (algo,) = struct.unpack_from("<I", item, 0)
        digests[algo], _ = _lp(item, 4)
    expected = digests.get(verified_algo)
    if expected is None:
        info.problems.append(f"{scheme} 缺少内容摘要")
        return None
    hash_cls = _ALGOS[verified_algo][0]
    if _content_digest(f, layout, hash_cls) != expected:
        info.problems.append(f"{scheme} 内容摘要不符：APK 在签名后被改动")
        return None
    lineage: list[str] = []
    if scheme == "v3":
        for attr in _seq(attrs_buf):
            (aid,) = struct.unpack_from("<I", attr, 0)
            if aid == _POR_ATTR:
                lineage = _lineage(attr[4:])
    return Signer(scheme, hashlib.sha256(certs[0]).hexdigest(), lineage, sdk)


def _check_sig(key: object, algo: int, sig: bytes, data: bytes) -> bool:
    hash_cls, kind = _ALGOS[algo]
    try:
        if kind == "pss" and isinstance(key, rsa.RSAPublicKey):
            pad = padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=hash_cls.digest_size)
            key.verify(sig, data, pad, hash_cls())
        elif kind == "pkcs1" and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, data, padding.PKCS1v15(), hash_cls())
        elif kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, data, ec.ECDSA(hash_cls()))
        elif kind == "dsa" and isinstance(key, dsa.DSAPublicKey):
            key.verify(sig, data, hash_cls())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _lineage(buf: bytes) -> list[str]:
    """Certificates of a v3 proof-of-rotation, oldest first (sha256 hex)."""
    out: list[str] = []
    try:
        p = 4  # version
        while p < len(buf):
            node, p = _lp(buf, p)
            signed, _ = _lp(node, 0)
            cert, _ = _lp(signed, 0)
            out.append(hashlib.sha256(cert).hexdigest())
    except (ValueError, struct.error):
        pass
    return out


def _content_digest(f: BinaryIO, layout: _Layout, hash_cls: type[hashes.HashAlgorithm]) -> bytes:
    """The v2/v3 chunked digest of ZIP entries, central directory and (patched) EOCD.

    One pass over the file in 1 MB chunks; only the chunk digests (32-64 bytes per MB) are
    kept, so memory does not grow with the APK.
    """
    name = "sha512" if hash_cls is hashes.SHA512 else "sha256"
    eocd = bytearray(layout.eocd)
    struct.pack_into("<I", eocd, 16, layout.block_offset)  # as if no signing block existed
    digests: list[bytes] = []
    for start, length in [(0, layout.block_offset), (layout.cd_offset, layout.cd_size)]:
        f.seek(start)
        left = length
        while left > 0:
            chunk = f.read(min(_CHUNK, left))
            if not chunk:
                raise ApkError("APK 文件读取不完整")
            left -= len(chunk)
            digests.append(_chunk_digest(name, chunk))
    for i in range(0, len(eocd), _CHUNK):
        digests.append(_chunk_digest(name, bytes(eocd[i : i + _CHUNK])))
    final = hashlib.new(name, b"\x5a" + struct.pack("<I", len(digests)))
    for d in digests:
        final.update(d)
    return final.digest()


def _chunk_digest(name: str, chunk: bytes) -> bytes:
    return hashlib.new(name, b"\xa5" + struct.pack("<I", len(chunk)) + chunk).digest()


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
    if v3:
        primary = v3[0]
        info.lineage = primary.lineage
    elif v2:
        primary = v2[0]
    elif v1:
        primary = v1[0]
    else:
        if not any("签名" in p for p in info.problems):
            info.problems.append("APK 未签名")
        return
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
