"""Bytes to text the way a browser reads them, for GBK pages that do not say they are GBK.

Order of evidence: byte-order mark, HTTP ``charset``, ``<meta charset>``, XML declaration, then
detection biased towards GB18030 (the likeliest legacy encoding on mainland sites).
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_GB_FAMILY = frozenset({"gbk", "gb2312", "gb18030", "x-gbk", "cp936", "ms936", "euc-cn"})
_GB_FAMILY |= {"gb_2312-80", "csgb2312", "chinese", "windows-936", "x-euc-cn"}
# multibyte codecs a detector confuses with GBK on short Chinese text
_CJK_LOOKALIKES = frozenset(
    {"big5", "big5hkscs", "cp950", "shift_jis", "cp932", "euc_jp", "euc_kr", "cp949", "johab"}
)
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([a-zA-Z0-9_.:\-]+)["']""")
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.I)
_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/")
_BINARY_TYPES = frozenset(
    {
        "application/octet-stream",
        "application/zip",
        "application/pdf",
        "application/vnd.android.package-archive",
        "application/gzip",
    }
)


def normalize_charset(name: str | bytes) -> str | None:
    """Python codec name for a declared charset; GBK and GB2312 read as GB18030 (superset)."""
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    n = name.strip().strip("\"'").lower()
    if not n:
        return None
    if n in _GB_FAMILY:
        return "gb18030"
    try:
        codec = codecs.lookup(n).name
    except LookupError:
        return None
    if codec in ("gbk", "gb2312", "gb18030"):
        return "gb18030"
    if codec == "ascii":
        return "utf-8"  # a superset; pages that say ASCII rarely are
    if codec == "iso8859-1":
        return "cp1252"  # what browsers do (WHATWG encoding standard)
    return codec


def is_textual(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return not (media.startswith(_BINARY_PREFIXES) or media in _BINARY_TYPES)


def decode_text(content: bytes, content_type: str = "") -> tuple[str, str]:
    """Decode a body the way a browser would, returning ``(text, codec)``.

    Order: byte-order mark, HTTP ``charset``, ``<meta charset>``/http-equiv, XML declaration,
    then detection. A declared charset the bytes do not decode under is skipped (Chinese
    servers often announce UTF-8 for GBK pages), so the next source gets its turn.
    """
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if content.startswith(bom):
            return content.decode(codec, errors="replace"), codec
    head = content[:4096]
    candidates: list[str] = []
    if m := _HEADER_CHARSET.search(content_type):
        candidates.append(m.group(1))
    in_document = [_META_CHARSET.search(head), _XML_ENCODING.search(head)]
    if head.lstrip().startswith(b"<?xml"):
        in_document.reverse()  # a feed's own declaration beats HTML quoted in its CDATA
    candidates += [m.group(1).decode("ascii", "ignore") for m in in_document if m]
    tried: set[str] = set()
    for declared in candidates:
        codec = normalize_charset(declared)
        if codec is None or codec in tried:
            continue
        tried.add(codec)
        try:
            return content.decode(codec), codec
        except (UnicodeDecodeError, LookupError):
            continue
    codec = _detect(content)
    return content.decode(codec, errors="replace"), codec


def _detect(content: bytes) -> str:
    try:
        content.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(content).best()
    codec = normalize_charset(best.encoding) if best is not None else None
    # bias for mainland sites: GBK is by far the likeliest legacy encoding there
    if codec is None or codec in _CJK_LOOKALIKES:
        try:
            content.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            pass
    return codec or "utf-8"
