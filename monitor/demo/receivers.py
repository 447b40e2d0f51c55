"""Local receivers that stand in for DingTalk, WeCom, Feishu and a mail server.

``xuncha demo`` and the tests send real messages through apprise to these, on 127.0.0.1 only,
so what arrives is what a real channel would have received. Here, not in ``alerts``: they
receive alerts, they do not send any. Standard library only: the sinks ship in the package
and must work on a bare install.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import json
import socketserver
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

_MAX_BODY = 10 * 1024 * 1024
_OK_REPLY = {"errcode": 0, "errmsg": "ok"}  # what DingTalk and WeCom answer on success


@dataclass
class SinkRequest:
    """One request the webhook sink received, and what it answered."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes
    json: Any  # parsed body, or None when it is not JSON
    status: int  # the status the sink answered
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def title(self) -> str:
        """apprise json:// sends {"version", "title", "message", "type", "attachments"}."""
        return str(self.json.get("title", "")) if isinstance(self.json, dict) else ""

    @property
    def message(self) -> str:
        return str(self.json.get("message", "")) if isinstance(self.json, dict) else ""


class _Recorder:
    """Shared, ordered, waitable list of what arrived."""

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._cond = threading.Condition()

    def add(self, item: Any) -> None:
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()

    def snapshot(self) -> list[Any]:
        with self._cond:
            return list(self._items)

    def clear(self) -> None:
        with self._cond:
            self._items.clear()

    def wait_for(self, n: int, timeout: float) -> list[Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._items) >= n, timeout):
                raise TimeoutError(f"expected {n} message(s), got {len(self._items)}")
            return list(self._items)


class _Served:
    """A local server run in a daemon thread: start/stop, context manager, port."""

    _port: int
    _server: socketserver.BaseServer | None
    _thread: threading.Thread | None

    def _make_server(self) -> socketserver.BaseServer:
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = self._make_server()
        server.daemon_threads = True  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name=f"xuncha-{type(self).__name__}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("sink is not started")
        return int(self._server.server_address[1])  # type: ignore[attr-defined]


class WebhookSink(_Served):
    """An HTTP receiver on 127.0.0.1 that records every POST/PUT in order.

    ``fail_first`` requests are answered with ``fail_status`` (to exercise retries), the rest
    with 200 and ``reply`` (a JSON object; DingTalk's success answer by default, so a reply
    can also carry an in-body error code). ``delay`` holds each answer back, for timeouts.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        fail_first: int = 0,
        fail_status: int = 500,
        reply: dict[str, Any] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.reply = dict(_OK_REPLY if reply is None else reply)
        self.delay = delay
        self.down = False  # answer every request with ``fail_status`` while True (an outage)
        self._port = port
        self._seen = 0
        self._lock = threading.Lock()
        self._recorder = _Recorder()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _make_server(self) -> socketserver.BaseServer:
        return ThreadingHTTPServer(("127.0.0.1", self._port), _handler_for(self))

    # addresses

    @property
    def url(self) -> str:
        """The base address, ``http://127.0.0.1:PORT`` (no trailing slash, so paths append)."""
        return f"http://127.0.0.1:{self.port}"

    def apprise_url(self, path: str = "/hook", scheme: str = "json") -> str:
        """An apprise URL that delivers here, e.g. ``json://127.0.0.1:PORT/hook``."""
        return f"{scheme}://127.0.0.1:{self.port}/{path.lstrip('/')}"

    # what arrived

    @property
    def messages(self) -> list[SinkRequest]:
        """Every request so far, in arrival order (failed answers included; see ``status``)."""
        return self._recorder.snapshot()

    @property
    def delivered(self) -> list[SinkRequest]:
        """Requests the sink accepted (2xx)."""
        return [m for m in self.messages if 200 <= m.status < 300]

    def wait_for(self, n: int, timeout: float = 5.0) -> list[SinkRequest]:
        """Block until ``n`` requests arrived; raise TimeoutError otherwise."""
        return self._recorder.wait_for(n, timeout)

    def clear(self) -> None:
        self._recorder.clear()

    def _answer(self) -> int:
        with self._lock:
            self._seen += 1
            return self.fail_status if self.down or self._seen <= self.fail_first else 200


def _handler_for(sink: WebhookSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "xuncha-sink"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_BODY:
                self._reply(413, {"errcode": 413, "errmsg": "too large"})
                return
            body = self.rfile.read(length) if length > 0 else b""
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            status = sink._answer()
            sink._recorder.add(
                SinkRequest(
                    method=self.command,
                    path=self.path,
                    headers={k: v for k, v in self.headers.items()},
                    body=body,
                    json=parsed,
                    status=status,
                )
            )
            if sink.delay:
                time.sleep(sink.delay)
            reply = sink.reply if status < 300 else {"errcode": status, "errmsg": "sink failure"}
            self._reply(status, reply)

        do_PUT = do_POST
        do_PATCH = do_POST

        def do_GET(self) -> None:
            self._reply(200, {"sink": "xuncha", "received": len(sink.messages)})

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting (a timeout test): nothing to tell it

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the sink's record is ``messages``, not stderr."""

    return Handler


# -- mail -------------------------------------------------------------------------------------


@dataclass
class SinkMail:
    """One mail the SMTP sink accepted."""

    mail_from: str
    rcpt_to: list[str]
    data: bytes
    user: str | None  # who authenticated, if anyone
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def parsed(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg

    @property
    def subject(self) -> str:
        return str(self.parsed["subject"] or "")

    @property
    def text(self) -> str:
        """The plain-text part (or the HTML one if that is all there is)."""
        part = self.parsed.get_body(preferencelist=("plain", "html"))
        return str(part.get_content()) if part is not None else ""  # type: ignore[attr-defined]


class SmtpSink(_Served):
    """A minimal SMTP receiver on 127.0.0.1: EHLO, AUTH PLAIN/LOGIN (any password unless
    ``reject_auth``), MAIL, RCPT, DATA, RSET, NOOP, QUIT. No TLS, so use ``mailto://`` (not
    ``mailtos://``) against it. Enough for apprise's email plugin; not a mail server.
    """

    def __init__(self, *, port: int = 0, reject_auth: bool = False) -> None:
        self.reject_auth = reject_auth
        self._port = port
        self._recorder = _Recorder()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None

    def _make_server(self) -> socketserver.BaseServer:
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        return socketserver.ThreadingTCPServer(("127.0.0.1", self._port), _smtp_handler(self))

    def apprise_url(
        self,
        to: str = "duty@example.gov.cn",
        sender: str = "xuncha@example.gov.cn",
        user: str = "xuncha",
        password: str = "secret",
    ) -> str:
        """A ``mailto://`` URL that delivers here, plain SMTP with login."""
        return (
            f"mailto://{user}:{password}@127.0.0.1:{self.port}"
            f"?smtp=127.0.0.1&from={sender}&to={to}&mode=insecure"
        )

    @property
    def url(self) -> str:
        return self.apprise_url()

    @property
    def messages(self) -> list[SinkMail]:
        return self._recorder.snapshot()

    def wait_for(self, n: int, timeout: float = 5.0) -> list[SinkMail]:
        return self._recorder.wait_for(n, timeout)

    def clear(self) -> None:
        self._recorder.clear()


# replies that depend on nothing but the command
_SMTP_REPLIES: dict[str, tuple[str, ...]] = {
    "EHLO": ("250-xuncha-sink", "250-AUTH PLAIN LOGIN", "250-8BITMIME", "250 OK"),
    "HELO": ("250 xuncha-sink",),
    "RSET": ("250 OK",),
    "NOOP": ("250 OK",),
    "QUIT": ("221 bye",),
    "STARTTLS": ("454 TLS not available",),
}


def _smtp_handler(sink: SmtpSink) -> type[socketserver.StreamRequestHandler]:
    return type("Handler", (_SmtpHandler,), {"sink": sink})


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for apprise's mailto:// to hand a mail over (the sink's class)."""

    timeout = 30
    sink: SmtpSink

    def handle(self) -> None:
        self.user: str | None = None
        self.mail_from = ""
        self.rcpt: list[str] = []
        self.say("220 xuncha-sink ESMTP")
        while line := self.rfile.readline(65536):
            verb, _, arg = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
            if not self.command(verb.upper(), arg):
                return

    def command(self, verb: str, arg: str) -> bool:
        """Answer one command; False once the client has said QUIT."""
        if verb in _SMTP_REPLIES:
            self.say(*_SMTP_REPLIES[verb])
            return verb != "QUIT"
        if verb == "AUTH":
            self.auth(arg)
        elif verb == "MAIL":
            self.mail_from, self.rcpt = _address(arg), []
            self.say("250 OK")
        elif verb == "RCPT":
            self.rcpt.append(_address(arg))
            self.say("250 OK")
        elif verb == "DATA":
            self.data()
        else:
            self.say("502 not implemented")
        return True

    def say(self, *lines: str) -> None:
        self.wfile.write("".join(f"{x}\r\n" for x in lines).encode())
        self.wfile.flush()

    def ask(self, prompt: str) -> str:
        self.say(prompt)
        return self.rfile.readline(65536).decode("ascii", "replace").strip()

    def auth(self, arg: str) -> None:
        mech, _, initial = arg.partition(" ")
        try:
            if mech.upper() == "PLAIN":
                raw = base64.b64decode(initial or self.ask("334 "))
                user = raw.split(b"\0")[1].decode("utf-8", "replace")
            elif mech.upper() == "LOGIN":
                user = base64.b64decode(initial or self.ask("334 VXNlcm5hbWU6")).decode()
                self.ask("334 UGFzc3dvcmQ6")
            else:
                self.say("504 unsupported mechanism")
                return
        except (binascii.Error, IndexError, UnicodeDecodeError):
            self.say("501 malformed auth")
            return
        if self.sink.reject_auth:
            self.say("535 5.7.8 authentication credentials invalid")
        else:
            self.user = user
            self.say("235 2.7.0 authenticated")

    def data(self) -> None:
        self.say("354 end with <CRLF>.<CRLF>")
        chunks: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(65536)
            if not line or line in (b".\r\n", b".\n"):
                break
            if line.startswith(b".."):
                line = line[1:]
            size += len(line)
            if size <= _MAX_BODY:
                chunks.append(line)
        mail = SinkMail(self.mail_from, list(self.rcpt), b"".join(chunks), self.user)
        self.sink._recorder.add(mail)
        self.say("250 OK queued")


def _address(arg: str) -> str:
    """ "FROM:<a@b> SIZE=1" -> "a@b"."""
    _, _, rest = arg.partition(":")
    return rest.strip().split(" ")[0].strip("<>")
