"""An SMS gateway: the provinces' 政务短信平台 and the like, POSTed to over HTTP.

The channel is a URL like any other (``[channels] sms = "sms+https://…"``), the gateway's
request described in its query, since every platform names its fields its own way:

- ``format=json`` (default) or ``form``; ``to=`` the phones' field (default ``mobiles``; a
  list in JSON, comma-joined in a form or with ``join=,``); ``text=`` the text's field
  (default ``content``); ``phones=138…,139…`` recipients always added;
- ``:field=value`` a fixed field of the request (account, 签名, template id…), ``+Header=value``
  a header (apprise's json:// spelling); ``user:password@`` HTTP basic auth;
- ``ok=code:0`` (default) success read from the JSON answer (a dotted key, e.g.
  ``result.code:0``), ``ok=http``: any HTTP 2xx is success.

Text only. One SMS segment is 70 Chinese characters; a longer text goes as a concatenated
SMS billed at 67 a segment (``segments``), so ``short_text`` keeps a finding's to one.
apprise's SMS services are the fallback messenger's (their URL may put ``{phones}`` where the
recipients go).
"""

from __future__ import annotations

import json
import math
import urllib.parse
from collections.abc import Sequence
from typing import Any

from alerts.messengers.base import UNPARSEABLE, Delivery, Messenger, Verdict, mobiles, register
from alerts.notice import FindingNotice
from alerts.text import Budget
from alerts.verdicts import http_verdict

SEGMENT_CHARS = 70  # one SMS (UCS-2)
CONCAT_CHARS = 67  # each segment of a longer one
_SEVERITY = {"veto": "单项否决", "high": "严重问题", "warning": "预警", "info": "提示"}


def segments(text: str) -> int:
    """SMS segments ``text`` costs: 1 up to 70 characters, then one per 67."""
    return 1 if len(text) <= SEGMENT_CHARS else math.ceil(len(text) / CONCAT_CHARS)


def short_text(notice: FindingNotice, step: str = "") -> str:
    """One finding in an SMS: "【巡查】{单位} {账号} 单项否决：长期未更新，请登录查看 {链接}".
    ``step`` ("第2级") says the finding has climbed the ladder."""
    what = notice.kind_label or notice.title
    head = f"【巡查】{notice.unit_name or notice.unit_code} {notice.account_name}"
    level = _SEVERITY.get(notice.severity, notice.severity)
    tail = f"，请登录查看 {notice.console_url}" if notice.console_url else "，请登录巡查系统查看"
    text = f"{head} {level}：{what}{tail}"
    return f"{text}（{step}）" if step else text


class Gateway:
    """One SMS gateway's request, read from its channel URL."""

    def __init__(self, url: str) -> None:
        scheme, _, rest = url.partition("://")
        parsed = urllib.parse.urlsplit(f"{scheme.removeprefix('sms+')}://{rest}")
        self.auth = (
            (urllib.parse.unquote(parsed.username), urllib.parse.unquote(parsed.password or ""))
            if parsed.username
            else None
        )
        netloc = parsed.hostname or ""
        if parsed.port:
            netloc += f":{parsed.port}"
        self.url = urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path or "/", "", ""))
        self.host = parsed.hostname or ""
        self.format, self.to, self.text, self.join, self.ok = (
            "json",
            "mobiles",
            "content",
            "",
            "code:0",
        )
        self.phones: list[str] = []
        self.fields: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        for item in filter(None, parsed.query.split("&")):  # "+" is a header here, not a space
            key, _, value = (urllib.parse.unquote(p) for p in item.partition("="))
            if key.startswith(":"):
                self.fields[key[1:]] = value
            elif key.startswith("+"):
                self.headers[key[1:]] = value
            elif key == "phones":
                self.phones += value.split(",")
            elif key in ("format", "to", "text", "join", "ok"):
                setattr(self, key, value)

    def request(self, phones: Sequence[str], text: str) -> dict[str, Any]:
        """httpx.post's keyword arguments for one SMS to ``phones``."""
        joined = (self.join or ",").join(phones)
        if self.format == "form":
            return {"data": {**self.fields, self.to: joined, self.text: text}}
        body = {**self.fields, self.to: joined if self.join else list(phones), self.text: text}
        return {
            "content": json.dumps(body, ensure_ascii=False).encode(),
            "headers": {"Content-Type": "application/json; charset=utf-8"},
        }

    def accepted(self, status: int, body: bytes) -> tuple[bool, str]:
        """(sent, why not) from the gateway's answer."""
        if self.ok == "http":
            return True, ""
        key, _, want = self.ok.partition(":")
        try:
            value: Any = json.loads(body)
            for part in key.split("."):
                value = value[part]
        except (ValueError, KeyError, TypeError, IndexError):
            return False, "短信网关的回复无法识别（未找到成功标志）"
        if str(value) == want:
            return True, ""
        try:
            reply = json.loads(body)
            msg = str(reply.get("msg", reply.get("message", reply.get("errmsg", ""))))[:200]
        except (ValueError, AttributeError):
            msg = ""
        return False, f"短信网关拒绝了该短信（{key}={value}" + (f"：{msg}）" if msg else "）")


class SmsGateway(Messenger):
    schemes = ("sms+http", "sms+https")
    name = "短信网关"
    shows_host = True
    body_format = "text"
    budget = Budget(SEGMENT_CHARS * 3 * 3, escaped=False)  # three segments, in UTF-8 bytes

    def well_formed(self, url: str) -> bool | None:
        return bool(Gateway(url).host)

    async def send(self, d: Delivery) -> Verdict:
        """One request to every phone (the URL's and ``mentions``); never raises."""
        import httpx

        gw = Gateway(d.url)
        if not gw.host:
            return Verdict(False, True, False, UNPARSEABLE)
        phones = mobiles([*gw.phones, *d.mentions])
        if not phones:
            return Verdict(False, True, False, "短信没有收件手机号（值班手机或负责人手机未登记）")
        headers = {**gw.headers}
        kwargs = gw.request(phones, d.message.text.strip())
        headers |= kwargs.pop("headers", {})
        try:
            async with httpx.AsyncClient(timeout=d.timeout, follow_redirects=False) as client:
                r = await client.post(gw.url, headers=headers, auth=gw.auth, **kwargs)
        except httpx.TimeoutException:
            return Verdict(False, error=f"发送超时（超过 {d.timeout:g} 秒）")
        except httpx.HTTPError:
            return Verdict(False, error="无法连接短信网关（连接被拒绝、超时或网络不通）")
        if not 200 <= r.status_code < 300:
            permanent, reason = http_verdict(r.status_code)
            return Verdict(False, permanent, r.status_code == 429, reason)
        sent, why = gw.accepted(r.status_code, r.content)
        return Verdict(True) if sent else Verdict(False, True, False, why)


register(SmsGateway())
