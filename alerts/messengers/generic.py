"""Everything apprise speaks: the fallback messenger (json://, gotify://, slack… and any
scheme nobody registered), and mail, which gets plain text.

apprise 2.x returns an ``AppriseResult`` with one ``NotifyResult`` per service and the log
lines captured while it ran; the HTTP status, or a provider's code inside HTTP 200, only
appears in those lines ("error=401.", "rejected our notification: code=…"), so that is where
they are read. apprise is synchronous (requests, smtplib): it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import re

from alerts.messengers.base import (
    UNPARSEABLE,
    Delivery,
    Messenger,
    Verdict,
    for_scheme,
    register,
    scheme_of,
)
from alerts.notice import Message
from alerts.verdicts import code_verdict, http_verdict

# an apprise SMS service's URL may name its recipients "{phones}": the step's mobiles, "/"-joined
PHONES = "{phones}"

_STATUS_IN_LOG = (re.compile(r"\berror=(\d{3})\b"), re.compile(r"\bfailed: (\d{3}) - "))
_CODE_IN_LOG = re.compile(r"rejected our notification: code=(-?\d+)(?: msg=(.*))?")
_CONNECTION_IN_LOG = re.compile(r"(?i)connection error|exception|connect")


def judge_logs(scheme: str, lines: list[str]) -> tuple[bool, str]:
    """(permanent, reason) from the warnings apprise logged for one failed service."""
    for line in lines:
        for pattern in _STATUS_IN_LOG:
            m = pattern.search(line)
            if m:
                return http_verdict(int(m.group(1)))
        m = _CODE_IN_LOG.search(line)
        if m:
            code, msg = int(m.group(1)), (m.group(2) or "").strip()
            return code_verdict(code, msg, transient=for_scheme(scheme).throttle_codes)
    if any(_CONNECTION_IN_LOG.search(line) for line in lines):
        return False, "无法连接通知渠道（连接被拒绝、超时或网络不通）"
    if lines:
        return False, f"发送失败：{lines[-1][:300]}"
    return False, "发送失败（通知组件未说明原因）"


class Apprise(Messenger):
    name = "apprise"

    async def send(self, d: Delivery) -> Verdict:
        url = d.url.replace(PHONES, "/".join(d.mentions)) if PHONES in d.url else d.url
        permanent, error = await asyncio.to_thread(self._send_sync, url, d.message, d.timeout)
        return Verdict(not error, permanent, False, error)

    def _send_sync(self, url: str, message: Message, timeout: float) -> tuple[bool, str]:
        """(permanent, error); error "" means delivered."""
        import apprise

        # In-memory store: apprise must not write per-target state to the daemon's home.
        asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY)
        try:
            plugin = apprise.Apprise.instantiate(url, asset=asset)
        except Exception:
            plugin = None
        if plugin is None:
            return True, UNPARSEABLE
        for attr in ("socket_connect_timeout", "socket_read_timeout"):
            current = getattr(plugin, attr, None)
            if isinstance(current, (int, float)):
                setattr(plugin, attr, min(float(current), timeout))
        notifier = apprise.Apprise(asset=asset)
        notifier.add(plugin)
        with notifier.notify(
            body=self.body(message),
            title=message.title,
            body_format=apprise.NotifyFormat(self.body_format),
            notify_type=apprise.NotifyType(message.level),
            timeout=timeout,
        ) as result:
            if result:
                return False, ""
            services = list(result)
            if any(s.status == apprise.AppriseResultStatus.TIMEOUT for s in services):
                return False, f"发送超时（超过 {timeout:g} 秒）"
            lines = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
        return judge_logs(scheme_of(url), lines)


class Mail(Apprise):
    """Plain text: apprise's mailto can send HTML, but then it makes the text part itself by
    converting the HTML back, not from our text; plain text reads the same on every mail
    client, phones included, and mail clients link bare URLs themselves."""

    schemes = ("mailto", "mailtos")
    name = "邮件"
    body_format = "text"


register(Apprise(), fallback=True)
register(Mail())
