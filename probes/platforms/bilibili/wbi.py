"""Bilibili's WBI signature: the ``w_rid`` and ``wts`` its web pages add to a query.

Public and stable since March 2023 (SocialSisterYi/bilibili-API-collect,
``docs/misc/sign/wbi.md``):

1. ``/x/web-interface/nav`` answers, logged in or not, ``data.wbi_img.{img_url, sub_url}``;
   the file names without extension are ``img_key`` and ``sub_key`` (site-wide, they change
   about once a day);
2. ``mixin_key`` = the first 32 characters of ``img_key + sub_key`` taken in the order of
   :data:`MIXIN_KEY_ENC_TAB`;
3. ``w_rid`` = md5 of the parameters with ``wts`` (unix seconds) added, sorted by name,
   the characters ``!'()*`` dropped from values, percent-encoded as ``encodeURIComponent``
   does (upper-case hex, a space as ``%20``), joined with ``&``, then ``mixin_key``.

Pure functions: tens of microseconds a request, where a browser page cost ~0.25 s of CPU.
A wrong or stale signature is answered ``code -352`` or ``data.v_voucher`` (risk control).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import quote

#: the published reordering table (docs/misc/sign/wbi.md, "MIXIN_KEY_ENC_TAB")
MIXIN_KEY_ENC_TAB = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49,
    33, 9, 42, 19, 29, 28, 14, 39, 12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40,
    61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63, 57, 62, 11,
    36, 20, 34, 44, 52,
)  # fmt: skip
_DROPPED = str.maketrans("", "", "!'()*")


def key_of(url: str) -> str:
    """``img_key``/``sub_key`` from a ``wbi_img`` URL: its file name without extension."""
    return url.rsplit("/", 1)[-1].split(".", 1)[0]


def mixin_key(img_key: str, sub_key: str) -> str:
    """The signing key of the day; "" when the two keys are not the 64 characters expected."""
    raw = img_key + sub_key
    if len(raw) < 64:
        return ""
    return "".join(raw[i] for i in MIXIN_KEY_ENC_TAB)[:32]


def encode(params: Mapping[str, object]) -> str:
    """The query as the signature reads it: sorted by name, ``!'()*`` dropped from values,
    encoded like JavaScript's ``encodeURIComponent``."""
    return "&".join(
        f"{quote(str(k), safe='')}={quote(str(v).translate(_DROPPED), safe='')}"
        for k, v in sorted(params.items())
    )


def sign(params: Mapping[str, object], mixin: str, wts: int) -> str:
    """The signed query string: ``params`` with ``wts`` and ``w_rid``."""
    query = encode({**params, "wts": wts})
    w_rid = hashlib.md5((query + mixin).encode(), usedforsecurity=False).hexdigest()
    return f"{query}&w_rid={w_rid}"
