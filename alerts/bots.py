"""xuncha's own sender for the group robots: DingTalk, WeCom, Feishu and Lark.

These robots answer errors inside HTTP 200 — DingTalk and WeCom ``{"errcode": 310000, …}``
for a bad signature, a missing keyword or an IP not on the list, ``130101`` when more than
20 messages a minute arrived; Feishu and Lark ``{"code": 19021, …}``. apprise judges
DingTalk and WeCom by the HTTP status alone, and it cannot do what a duty officer's phone
needs: DingTalk's ``at.atMobiles``, WeCom markdown and its mentions, a signed Feishu card, or
a proxy (``origins``, also how the tests reach their stand-ins on 127.0.0.1). So this module
speaks their documented webhook APIs itself (one JSON object per POST, HMAC-SHA256 signing)
and reads the answer. It takes apprise's URL forms, so the registry and config need not
change:

- ``dingtalk://{token}`` or ``dingtalk://{secret}@{token}``, with apprise's optional
  ``/{mobile}/{mobile}`` targets: mentioned on every message, besides the unit's 值班手机;
- ``wecombot://{key}``;
- ``feishu://{token}`` / ``lark://{token}``, or ``feishu://{secret}@{token}`` for a robot with
  签名校验 (apprise reads the same URL and ignores the secret).

Mentions (``mentions``: the 值班手机 of the unit the message goes to, passed by the caller):

- DingTalk: ``at.atMobiles``, and the ``@138…`` text in the body, without which DingTalk
  notifies but shows no mention.
- WeCom: a markdown message cannot mention by mobile (only ``<@userid>``, and the registry
  holds mobiles), ``mentioned_mobile_list`` works in ``text`` messages only. A WeCom group
  would see what its members do by hand: the message, then a short text that @-mentions the
  duty officers and names it. So a message with mentions costs two requests; the caller
  counts both against the robot's 20 a minute (``requests``).
- Feishu/Lark: a custom robot mentions by ``open_id`` only, which the registry does not hold,
  so no mention; the card's header colour carries the severity instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from alerts.notice import Message
from alerts.verdicts import http_verdict  # one wording of HTTP refusals, shared with send

DEFAULT_ORIGINS = {
    "dingtalk": "https://oapi.dingtalk.com",
    "wecombot": "https://qyapi.weixin.qq.com",
    "feishu": "https://open.feishu.cn",
    "lark": "https://open.larksuite.com",
}
BOT_SCHEMES = frozenset(DEFAULT_ORIGINS)
UNPARSEABLE = "通知地址无法识别"
MOBILE = re.compile(r"1\d{10}")

# WeCom counts a markdown message's ``content`` in UTF-8 bytes: at most 4,096
WECOM_MARKDOWN_BYTES = 4096

# "send too fast, exceed 20 times per minute" (130101) and "发送速度太快而限流" (410100) on
# DingTalk; "api freq out of limit" (45009) on WeCom; 11232 on Feishu/Lark. The robot is
# blocked for a while: the outbox leaves the channel alone for [alerts].throttle_minutes.
THROTTLE_CODES = {
    "dingtalk": frozenset({130101, 410100}),
    "wecombot": frozenset({45009}),
    "feishu": frozenset({11232}),
    "lark": frozenset({11232}),
}
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
_CARD_COLOURS = {"info": "blue", "success": "green", "warning": "orange", "failure": "red"}


@dataclass
class BotVerdict:
    ok: bool
    permanent: bool = False
    throttled: bool = False
    error: str = ""
    requests: int = 1  # requests made to the robot (a WeCom mention is a second one)
    note: str = ""  # delivered, but the WeCom mention after it was not (why)


@dataclass(frozen=True)
class Endpoint:
    url: str
    token: str
    secret: str | None
    query: dict[str, str]
    mobiles: tuple[str, ...]  # apprise's DingTalk targets, from the URL's path


def endpoint(scheme: str, rest: str, origin: str) -> Endpoint:
    """Where to post, from the part of an apprise URL after ``scheme://``."""
    head, _, path = rest.split("?", 1)[0].partition("/")
    secret, at, token = head.rpartition("@")
    token = urllib.parse.unquote(token)
    secret_or_none = (urllib.parse.unquote(secret) or None) if at else None
    base = origin.rstrip("/")
    if scheme == "dingtalk":
        mobiles = tuple(m for m in path.split("/") if MOBILE.fullmatch(m))
        query = {"access_token": token}
        return Endpoint(base + "/robot/send", token, secret_or_none, query, mobiles)
    if scheme == "wecombot":
        return Endpoint(base + "/cgi-bin/webhook/send", token, None, {"key": token}, ())
    quoted = urllib.parse.quote(token, safe="")
    return Endpoint(f"{base}/open-apis/bot/v2/hook/{quoted}", token, secret_or_none, {}, ())


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's and Lark's: base64(HMAC-SHA256 keyed with "timestamp\\nsecret", of nothing)."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def mobiles(values: Sequence[str]) -> list[str]:
    """11-digit mobiles only, each once, in order: what a robot can mention."""
    out: list[str] = []
    for v in values:
        v = str(v).strip()
        if MOBILE.fullmatch(v) and v not in out:
            out.append(v)
    return out[:20]


def mention_line(numbers: Sequence[str]) -> str:
    return "值班提醒：" + " ".join(f"@{m}" for m in numbers)


def heading(title: str) -> str:
    return f"#### {title}"


def payload(
    scheme: str, message: Message, body: str, mentions: Sequence[str] = ()
) -> dict[str, Any]:
    """The JSON the robot receives for ``message`` (its body already chosen and fitted)."""
    if scheme == "dingtalk":
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
    if scheme == "wecombot":
        content = f"{heading(message.title)}\n\n{body}"
        return {"msgtype": "markdown", "markdown": {"content": content}}
    return {  # feishu, lark: the card apprise sends too, coloured by the message's level
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


def wecom_mention(message: Message, mentions: Sequence[str]) -> dict[str, Any]:
    """The short text that follows a WeCom markdown message to ring the duty officers."""
    return {
        "msgtype": "text",
        "text": {
            "content": f"值班提醒：请查看上条巡查消息「{message.title}」",
            "mentioned_mobile_list": list(mentions),
        },
    }


def fit(scheme: str, title: str, body: str) -> str:
    """``body`` cut to what the robot takes, where our budget was not already that (a WeCom
    markdown message: 4,096 bytes with its heading); "…（内容过长，已截断）" marks a cut."""
    if scheme != "wecombot":
        return body
    room = WECOM_MARKDOWN_BYTES - len(f"{heading(title)}\n\n".encode())
    if len(body.encode()) <= room:
        return body
    tail = "\n…（内容过长，已截断）"
    return body.encode()[: max(0, room - len(tail.encode()))].decode(errors="ignore") + tail


async def send(
    scheme: str,
    rest: str,
    message: Message,
    body: str,
    *,
    origin: str,
    timeout: float,
    mentions: Sequence[str] = (),
) -> BotVerdict:
    """POST one message (and a WeCom mention after it); never raises. ``rest`` is the apprise
    URL after ``scheme://``."""
    end = endpoint(scheme, rest, origin)
    if not end.token:
        return BotVerdict(False, True, False, UNPARSEABLE)  # no token: not a robot address
    told = mobiles([*end.mobiles, *mentions]) if scheme in ("dingtalk", "wecombot") else []
    body = fit(scheme, message.title, body)
    data = payload(scheme, message, body, told if scheme == "dingtalk" else ())
    query = dict(end.query)
    if end.secret and scheme == "dingtalk":
        ts = int(time.time() * 1000)
        query |= {"timestamp": str(ts), "sign": sign(end.secret, ts)}
    elif end.secret:  # Feishu and Lark sign in the body, in seconds
        ts = int(time.time())
        data = {"timestamp": str(ts), "sign": feishu_sign(end.secret, ts), **data}
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            verdict = await _post(client, scheme, end.url, query, data)
            if verdict.ok and scheme == "wecombot" and told:
                return await _mention(client, end, query, message, told)
    except httpx.TimeoutException:
        return BotVerdict(False, error=f"发送超时（超过 {timeout:g} 秒）")
    except httpx.HTTPError:
        return BotVerdict(False, error="无法连接通知渠道（连接被拒绝、超时或网络不通）")
    return verdict


async def _mention(
    client: httpx.AsyncClient,
    end: Endpoint,
    query: dict[str, str],
    message: Message,
    told: list[str],
) -> BotVerdict:
    """The WeCom mention after a delivered message. The message arrived, so whatever happens
    to the mention it counts as delivered: a lost mention is a note the caller logs, never a
    reason to send the message again."""
    try:
        ping = await _post(client, "wecombot", end.url, query, wecom_mention(message, told))
        note = "" if ping.ok else ping.error
    except httpx.HTTPError as e:
        note = f"无法发送 @值班手机 提醒（{type(e).__name__}）"
    return BotVerdict(True, requests=2, note=note)


async def _post(
    client: httpx.AsyncClient, scheme: str, url: str, query: dict[str, str], data: dict[str, Any]
) -> BotVerdict:
    # UTF-8 as it is, not \\u escapes: Chinese costs 3 bytes instead of 6 against the limit
    content = json.dumps(data, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    r = await client.post(url, params=query, content=content, headers=headers)
    if r.status_code != 200:
        permanent, reason = http_verdict(r.status_code)
        return BotVerdict(False, permanent, r.status_code == 429, reason)
    return judge(scheme, r.content)


def judge(scheme: str, body: bytes) -> BotVerdict:
    """Read a robot's 200 answer: code 0 is the only success (``errcode`` for DingTalk and
    WeCom; ``code``, or the older ``StatusCode``, for Feishu and Lark)."""
    try:
        reply = json.loads(body)
    except ValueError:
        reply = None
    keys = ("code", "StatusCode") if scheme in ("feishu", "lark") else ("errcode",)
    code = next((reply[k] for k in keys if isinstance(reply, dict) and k in reply), None)
    if not isinstance(code, int) or isinstance(code, bool):
        return BotVerdict(False, error="通知渠道的回复无法识别（可能被代理或网关改写）")
    assert isinstance(reply, dict)
    msg = str(reply.get("errmsg", reply.get("msg", reply.get("StatusMessage", ""))))[:200]
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
