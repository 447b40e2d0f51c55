"""WeCom's group robot: ``wecombot://{key}``.

A markdown message cannot mention by mobile (only ``<@userid>``, and the registry holds
mobiles); ``mentioned_mobile_list`` works in ``text`` messages only. So a WeCom group sees
what its members do by hand: the message, then a short text that @-mentions the duty
officers and names it — two requests, both counted against the robot's 20 a minute."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerts.messengers.base import mobiles, register
from alerts.messengers.robot import Endpoint, Robot, heading, parts
from alerts.notice import Message
from alerts.text import Budget

# WeCom counts a markdown message's ``content`` in UTF-8 bytes: at most 4,096
WECOM_MARKDOWN_BYTES = 4096


class WeCom(Robot):
    schemes = ("wecombot",)
    name = "企业微信机器人"
    # the "#### title" heading and the "消息编号 #N" line included (room kept)
    budget = Budget(WECOM_MARKDOWN_BYTES - 80, escaped=False)
    rate_per_minute = 20
    default_origin = "https://qyapi.weixin.qq.com"
    throttle_codes = frozenset({45009})  # "api freq out of limit"
    mentions_people = True

    def requests(self, mentions: Sequence[str]) -> int:
        return 2 if mobiles(mentions) else 1

    def endpoint(self, rest: str, origin: str) -> Endpoint:
        token, _, _ = parts(rest)
        url = origin.rstrip("/") + "/cgi-bin/webhook/send"
        return Endpoint(url, token, None, {"key": token}, ())

    def payload(self, message: Message, body: str, mentions: Sequence[str] = ()) -> dict[str, Any]:
        content = f"{heading(message.title)}\n\n{body}"
        return {"msgtype": "markdown", "markdown": {"content": content}}

    def fit(self, title: str, body: str) -> str:
        """4,096 bytes with its heading; "…（内容过长，已截断）" marks a cut."""
        room = WECOM_MARKDOWN_BYTES - len(f"{heading(title)}\n\n".encode())
        if len(body.encode()) <= room:
            return body
        tail = "\n…（内容过长，已截断）"
        cut = body.encode()[: max(0, room - len(tail.encode()))]
        return cut.decode(errors="ignore") + tail

    def follow_up(self, message: Message, told: Sequence[str]) -> dict[str, Any] | None:
        """The short text that follows a markdown message to ring the duty officers."""
        return {
            "msgtype": "text",
            "text": {
                "content": f"值班提醒：请查看上条巡查消息「{message.title}」",
                "mentioned_mobile_list": list(told),
            },
        }


register(WeCom())
