"""Feishu's and Lark's custom robot: ``feishu://{token}`` / ``lark://{token}``, or
``feishu://{secret}@{token}`` for a robot with 签名校验 (apprise reads the same URL and ignores
the secret). A custom robot mentions by ``open_id`` only, which the registry does not hold,
so no mention; the card's header colour carries the severity instead."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

from alerts.messengers.base import register
from alerts.messengers.robot import Endpoint, Robot, parts
from alerts.notice import Message

_CARD_COLOURS = {"info": "blue", "success": "green", "warning": "orange", "failure": "red"}


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256 keyed with "timestamp\\nsecret", of nothing)."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class Feishu(Robot):
    schemes = ("feishu",)
    name = "飞书机器人"
    rate_per_minute = 100
    default_origin = "https://open.feishu.cn"
    throttle_codes = frozenset({11232})  # frequency limited
    reply_keys = ("code", "StatusCode")  # ``StatusCode``: the older answer

    def endpoint(self, rest: str, origin: str) -> Endpoint:
        token, secret, _ = parts(rest)
        quoted = urllib.parse.quote(token, safe="")
        return Endpoint(
            f"{origin.rstrip('/')}/open-apis/bot/v2/hook/{quoted}", token, secret, {}, ()
        )

    def payload(self, message: Message, body: str, mentions: Sequence[str] = ()) -> dict[str, Any]:
        return {  # the card apprise sends too, coloured by the message's level
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "title": {"tag": "plain_text", "content": message.title},
                    "template": _CARD_COLOURS.get(message.level, "blue"),
                },
                "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": body}}],
            },
        }

    def signed(
        self, end: Endpoint, query: dict[str, str], data: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, Any]]:
        if not end.secret:
            return query, data
        ts = int(time.time())  # in the body, in seconds
        return query, {"timestamp": str(ts), "sign": feishu_sign(end.secret, ts), **data}


class Lark(Feishu):
    schemes = ("lark",)
    name = "Lark 机器人"
    default_origin = "https://open.larksuite.com"


register(Feishu())
register(Lark())
