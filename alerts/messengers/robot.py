"""What the group robots share: xuncha speaks their webhook APIs itself.

These robots answer errors inside HTTP 200 — DingTalk and WeCom ``{"errcode": 310000, …}``
for a bad signature, a missing keyword or an IP not on the list, ``130101`` when more than
20 messages a minute arrived; Feishu and Lark ``{"code": 19021, …}``. apprise judges
DingTalk and WeCom by the HTTP status alone, and it cannot do what a duty officer's phone
needs: DingTalk's ``at.atMobiles``, WeCom markdown and its mentions, a signed Feishu card, or
a proxy (``origins``, also how the tests reach their stand-ins on 127.0.0.1). So each family
(``dingtalk``, ``wecom``, ``feishu``) says its endpoint, payload, signature and reply keys,
and ``Robot.send`` posts one JSON object and reads the answer. They take apprise's URL forms
(``dingtalk://{secret}@{token}/{mobile}``, ``wecombot://{key}``, ``feishu://{secret}@{token}``),
so the registry and config need not change.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from alerts.messengers.base import UNPARSEABLE, Delivery, Messenger, Verdict, mobiles
from alerts.notice import Message
from alerts.verdicts import http_verdict  # one wording of HTTP refusals, shared with apprise

BUSY_CODES = frozenset({-1})  # "系统繁忙": try again later
_HINTS = {
    310000: "检查机器人安全设置：加签密钥、自定义关键词或 IP 白名单",
    300001: "机器人令牌无效，机器人可能已被删除",
    400101: "机器人令牌无效，机器人可能已被删除",
    400102: "机器人已停用",
    93000: "机器人地址无效（key 错误或机器人已被删除）",
    19001: "机器人地址无效，机器人可能已被删除",
    19021: "检查机器人安全设置：签名校验密钥（或本机时间是否准确）",
    19022: "检查机器人安全设置：IP 白名单",
    19024: "检查机器人安全设置：自定义关键词",
}


@dataclass(frozen=True)
class Endpoint:
    url: str
    token: str
    secret: str | None
    query: dict[str, str]
    mobiles: tuple[str, ...]  # apprise's DingTalk targets, from the URL's path


def parts(rest: str) -> tuple[str, str | None, str]:
    """(token, secret or None, path) from the part of an apprise URL after ``scheme://``."""
    head, _, path = rest.split("?", 1)[0].partition("/")
    secret, at, token = head.rpartition("@")
    return urllib.parse.unquote(token), (urllib.parse.unquote(secret) or None) if at else None, path


def heading(title: str) -> str:
    return f"#### {title}"


def mention_line(numbers: Sequence[str]) -> str:
    return "值班提醒：" + " ".join(f"@{m}" for m in numbers)


class Robot(Messenger):
    """A webhook robot answering ``{code: 0}`` for yes. Subclasses: ``endpoint``, ``payload``
    and, where they differ, ``fit``, ``signed``, ``follow_up`` and the reply keys."""

    reply_keys: ClassVar[tuple[str, ...]] = ("errcode",)
    mentions_people: ClassVar[bool] = False  # whether it can ring a mobile at all

    def endpoint(self, rest: str, origin: str) -> Endpoint:
        raise NotImplementedError

    def payload(self, message: Message, body: str, mentions: Sequence[str] = ()) -> dict[str, Any]:
        raise NotImplementedError

    def fit(self, title: str, body: str) -> str:
        """``body`` cut to what the robot takes, where our budget was not already that."""
        return body

    def signed(
        self, end: Endpoint, query: dict[str, str], data: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """The request's query and body with the robot's signature, when it has a secret."""
        return query, data

    def follow_up(self, message: Message, told: Sequence[str]) -> dict[str, Any] | None:
        """A second request after a delivered message (WeCom's mention), or None."""
        return None

    def max_seconds(self, timeout: float) -> float:
        return 2 * timeout + 5  # a message and its mention

    async def send(self, d: Delivery) -> Verdict:
        """POST one message (and a follow-up after it); never raises."""
        import httpx

        end = self.endpoint(d.url.split("://", 1)[1], d.origin)
        if not end.token:
            return Verdict(False, True, False, UNPARSEABLE)  # no token: not a robot address
        told = mobiles([*end.mobiles, *d.mentions]) if self.mentions_people else []
        message = d.message
        body = self.fit(message.title, self.body(message))
        query, data = self.signed(end, dict(end.query), self.payload(message, body, told))
        try:
            async with httpx.AsyncClient(timeout=d.timeout, follow_redirects=False) as client:
                verdict = await self._post(client, end.url, query, data)
                extra = self.follow_up(message, told) if verdict.ok and told else None
                if extra is not None:
                    return await self._after(client, end.url, query, extra)
        except httpx.TimeoutException:
            return Verdict(False, error=f"发送超时（超过 {d.timeout:g} 秒）")
        except httpx.HTTPError:
            return Verdict(False, error="无法连接通知渠道（连接被拒绝、超时或网络不通）")
        return verdict

    async def _after(
        self, client: Any, url: str, query: dict[str, str], data: dict[str, Any]
    ) -> Verdict:
        """The follow-up after a delivered message. The message arrived, so whatever happens
        to the follow-up it counts as delivered: a lost mention is a note the caller logs,
        never a reason to send the message again."""
        import httpx

        try:
            ping = await self._post(client, url, query, data)
            note = "" if ping.ok else ping.error
        except httpx.HTTPError as e:
            note = f"无法发送 @值班手机 提醒（{type(e).__name__}）"
        return Verdict(True, requests=2, note=note)

    async def _post(
        self, client: Any, url: str, query: dict[str, str], data: dict[str, Any]
    ) -> Verdict:
        # UTF-8 as it is, not \\u escapes: Chinese costs 3 bytes instead of 6 against the limit
        content = json.dumps(data, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        r = await client.post(url, params=query, content=content, headers=headers)
        if r.status_code != 200:
            permanent, reason = http_verdict(r.status_code)
            return Verdict(False, permanent, r.status_code == 429, reason)
        return self.judge(r.content)

    def judge(self, body: bytes) -> Verdict:
        """Read a robot's 200 answer: code 0 is the only success."""
        try:
            reply = json.loads(body)
        except ValueError:
            reply = None
        keys = self.reply_keys
        code = next((reply[k] for k in keys if isinstance(reply, dict) and k in reply), None)
        if not isinstance(code, int) or isinstance(code, bool):
            return Verdict(False, error="通知渠道的回复无法识别（可能被代理或网关改写）")
        assert isinstance(reply, dict)
        msg = str(reply.get("errmsg", reply.get("msg", reply.get("StatusMessage", ""))))[:200]
        if code == 0:
            return Verdict(True)
        if code in self.throttle_codes:
            return Verdict(False, False, True, f"通知渠道限流（错误码 {code}：{msg}），稍后重试")
        if code in BUSY_CODES:
            return Verdict(False, error=f"通知渠道繁忙（错误码 {code}：{msg}），稍后重试")
        hint = _HINTS.get(code, "")
        return Verdict(
            False,
            True,
            False,
            f"通知渠道拒绝了该消息（错误码 {code}：{msg}）" + (f"；{hint}" if hint else ""),
        )
