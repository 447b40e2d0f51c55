"""Group robots on 127.0.0.1 — DingTalk, WeCom and Feishu — strict the way the real ones are.

Each checks what its provider checks and answers the way it answers: HTTP 200 with an error
code in the body.

- DingTalk: the access token (``300001``), the HMAC-SHA256 signature of "timestamp\\nsecret"
  and a timestamp within an hour (``310000``), the custom keyword (``310000 keywords not in
  content``), and the rate: more than 20 messages in a minute gets ``130101 send too fast``
  and a 10-minute block. ``at.atMobiles`` is recorded with which of them the text names
  (DingTalk shows a mention only for a mobile written as ``@138…`` in the text).
- WeCom: the key (``93000``), a markdown ``content`` of at most 4,096 bytes and a text one of
  at most 2,048 (``40058``), 20 a minute (``45009``); ``mentioned_mobile_list`` counts in
  ``text`` messages only, as on WeCom.
- Feishu: the token in the path (``19001``), the signature in the body when the robot has a
  secret (``19021``), a body of at most 20 KB (``9499``), ``msg_type``; answers ``{"code": 0}``.

The minute is read from ``clock`` so tests can walk through an hour of dispatcher ticks in a
second. ``requests`` keeps every JSON body as it arrived, for the golden messages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

Clock = Callable[[], datetime]


@dataclass
class RobotMessage:
    at: datetime  # on the robot's clock
    title: str
    text: str
    errcode: int
    body: dict[str, Any] = field(default_factory=dict)  # the JSON as it arrived
    token: str = ""  # which robot of the server (its token or key)

    @property
    def at_mobiles(self) -> list[str]:
        """DingTalk: the mobiles ``at.atMobiles`` asks to mention."""
        at = self.body.get("at") or {}
        return list(at.get("atMobiles") or [])

    @property
    def shown_mentions(self) -> list[str]:
        """DingTalk: those of ``at_mobiles`` the group sees mentioned (``@mobile`` in the text)."""
        return [m for m in self.at_mobiles if f"@{m}" in self.text]

    @property
    def mentioned_mobiles(self) -> list[str]:
        """WeCom: the mobiles a text message mentions (a markdown one cannot)."""
        if self.body.get("msgtype") != "text":
            return []
        return list((self.body.get("text") or {}).get("mentioned_mobile_list") or [])


class _Robot:
    """The HTTP plumbing every stand-in shares; subclasses judge and describe a request."""

    def __init__(self, clock: Clock, per_minute: int, block: timedelta) -> None:
        """One server; ``add`` puts more robots (other groups' tokens) on it, as on the real
        host, where every group's robot answers at the same address."""
        self.clock, self.per_minute, self.block = clock, per_minute, block
        self.secrets: dict[str, str | None] = {}
        self.messages: list[RobotMessage] = []
        self.blocked_until: dict[str, datetime] = {}  # per robot (token)
        self.down = False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def accepted(self) -> list[RobotMessage]:
        return [m for m in self.messages if m.errcode == 0]

    def add(self, token: str, secret: str | None = None) -> str:
        self.secrets[token] = secret
        return token

    def requests(self, token: str | None = None) -> list[dict[str, Any]]:
        """Every accepted JSON body (of one robot), in order."""
        return [m.body for m in self.accepted if token is None or m.token == token]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def max_in_any_minute(self) -> int:
        times = sorted(m.at for m in self.accepted)
        best, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - timedelta(minutes=1):
                j += 1
            best = max(best, i - j + 1)
        return best

    def too_fast(self, code: int, token: str) -> tuple[int, str] | None:
        """More than ``per_minute`` to one robot in a minute blocks it for ``block``."""
        now = self.clock()
        until = self.blocked_until.get(token)
        if until and now < until:
            return code, "send too fast, exceed 20 times per minute"
        minute = now - timedelta(minutes=1)
        recent = [m for m in self.accepted if m.at > minute and m.token == token]
        if len(recent) >= self.per_minute:
            self.blocked_until[token] = now + self.block
            return code, "send too fast, exceed 20 times per minute"
        return None

    # what a subclass says
    def token_of(self, path: str, query: dict[str, list[str]]) -> str:
        raise NotImplementedError

    def judge(
        self, token: str, query: dict[str, list[str]], raw: bytes, body: dict
    ) -> tuple[int, str]:
        raise NotImplementedError

    def describe(self, body: dict[str, Any]) -> tuple[str, str]:
        """(title, text) of a request, for tests that read what the group saw."""
        raise NotImplementedError

    def reply(self, code: int, msg: str) -> dict[str, Any]:
        return {"errcode": code, "errmsg": msg}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if robot.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                parts = urlsplit(self.path)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                body = body if isinstance(body, dict) else {}
                query = parse_qs(parts.query)
                with robot._lock:
                    token = robot.token_of(parts.path, query)
                    code, msg = robot.judge(token, query, raw, body)
                    title, text = robot.describe(body)
                    robot.messages.append(
                        RobotMessage(robot.clock(), title, text, code, body, token)
                    )
                out = json.dumps(robot.reply(code, msg)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _hmac_b64(key: bytes, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


class DingTalkRobot(_Robot):
    """One DingTalk robot (one token); ``accepted`` is what a group would have seen."""

    def __init__(
        self,
        token: str = "tok123",
        secret: str | None = "SECdemo",
        *,
        keyword: str | None = None,
        per_minute: int = 20,
        block: timedelta = timedelta(minutes=10),
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.token, self.secret, self.keyword = token, secret, keyword
        super().__init__(clock, per_minute, block)
        self.add(token, secret)

    def apprise_url(self, secret: str | None = None, token: str | None = None) -> str:
        token = token or self.token
        secret = self.secrets.get(token) if secret is None else secret
        return f"dingtalk://{secret}@{token}" if secret else f"dingtalk://{token}"

    def token_of(self, path: str, query: dict[str, list[str]]) -> str:
        return query.get("access_token", [""])[0]

    def describe(self, body: dict[str, Any]) -> tuple[str, str]:
        md = body.get("markdown") or {}
        return str(md.get("title", "")), str(md.get("text", ""))

    def judge(
        self, token: str, query: dict[str, list[str]], raw: bytes, body: dict
    ) -> tuple[int, str]:
        if token not in self.secrets:
            return 300001, "token is not exist"
        secret = self.secrets[token]
        if secret:
            ts, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            if not ts.isdigit() or abs(time.time() * 1000 - int(ts)) > 3_600_000:
                return 310000, "invalid timestamp"
            if sign != _hmac_b64(secret.encode(), f"{ts}\n{secret}".encode()):
                return 310000, "sign not match"
        if len(raw) > 20_000:
            return 460101, "message too long, exceed 20000 bytes"
        title, text = self.describe(body)
        if self.keyword and self.keyword not in f"{title}\n{text}":
            return 310000, "keywords not in content"
        return self.too_fast(130101, token) or (0, "ok")


class WeComRobot(_Robot):
    """One WeCom group robot (one key)."""

    def __init__(
        self,
        key: str = "key-123",
        *,
        per_minute: int = 20,
        block: timedelta = timedelta(minutes=1),
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.key = key
        super().__init__(clock, per_minute, block)
        self.add(key)

    def apprise_url(self, key: str | None = None) -> str:
        return f"wecombot://{key or self.key}"

    def token_of(self, path: str, query: dict[str, list[str]]) -> str:
        return query.get("key", [""])[0] if path == "/cgi-bin/webhook/send" else ""

    def describe(self, body: dict[str, Any]) -> tuple[str, str]:
        part = body.get(str(body.get("msgtype"))) or {}
        text = str(part.get("content", ""))
        return text.split("\n", 1)[0], text

    def judge(
        self, token: str, query: dict[str, list[str]], raw: bytes, body: dict
    ) -> tuple[int, str]:
        if token not in self.secrets:
            return 93000, "invalid webhook url"
        kind = body.get("msgtype")
        if kind not in ("text", "markdown"):
            return 40008, "invalid message type"
        content = str((body.get(kind) or {}).get("content", ""))
        limit = 4096 if kind == "markdown" else 2048
        if len(content.encode()) > limit:
            return 40058, f"{kind}.content exceed max length {limit}"
        return self.too_fast(45009, token) or (0, "ok")


class FeishuRobot(_Robot):
    """One Feishu custom robot (one token), with 签名校验 when it has a secret."""

    def __init__(
        self,
        token: str = "3a1b2c3d-4e5f-6789-abcd-ef0123456789",
        secret: str | None = None,
        *,
        per_minute: int = 100,
        block: timedelta = timedelta(minutes=1),
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.token, self.secret = token, secret
        super().__init__(clock, per_minute, block)
        self.add(token, secret)

    def apprise_url(self, token: str | None = None) -> str:
        token = token or self.token
        secret = self.secrets.get(token)
        return f"feishu://{secret}@{token}" if secret else f"feishu://{token}"

    def token_of(self, path: str, query: dict[str, list[str]]) -> str:
        prefix = "/open-apis/bot/v2/hook/"
        return path[len(prefix) :] if path.startswith(prefix) else ""

    def reply(self, code: int, msg: str) -> dict[str, Any]:
        return {"code": code, "msg": msg, "data": {}}

    def describe(self, body: dict[str, Any]) -> tuple[str, str]:
        card = body.get("card") or {}
        title = str(((card.get("header") or {}).get("title") or {}).get("content", ""))
        texts = [str((e.get("text") or {}).get("content", "")) for e in card.get("elements", [])]
        return title, "\n".join(texts)

    def judge(
        self, token: str, query: dict[str, list[str]], raw: bytes, body: dict
    ) -> tuple[int, str]:
        if token not in self.secrets:
            return 19001, "param invalid: incoming webhook access token invalid"
        secret = self.secrets[token]
        if secret:
            ts, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
            fresh = ts.isdigit() and abs(time.time() - int(ts)) <= 3600
            if not fresh or sign != _hmac_b64(f"{ts}\n{secret}".encode(), b""):
                return 19021, "sign match fail or timestamp is not within one hour"
        if len(raw) > 20 * 1024 or body.get("msg_type") not in ("text", "post", "interactive"):
            return 9499, "Bad Request"
        return self.too_fast(11232, token) or (0, "success")


@dataclass
class Sms:
    at: datetime  # on the gateway's clock
    phones: list[str]
    text: str
    fields: dict[str, Any]  # the request as it arrived (JSON, or the form's fields)
    headers: dict[str, str]
    accepted: bool


class SmsGateway:
    """A 政务短信平台-style gateway on 127.0.0.1: POST JSON (or a form) with the phones and the
    text, answers ``{"code": 0, "msg": "提交成功"}`` — or, like the real ones, HTTP 200 with
    ``{"code": 1003, "msg": "签名未报备"}`` when it refuses (``refuse``). It checks the account
    field and the ``X-Token`` header a gateway's URL template sends, and records every SMS."""

    def __init__(self, clock: Clock, *, account: str = "xuncha", token: str = "t0ken") -> None:
        self.clock, self.account, self.token = clock, account, token
        self.refuse: tuple[int, str] | None = None
        self.sms: list[Sms] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, *, form: bool = False) -> str:
        """The channel URL: the gateway's fields and header in the query (secrets included,
        as an operator writes it in [channels])."""
        port = self._server.server_address[1]
        fmt = "form" if form else "json"
        return (
            f"sms+http://127.0.0.1:{port}/api/sms/send?format={fmt}&to=mobiles&text=content"
            f"&ok=code:0&:account={self.account}&+X-Token={self.token}"
        )

    @property
    def delivered(self) -> list[Sms]:
        return [m for m in self.sms if m.accepted]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gw = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if "json" in self.headers.get("Content-Type", ""):
                    fields: dict[str, Any] = json.loads(raw)
                    phones = list(fields.get("mobiles") or [])
                else:
                    fields = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                    phones = str(fields.get("mobiles", "")).split(",")
                if fields.get("account") != gw.account or self.headers.get("X-Token") != gw.token:
                    code, msg = 1001, "账号或令牌错误"
                elif not phones or not fields.get("content"):
                    code, msg = 1002, "手机号或内容为空"
                else:
                    code, msg = gw.refuse or (0, "提交成功")
                with gw._lock:
                    gw.sms.append(
                        Sms(gw.clock(), phones, str(fields.get("content", "")), fields,
                            dict(self.headers), code == 0)
                    )  # fmt: skip
                out = json.dumps({"code": code, "msg": msg}, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
