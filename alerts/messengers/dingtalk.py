"""DingTalk's custom robot: ``dingtalk://{token}`` or ``dingtalk://{secret}@{token}``, with
apprise's optional ``/{mobile}/{mobile}`` targets (mentioned on every message, besides the
unit's 值班手机). A mention is ``at.atMobiles`` plus the ``@138…`` text in the body, without
which DingTalk notifies but shows no mention. Signed in the query (HMAC-SHA256, ms)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence
from typing import Any

from alerts.messengers.base import MOBILE, register
from alerts.messengers.robot import Endpoint, Robot, heading, mention_line, parts
from alerts.notice import Message


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


class DingTalk(Robot):
    schemes = ("dingtalk",)
    name = "钉钉机器人"
    rate_per_minute = 20
    default_origin = "https://oapi.dingtalk.com"
    # "send too fast, exceed 20 times per minute" (130101), "发送速度太快而限流" (410100)
    throttle_codes = frozenset({130101, 410100})
    mentions_people = True

    def endpoint(self, rest: str, origin: str) -> Endpoint:
        token, secret, path = parts(rest)
        mobiles = tuple(m for m in path.split("/") if MOBILE.fullmatch(m))
        url = origin.rstrip("/") + "/robot/send"
        return Endpoint(url, token, secret, {"access_token": token}, mobiles)

    def payload(self, message: Message, body: str, mentions: Sequence[str] = ()) -> dict[str, Any]:
        # DingTalk shows markdown.title only in the notification preview: repeat it in the text
        text = f"{heading(message.title)}\n\n{body}"
        out: dict[str, Any] = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": text},
        }
        if mentions:
            out["markdown"]["text"] = f"{text}\n\n{mention_line(mentions)}"
            out["at"] = {"atMobiles": list(mentions), "isAtAll": False}
        return out

    def signed(
        self, end: Endpoint, query: dict[str, str], data: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, Any]]:
        if not end.secret:
            return query, data
        ts = int(time.time() * 1000)
        return query | {"timestamp": str(ts), "sign": sign(end.secret, ts)}, data


register(DingTalk())
