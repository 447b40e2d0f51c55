"""A local stand-in for Xiaohongshu that shows notes only to a logged-in visitor, and a reader of
its notes API that knows nothing of sessions: shared by the sessions tests (imported as
``sessionsite``, like ``localserver``, so the reader registers once).

What the stand-in answers, and where its shapes come from:

- ``/api/sns/web/v1/user_posted`` (the notes API MediaCrawler calls, NanmiCoder/MediaCrawler
  ``media_platform/xhs/client.py`` ``get_notes_by_creator``): ``{"success": true, "data":
  {"notes": [...], "has_more", "cursor"}}`` with the login cookie ``web_session``; without it
  ``{"code": -101, "success": false, "msg": "无登录信息，或登录信息为空", "data": {}}`` (the
  answer quoted in ReaJason/xhs issue #3 and in the readers' code that handle it).
- ``/user/profile/<id>``: the page the ``xiaohongshu`` reader reads, ``window.__INITIAL_STATE__``
  with ``user.userPageData`` and ``user.notes`` (MediaCrawler ``get_creator_info``); to a
  visitor without the login its notes list is empty, and it says so: "登录后查看更多".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from localserver import Reply, Request

from probes.fetch import Tools
from probes.model import Observation, Outcome, Post, Target
from probes.platforms import observation_from, register
from probes.platforms.common import origin
from probes.platforms.dates import from_object_id

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
LOGIN = "040069b5f5e2a3c1d8e7loggedin"
UID = "5f0000000000000000000001"
NOTE_IDS = ["6740a0800000000000000001", "6741f2000000000000000002"]  # 2024-11-22, 2024-11-23
NEEDS_LOGIN = {"code": -101, "success": False, "msg": "无登录信息，或登录信息为空", "data": {}}


def logged_in(req: Request) -> bool:
    cookies = dict(
        p.strip().split("=", 1) for p in req.headers.get("cookie", "").split(";") if "=" in p
    )
    return cookies.get("web_session") == LOGIN


def user_posted(req: Request) -> Reply:
    body = (
        {"success": True, "code": 0, "msg": "成功", "data": {"has_more": False, "cursor": "",
         "notes": [{"note_id": n, "display_title": f"笔记{i}", "type": "normal",
                    "interact_info": {"sticky": False}} for i, n in enumerate(NOTE_IDS)]}}
        if logged_in(req)
        else NEEDS_LOGIN
    )  # fmt: skip
    return Reply(body=json.dumps(body, ensure_ascii=False),
                 headers={"Content-Type": "application/json; charset=utf-8"})  # fmt: skip


def profile_page(req: Request) -> Reply:
    notes = [
        {"id": n, "noteCard": {"noteId": n, "displayTitle": f"笔记{i}", "type": "normal",
                               "interactInfo": {"sticky": False}}}
        for i, n in enumerate(NOTE_IDS)
    ] if logged_in(req) else []  # fmt: skip
    state = {"user": {
        "userPageData": {"basicInfo": {"nickname": "示例文旅", "desc": "示例市文化和旅游局",
                                       "ipLocation": "山东"},
                         "interactions": [{"type": "fans", "count": "1万"}]},
        "notes": [notes, [], [], []],
    }}  # fmt: skip
    wall = "" if logged_in(req) else '<div class="login-container">登录后查看更多</div>'
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>小红书</title></head><body>'
        f'<div id="app"></div>{wall}<script>window.__INITIAL_STATE__='
        + json.dumps(state, ensure_ascii=False)
        + "</script></body></html>"
    )
    return Reply(body=body, headers={"Content-Type": "text/html; charset=utf-8"})


@register("xhs-notes-api")
async def read_notes_api(target: Target, tools: Tools) -> Observation:
    """A stand-in for a reader of the notes API, as the platform readers are being taught to
    report a login wall (``Observation.login_required``): it knows nothing of sessions."""
    www = origin(target, "www", "https://www.xiaohongshu.com")
    resp = await tools.http.get(
        f"{www}/api/sns/web/v1/user_posted?user_id={target.handle}&cursor=&num=30",
        platform=target.platform,
    )
    obs = observation_from(target, resp, kind="json", default_media_type="application/json")
    data = json.loads(resp.text)
    if data.get("code") == -101:
        obs.outcome, obs.login_required = Outcome.blocked, True
        obs.detail = f"小红书要求登录：{data['msg']}"
        return obs
    obs.posts = [
        Post(n["note_id"], from_object_id(n["note_id"], now=NOW), title=n["display_title"])
        for n in data["data"]["notes"]
    ]
    return obs


def routes() -> dict[str, object]:
    return {"/api/sns/web/v1/user_posted": user_posted, f"/user/profile/{UID}": profile_page}
