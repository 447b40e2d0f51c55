"""The compiled AndroidManifest.xml (binary XML, "AXML"): package, version and minSdk.

Only the chunks those facts need are read — the string pool, the resource map (obfuscated
attribute names are matched by resource id) and the ``manifest``/``uses-sdk`` start tags.
A malformed or hostile document raises (``ValueError``, ``struct.error``, ``IndexError``,
``UnicodeDecodeError``); :func:`probes.apps.apk.inspect_apk` names that in Chinese.
"""

from __future__ import annotations

import struct

from probes.apps.apkinfo import ApkInfo

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
