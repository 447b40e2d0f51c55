"""A thin sender for the group robots that answer errors inside HTTP 200.

DingTalk and WeCom group robots answer ``200 {"errcode": 310000, ...}`` for a bad signature,
a missing keyword or an IP not on the list, and ``130101`` when more than 20 messages a minute
arrived. apprise judges these two by the HTTP status alone and does not hand back the body,
so a refused message would count as delivered. This module speaks their documented webhook
APIs itself (a POST of one JSON object, HMAC-SHA256 signing for DingTalk) and reads the
answer. It takes apprise's URL forms, so the registry and config need not change:

- ``dingtalk://{token}`` or ``dingtalk://{secret}@{token}`` (phone numbers in the path are
  ignored: mentions are not used);
- ``wecombot://{key}``.

Feishu/Lark are left to apprise, which reads their ``code`` itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from dataclasses import dataclass

import httpx

from alerts.notice import Message
from alerts.verdicts import http_verdict  # one wording of HTTP refusals, shared with send

DEFAULT_ORIGINS = {
    "dingtalk": "https://oapi.dingtalk.com",
    "wecombot": "https://qyapi.weixin.qq.com",
}
BOT_SCHEMES = frozenset(DEFAULT_ORIGINS)
UNPARSEABLE = "通知地址无法识别"

# "send too fast, exceed 20 times per minute" (130101) and "发送速度太快而限流" (410100) on
# DingTalk; "api freq out of limit" (45009) on WeCom. The robot is blocked for a while: the
# outbox leaves the channel alone for [alerts].throttle_minutes and folds what waits.
THROTTLE_CODES = {"dingtalk": frozenset({130101, 410100}), "wecombot": frozenset({45009})}
BUSY_CODES = frozenset({-1})  # "系统繁忙": try again later
_HINTS = {
    310000: "检查机器人安全设置：加签密钥、自定义关键词或 IP 白名单",
    300001: "机器人令牌无效，机器人可能已被删除",
    400101: "机器人令牌无效，机器人可能已被删除",
    400102: "机器人已停用",
    93000: "机器人地址无效（key 错误或机器人已被删除）",
}


@dataclass
class BotVerdict:
    ok: bool
    permanent: bool = False
    throttled: bool = False
    error: str = ""


def _endpoint(scheme: str, rest: str, origin: str) -> tuple[str, str | None, dict[str, str]]:
    """(url, secret, query) from the part of an apprise URL after ``scheme://``."""
    netloc = rest.split("/", 1)[0].split("?", 1)[0]
    secret, at, token = netloc.rpartition("@")
    if scheme == "dingtalk":
        return (
            origin.rstrip("/") + "/robot/send",
            (secret or None) if at else None,
            {"access_token": urllib.parse.unquote(token)},
        )
    return origin.rstrip("/") + "/cgi-bin/webhook/send", None, {"key": urllib.parse.unquote(token)}


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def payload(scheme: str, message: Message, body: str) -> dict:
    if scheme == "dingtalk":
        # DingTalk shows markdown.title only in the notification preview: repeat it in the text
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": f"#### {message.title}\n\n{body}"},
        }
    return {"msgtype": "text", "text": {"content": f"{message.title}\n{body}"}}


async def send(
    scheme: str, rest: str, message: Message, body: str, *, origin: str, timeout: float
) -> BotVerdict:
    """POST one message; never raises. ``rest`` is the apprise URL after ``scheme://``."""
    url, secret, query = _endpoint(scheme, rest, origin)
    if not next(iter(query.values())):
        return BotVerdict(False, True, False, UNPARSEABLE)  # no token: not a robot address
    if secret:
        ts = int(time.time() * 1000)
        query |= {"timestamp": str(ts), "sign": sign(secret, ts)}
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            r = await client.post(url, params=query, json=payload(scheme, message, body))
    except httpx.TimeoutException:
        return BotVerdict(False, error=f"发送超时（超过 {timeout:g} 秒）")
    except httpx.HTTPError:
        return BotVerdict(False, error="无法连接通知渠道（连接被拒绝、超时或网络不通）")
    if r.status_code != 200:
        permanent, reason = http_verdict(r.status_code)
        return BotVerdict(False, permanent, r.status_code == 429, reason)
    return judge(scheme, r.content)


def judge(scheme: str, body: bytes) -> BotVerdict:
    """Read a robot's 200 answer: ``errcode`` 0 is the only success."""
    try:
        reply = json.loads(body)
    except ValueError:
        reply = None
    if not isinstance(reply, dict) or not isinstance(reply.get("errcode"), int):
        return BotVerdict(False, error="通知渠道的回复无法识别（可能被代理或网关改写）")
    code, msg = reply["errcode"], str(reply.get("errmsg", ""))[:200]
    if code == 0:
        return BotVerdict(True)
    if code in THROTTLE_CODES.get(scheme, frozenset()):
        return BotVerdict(False, False, True, f"通知渠道限流（错误码 {code}：{msg}），稍后重试")
    if code in BUSY_CODES:
        return BotVerdict(False, error=f"通知渠道繁忙（错误码 {code}：{msg}），稍后重试")
    hint = _HINTS.get(code, "")
    return BotVerdict(
        False,
        True,
        False,
        f"通知渠道拒绝了该消息（错误码 {code}：{msg}）" + (f"；{hint}" if hint else ""),
    )
