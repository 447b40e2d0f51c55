"""The pictures of a snapshot's pages (``monitor.store.screenshots``), for the console and the
API, scoped as the snapshot's other evidence is: a snapshot the asker may not see answers 404.

Served only as a picture whose bytes start like the format it was stored as — WebP or
JPEG (drawn since pictures are keyed by content), PNG (drawn before, still shown) — with the
headers every piece of evidence carries (``nosniff``, a sandboxing CSP, no caching by shared
caches).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from monitor.store.blobs import BlobCorrupt
from monitor.store.models import Snapshot
from monitor.store.screenshots import screenshots_of
from monitor.web import data
from monitor.web.artifacts import HEADERS, IMAGE_MAGIC
from monitor.web.auth import Principal
from monitor.web.deps import DB, ApiUser, NotFound, PageUser, XApp

router = APIRouter()
PNG = "image/png"


def picture_type(data: bytes) -> str | None:
    """The media type the bytes are, of the formats a picture is stored in, or None."""
    if data.startswith(IMAGE_MAGIC[PNG]):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(IMAGE_MAGIC["image/jpeg"]):
        return "image/jpeg"
    return None


@router.get("/snapshots/{snapshot_id}/screenshots/{index}", include_in_schema=False)
def page_picture(session: DB, user: PageUser, xapp: XApp, snapshot_id: int, index: int) -> Response:
    return picture(session, user, xapp, snapshot_id, index)


@router.get(
    "/api/v1/snapshots/{snapshot_id}/screenshots/{index}",
    summary="网页截图（由快照保存的 HTML 离线绘制的图片：WebP，早期为 PNG；序号见快照详情）",
    tags=["xuncha"],
    responses={404: {"description": "不存在、尚未绘制，或不在令牌用户的单位范围内"}},
    response_class=Response,
)
def api_picture(session: DB, user: ApiUser, xapp: XApp, snapshot_id: int, index: int) -> Response:
    return picture(session, user, xapp, snapshot_id, index)


def picture(session: Any, user: Principal, xapp: Any, snapshot_id: int, index: int) -> Response:
    if data.snapshot_account(session, user, snapshot_id) is None:
        raise NotFound
    snap = session.get(Snapshot, snapshot_id)
    shots = screenshots_of(session, snap.artifacts, snap.facts_hash) if snap is not None else []
    if not 0 <= index < len(shots) or not shots[index].png_sha256:
        raise NotFound
    try:
        pic = xapp.blobs.get(shots[index].png_sha256)  # verified against its hash
    except BlobCorrupt as e:
        raise HTTPException(410, f"网页截图缺失或已损坏：{e}") from e
    kind = picture_type(pic)
    if kind is None or kind != (shots[index].media_type or PNG):
        raise HTTPException(410, "网页截图不是所记录格式的图片")
    return Response(pic, media_type=kind, headers=dict(HEADERS))
