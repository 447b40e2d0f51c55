"""Toutiao's author page as it loads today (fixtures: ``fixtures/platforms/toutiao``).

``/c/user/token/<token>/`` is a script that fetches ``/api/pc/list/user/feed?category=
profile_all`` as the real page does. Tokens:

- ``MS4wLjABAAAAtt``: a pinned article 300 days old (``is_stick``), a 微头条 six hours old,
  a video two days old and an article twelve days old — every cell type the feed mixes;
- ``MS4wLjABAAAAttwithheld``: ``message: "success"`` with ``data: []``, what an anonymous
  visitor is shown.

``/api/pc/list/feed`` is the same feed asked over plain HTTP the way DIYgod/RSSHub
``lib/routes/toutiao/user.tsx`` asks it: the query signed with ``a_bogus``
(``lib/routes/toutiao/a-bogus.ts``). The simulator checks the signature as far as it can be
checked from outside — it decodes, its block is well formed, and the digests in it are those
of *this* query and of the request's ``User-Agent`` — and refuses a request that fails with
what ByteDance's web APIs give an unsigned or badly signed request: HTTP 200 and an empty
body. :attr:`Simulator.toutiao_refuses` makes it refuse every signed request too (a site that
changed its signer).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from localserver import Reply, Request

from .captured import answer, json_reply, script_page

if TYPE_CHECKING:
    from . import Simulator

#: token -> feed answer
ACCOUNTS = {"MS4wLjABAAAAtt": "feed_ok", "MS4wLjABAAAAttwithheld": "feed_withheld"}

PAGE_SCRIPT = """const token = location.pathname.split('/').filter(Boolean).pop();
fetch('/api/pc/list/user/feed?category=profile_all&token=' + token + '&max_behot_time=0'
  + '&entrance_gid=&aid=24&app_name=toutiao_web&a_bogus=sim')
  .then(r => r.json()).catch(() => {});"""


def routes(sim: Simulator) -> dict[str, Any]:
    return {
        **{f"/c/user/token/{token}/": _page for token in ACCOUNTS},
        "/api/pc/list/user/feed": lambda r: _feed(sim, r),
        "/api/pc/list/feed": lambda r: _signed_feed(sim, r),
    }


def _page(req: Request) -> Reply:
    return script_page("示例发布的头条主页 - 今日头条(www.toutiao.com)", PAGE_SCRIPT)


def _feed(sim: Simulator, req: Request) -> Reply:
    token = parse_qs(req.query).get("token", [""])[0]
    return json_reply(answer("toutiao", ACCOUNTS.get(token, "feed_withheld"), sim.now))


def _signed_feed(sim: Simulator, req: Request) -> Reply:
    query, _, signature = req.query.rpartition("&a_bogus=")
    ua = req.headers.get("user-agent", "")
    if sim.toutiao_refuses or not query or not signed(query, unquote(signature), ua):
        return Reply(200, b"", {"Content-Type": "application/json; charset=utf-8"})
    return _feed(sim, req)


#: the signer's base64 alphabet of the result and that of the user agent (RSSHub a-bogus.ts)
S4 = "Dkdpgh2ZmsQB80/MfvV36XI1R45-WUAlEixNLwoqYTOPuzKFjJnry79HbGcaStCe"
S3 = "ckdp1h4ZKsUB80/Mfvw36XIgR25+WQAlEi7NLboqYTOPuzmFjJnryx9HVGDaStCe"


def signed(query: str, signature: str, user_agent: str) -> bool:
    """Whether ``signature`` is an ``a_bogus`` of ``query`` made for ``user_agent``: 12 random
    bytes, then (RC4, key ``y``) a 44-byte block opening with 44 whose bytes 7/18 are bytes
    21/22 of SM3(SM3(query + "cus")) and 10/20 bytes 23/24 of the user agent's digest, the
    65-byte screen fingerprint and the xor of the block."""
    if not signature.endswith("=") or any(c not in S4 for c in signature[:-1]):
        return False
    bits = "".join(f"{S4.index(c):06b}" for c in signature[:-1])
    raw = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits) - 7, 8))
    block = _rc4(raw[12:], b"y")
    if len(block) != 110 or block[0] != 44:
        return False
    params = _sm3(_sm3((query + "cus").encode()))
    ua = _sm3(_b64(_rc4(user_agent.encode("latin-1", "replace"), b"\0\1\x0e"), S3).encode())
    check = 0
    for b in block[:44]:
        check ^= b
    return (block[7], block[18], block[10], block[20], block[109]) == (
        params[21],
        params[22],
        ua[23],
        ua[24],
        check,
    )


def _sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def _b64(data: bytes, alphabet: str) -> str:
    bits = "".join(f"{b:08b}" for b in data)
    bits += "0" * (-len(bits) % 6)
    return "".join(alphabet[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def _rc4(data: bytes, key: bytes) -> bytes:
    s, j = list(range(256)), 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i, j = (i + 1) % 256, (j + s[(i + 1) % 256]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)
