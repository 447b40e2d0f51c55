"""A DingTalk-like group robot on 127.0.0.1, strict the way the real one is.

It checks what DingTalk checks and answers the way DingTalk answers — HTTP 200 with an
``errcode`` JSON body: the access token (``300001``), the HMAC-SHA256 signature of
"timestamp\\nsecret" and a timestamp within an hour (``310000``), the custom keyword
(``310000 keywords not in content``), and the rate: more than 20 messages in a minute gets
``130101 send too fast, exceed 20 times per minute`` and a 10-minute block. The minute is
read from ``clock`` so tests can walk through an hour of dispatcher ticks in a second.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class RobotMessage:
    at: datetime  # on the robot's clock
    title: str
    text: str
    errcode: int


class DingTalkRobot:
    """One robot (one token); ``accepted`` is what a group would have seen."""

    def __init__(
        self,
        token: str = "tok123",
        secret: str | None = "SECdemo",
        *,
        keyword: str | None = None,
        per_minute: int = 20,
        block: timedelta = timedelta(minutes=10),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.token, self.secret, self.keyword = token, secret, keyword
        self.per_minute, self.block, self.clock = per_minute, block, clock
        self.messages: list[RobotMessage] = []
        self.blocked_until: datetime | None = None
        self.down = False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # lifecycle
    def __enter__(self) -> DingTalkRobot:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def apprise_url(self, secret: str | None = None) -> str:
        secret = self.secret if secret is None else secret
        return f"dingtalk://{secret}@{self.token}" if secret else f"dingtalk://{self.token}"

    @property
    def accepted(self) -> list[RobotMessage]:
        return [m for m in self.messages if m.errcode == 0]

    def max_in_any_minute(self) -> int:
        times = sorted(m.at for m in self.accepted)
        best, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - timedelta(minutes=1):
                j += 1
            best = max(best, i - j + 1)
        return best

    # judging one request
    def judge(self, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, str]:
        if query.get("access_token", [""])[0] != self.token:
            return 300001, "token is not exist"
        if self.secret:
            ts, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            if not ts.isdigit() or abs(time.time() * 1000 - int(ts)) > 3_600_000:
                return 310000, "invalid timestamp"
            want = base64.b64encode(
                hmac.new(
                    self.secret.encode(), f"{ts}\n{self.secret}".encode(), hashlib.sha256
                ).digest()
            ).decode()
            if sign != want:
                return 310000, "sign not match"
        md = body.get("markdown") or {}
        text = f"{md.get('title', '')}\n{md.get('text', '')}"
        if self.keyword and self.keyword not in text:
            return 310000, "keywords not in content"
        now = self.clock()
        if self.blocked_until and now < self.blocked_until:
            return 130101, "send too fast, exceed 20 times per minute"
        recent = [m for m in self.accepted if m.at > now - timedelta(minutes=1)]
        if len(recent) >= self.per_minute:
            self.blocked_until = now + self.block
            return 130101, "send too fast, exceed 20 times per minute"
        return 0, "ok"

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
                with robot._lock:
                    code, msg = robot.judge(parse_qs(parts.query), body)
                    md = body.get("markdown") or {}
                    robot.messages.append(
                        RobotMessage(robot.clock(), md.get("title", ""), md.get("text", ""), code)
                    )
                out = json.dumps({"errcode": code, "errmsg": msg}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
