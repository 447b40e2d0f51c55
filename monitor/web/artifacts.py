"""Raw evidence served without ever letting it run: scraped pages are hostile.

Images go out only as PNG/JPEG whose bytes really start like one; text (HTML, JSON, feeds)
only as ``text/plain``; anything else, and every download, as an octet-stream attachment.
Every answer carries ``nosniff`` and a sandboxing CSP, so a browser never renders a page
a stolen account published.
"""

from __future__ import annotations

from charset_normalizer import from_bytes
from fastapi.responses import Response

from monitor.store.history import ArtifactInfo

IMAGE_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
TEXT_TYPES = {
    "application/json",
    "application/xml",
    "application/xhtml+xml",
    "application/rss+xml",
    "application/atom+xml",
}
EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "text/html": "html",
    "application/json": "json",
    "application/xml": "xml",
    "application/rss+xml": "xml",
    "application/atom+xml": "xml",
    "text/plain": "txt",
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",  # evidence stays out of shared caches and disks
}


def base_type(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def is_image(info: ArtifactInfo) -> bool:
    """Shown inline as a picture: a screenshot the browser reader took (bytes checked when
    served)."""
    return info.kind == "screenshot" and base_type(info.media_type) in IMAGE_MAGIC


def is_text(info: ArtifactInfo) -> bool:
    mt = base_type(info.media_type)
    return mt.startswith("text/") or mt in TEXT_TYPES


def as_text(data: bytes) -> str:
    """Decode a page whatever its encoding (GBK pages exist); never fails."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        return str(best) if best is not None else data.decode("utf-8", errors="replace")


def artifact_response(
    data: bytes, info: ArtifactInfo, snapshot_id: int, *, download: bool
) -> Response:
    mt = base_type(info.media_type)
    headers = dict(HEADERS)
    if not download and mt in IMAGE_MAGIC and data.startswith(IMAGE_MAGIC[mt]):
        return Response(data, media_type=mt, headers=headers)
    if not download and is_text(info):
        body = as_text(data).encode("utf-8")
        headers["Content-Disposition"] = "inline"
        return Response(body, media_type="text/plain; charset=utf-8", headers=headers)
    ext = EXTENSIONS.get(mt, "bin")
    name = f"snapshot-{snapshot_id}-{info.index}-{info.kind or 'artifact'}.{ext}"
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(data, media_type="application/octet-stream", headers=headers)
