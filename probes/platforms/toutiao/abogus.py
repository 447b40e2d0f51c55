"""``a_bogus``: the signature Toutiao's web API asks of a query, computed without a browser.

A port of DIYgod/RSSHub ``lib/routes/toutiao/a-bogus.ts`` (MIT licence, © DIYgod and
contributors; it credits NearHuiwen/TiktokDouyinCrawler ``utils/a_bogus.js``, 110Art/a-bogus
and ShilongLee/Crawler ``lib/js/douyin.js``), which RSSHub's ``/toutiao/user/token/:token``
route uses to read an author's feed over plain HTTP. The algorithm: the query (with the
suffix ``cus``) and the suffix each hashed twice with SM3, the user agent RC4-encrypted and
hashed, a block of those bytes, two timestamps, fixed page ids and a screen fingerprint
RC4-encrypted with the key ``y``, behind 12 random bytes, in a base64 of its own alphabet.
SM3 is OpenSSL's (``hashlib``); RC4 is twelve lines here. JavaScript's 32-bit integer
arithmetic is kept where it shows (every value a byte of the result).
"""

from __future__ import annotations

import hashlib
import random
import time

#: the base64 alphabets the signer uses ("s3" for the user agent, "s4" for the result)
S3 = "ckdp1h4ZKsUB80/Mfvw36XIgR25+WQAlEi7NLboqYTOPuzmFjJnryx9HVGDaStCe"
S4 = "Dkdpgh2ZmsQB80/MfvV36XI1R45-WUAlEixNLwoqYTOPuzKFjJnry79HbGcaStCe"
#: the screen and platform the page reports (RSSHub's constant)
WINDOW_ENV = "1536|747|1536|834|0|30|0|0|1536|834|1536|864|1525|747|24|24|Win32"
SUFFIX = "cus"
AID, PAGE_ID = 6383, 6241


def rc4(data: bytes, key: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def encode(data: bytes, alphabet: str) -> str:
    """The signer's base64: 24 bits at a time, a short last group padded with zero bytes
    (as ``codePointAt`` past the end reads), no ``=``."""
    out = []
    for n in range((len(data) * 4 + 2) // 3):
        group = data[n // 4 * 3 : n // 4 * 3 + 3].ljust(3, b"\0")
        value = int.from_bytes(group, "big")
        out.append(alphabet[(value >> (18 - 6 * (n % 4))) & 63])
    return "".join(out)


def _random_prefix(rng: random.Random) -> bytes:
    out = bytearray()
    for option in ((3, 45), (1, 0), (1, 5)):
        r = int(rng.random() * 10000)
        out += bytes(
            [
                (r & 255 & 170) | (option[0] & 85),
                (r & 255 & 85) | (option[0] & 170),
                ((r >> 8) & 255 & 170) | (option[1] & 85),
                ((r >> 8) & 255 & 85) | (option[1] & 170),
            ]
        )
    return bytes(out)


def _be32(n: int) -> list[int]:
    """The four bytes of ``n`` as JavaScript's ``>> 24 & 255`` … ``& 255`` take them."""
    return [(n >> s) & 255 for s in (24, 16, 8, 0)]


def _block(query: str, user_agent: str, start_ms: int, end_ms: int) -> bytes:
    params = sm3(sm3((query + SUFFIX).encode()))
    suffix = sm3(sm3(SUFFIX.encode()))
    ua = sm3(encode(rc4(user_agent.encode("latin-1", "replace"), b"\x00\x01\x0e"), S3).encode())
    s0, s1, s2, s3 = _be32(start_ms)
    e0, e1, e2, e3 = _be32(end_ms)
    s_hi, s_top = (start_ms >> 32) & 255, (start_ms >> 40) & 255
    e_hi, e_top = (end_ms >> 32) & 255, (end_ms >> 40) & 255
    p0, p1, p2, p3 = _be32(PAGE_ID)
    a0, a1, a2, a3 = reversed(_be32(AID))
    env = WINDOW_ENV.encode()
    # RSSHub's ``bb``: b[18], b[20], b[52], b[26], … (the page's arguments [0, 1, 14] give
    # the zeros, the 1 and the 14 among them)
    block = [
        44, s0, p0, 0, 0, 0, a1, params[21], suffix[21], p1, ua[23],
        s1, 0, p2, p3, 1, 0, a0, params[22], suffix[22], ua[24],
        s2, 0, 0, a3, 0, s3, 0, 0, 14,
        e0, e1, a2, e2, e3, 3, e_hi, e_top, s_hi, s_top, len(env) & 255, len(env) >> 8 & 255, 0, 0,
    ]  # fmt: skip
    check = 0
    for v in block:  # b[72]: the xor of them all (b[34], left out there, is 0)
        check ^= v
    return bytes(block) + env + bytes([check & 255])


def sign(
    query: str, user_agent: str, *, now_ms: int | None = None, rng: random.Random | None = None
) -> str:
    """The ``a_bogus`` value for ``query`` (the query string as sent, without ``a_bogus``)
    made by a page with ``user_agent``: the two must be what the request carries."""
    start = int(time.time() * 1000) if now_ms is None else now_ms
    prefix = _random_prefix(rng or random.Random())
    body = rc4(_block(query, user_agent, start, start), b"y")
    return encode(prefix + body, S4) + "="
