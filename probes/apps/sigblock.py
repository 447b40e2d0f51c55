"""The APK Signing Block: v2/v3 signers, verified as Android verifies them.

Each signer's strongest supported signature must verify over its signed data, its
certificate must hold the signing key, and the whole-file chunked digest must match (an APK
changed after signing fails here). v3 adds the SDK range a signer is for and the
proof-of-rotation lineage. The file is read in 1 MB chunks: memory does not grow with it.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa

from probes.apps.apkinfo import ApkError, ApkInfo, Signer

_CHUNK = 1024 * 1024  # v2/v3 content digests are over 1 MB chunks

_SIG_BLOCK_MAGIC = b"APK Sig Block 42"
V2_ID = 0x7109871A
V3_ID = 0xF05368C0
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


def signing_block(f: BinaryIO, info: ApkInfo) -> dict[int, _Layout]:
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


def verify_scheme(
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


class _Unverified(Exception):
    """Why a signer does not verify, in words said after the scheme's name."""


def _verify_signer(
    f: BinaryIO, layout: _Layout, raw: bytes, scheme: str, info: ApkInfo
) -> Signer | None:
    try:
        return _signer(f, layout, raw, scheme)
    except _Unverified as e:
        info.problems.append(f"{scheme} {e}")
        return None


def _signer(f: BinaryIO, layout: _Layout, raw: bytes, scheme: str) -> Signer:
    """One signer of the block, verified: its signature, its certificate's key, and the
    digest of the whole file; ``_Unverified`` says which does not hold."""
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
        raise _Unverified("签名者公钥无法解析") from None
    verified_algo = _verified_algo(public_key, signatures_buf, signed_data)
    certs = _seq(certs_buf)
    if not certs:
        raise _Unverified("签名者没有证书")
    cert = x509.load_der_x509_certificate(certs[0])
    if _spki(cert.public_key()) != _spki(public_key):
        raise _Unverified("证书与签名公钥不一致")
    # the content digest of the whole file, for the verified algorithm
    digests = {}
    for item in _seq(digests_buf):
        (algo,) = struct.unpack_from("<I", item, 0)
        digests[algo], _ = _lp(item, 4)
    expected = digests.get(verified_algo)
    if expected is None:
        raise _Unverified("缺少内容摘要")
    if _content_digest(f, layout, _ALGOS[verified_algo][0]) != expected:
        raise _Unverified("内容摘要不符：APK 在签名后被改动")
    lineage = _v3_lineage(attrs_buf) if scheme == "v3" else []
    return Signer(scheme, hashlib.sha256(certs[0]).hexdigest(), lineage, sdk)


def _verified_algo(public_key: Any, signatures_buf: bytes, signed_data: bytes) -> int:
    """The first supported algorithm, once every supported signature has verified over the
    signed data."""
    verified_algo: int | None = None
    for item in _seq(signatures_buf):
        (algo,) = struct.unpack_from("<I", item, 0)
        sig, _ = _lp(item, 4)
        if algo not in _ALGOS:
            continue
        if not _check_sig(public_key, algo, sig, signed_data):
            raise _Unverified(f"签名校验失败（算法 0x{algo:04x}）")
        verified_algo = algo if verified_algo is None else verified_algo
    if verified_algo is None:
        raise _Unverified("签名没有受支持的算法")
    return verified_algo


def _spki(key: Any) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _v3_lineage(attrs_buf: bytes) -> list[str]:
    """The proof-of-rotation among a v3 signer's attributes, if any (the last one read)."""
    lineage: list[str] = []
    for attr in _seq(attrs_buf):
        (aid,) = struct.unpack_from("<I", attr, 0)
        if aid == _POR_ATTR:
            lineage = _lineage(attr[4:])
    return lineage


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


def _short(e: object, limit: int = 80) -> str:
    s = str(e)
    return s if len(s) <= limit else s[: limit - 1] + "…"
