"""Office files that are the same bytes whenever they are written.

openpyxl stamps the workbook's modified time with the clock at save, python-docx its
created time at ``Document()``, and ``zipfile`` dates every entry with the clock too, so
two exports of the same past period would differ. ``stable_package`` re-packs what a
library wrote: the document properties' times set to ``when`` (the report's cut-off) and
every zip entry dated ``when`` with fixed attributes, in the library's own order. The
libraries have no option for this, hence the re-pack (a few milliseconds).
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from lxml import etree

CORE = "docProps/core.xml"
_DCTERMS = "http://purl.org/dc/terms/"
_CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
_STAMPS = (f"{{{_DCTERMS}}}created", f"{{{_DCTERMS}}}modified", f"{{{_CP}}}lastPrinted")


def _core(xml: bytes, stamp: str) -> bytes:
    root = etree.fromstring(xml)
    for el in root:
        if el.tag in _STAMPS:
            el.text = stamp
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def stable_package(data: bytes, when: datetime) -> bytes:
    """``data`` (an OOXML zip) with its times fixed to ``when``."""
    utc = when.astimezone(UTC)
    stamp = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    # a zip date has no zone (UTC here), two-second steps and starts in 1980
    zip_time = (max(utc.year, 1980), utc.month, utc.day, utc.hour, utc.minute, utc.second // 2 * 2)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = src.read(info)
            if info.filename == CORE:
                body = _core(body, stamp)
            entry = zipfile.ZipInfo(info.filename, date_time=zip_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            entry.create_system = 0
            dst.writestr(entry, body)
    return out.getvalue()
