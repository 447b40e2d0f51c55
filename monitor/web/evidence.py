"""The pictures of a snapshot's pages (``monitor.store.screenshots``), for the console and the
API, scoped as the snapshot's other evidence is: a snapshot the asker may not see answers 404.

Served only as a PNG whose bytes start like one, with the headers every piece of evidence
carries (``nosniff``, a sandboxing CSP, no caching by shared caches).
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


@router.get("/snapshots/{snapshot_id}/screenshots/{index}", include_in_schema=False)
def page_picture(session: DB, user: PageUser, xapp: XApp, snapshot_id: int, index: int) -> Response:
    return picture(session, user, xapp, snapshot_id, index)


@router.get(
    "/api/v1/snapshots/{snapshot_id}/screenshots/{index}",
    summary="网页截图（由快照保存的 HTML 离线绘制的 PNG；序号见快照详情的 screenshots）",
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
    shots = screenshots_of(session, snap.artifacts) if snap is not None else []
    if not 0 <= index < len(shots) or not shots[index].png_sha256:
        raise NotFound
    try:
        png = xapp.blobs.get(shots[index].png_sha256)  # verified against its hash
    except BlobCorrupt as e:
        raise HTTPException(410, f"网页截图缺失或已损坏：{e}") from e
    if not png.startswith(IMAGE_MAGIC[PNG]):
        raise HTTPException(410, "网页截图不是 PNG 图片")
    return Response(png, media_type=PNG, headers=dict(HEADERS))
