"""sd_notify by hand: one datagram per state change to ``$NOTIFY_SOCKET``.

The protocol is a few ``KEY=VALUE`` lines in a unix datagram, so no dependency is
worth it. Without ``NOTIFY_SOCKET`` (foreground run) every call is a no-op.
"""

from __future__ import annotations

import os
import socket

import anyio
import structlog

log = structlog.get_logger("xuncha.notify")


class Notifier:
    """Talks to systemd (or a test's socket) if the environment names one."""

    def __init__(self, address: str | None = None) -> None:
        addr = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        # "@name" is an abstract socket: a leading NUL byte in the kernel's terms
        self.address = "\0" + addr[1:] if addr.startswith("@") else addr
        self._sock: socket.socket | None = None
        if self.address:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, **fields: str | int) -> bool:
        """Send ``KEY=value`` lines; a failure is logged, never raised (systemd is optional)."""
        if self._sock is None:
            return False
        payload = "\n".join(f"{k.upper()}={v}" for k, v in fields.items()).encode()
        try:
            self._sock.sendto(payload, self.address)
        except OSError as e:
            log.warning("sd_notify_failed", error=str(e))
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send(ready=1, status=status, mainpid=os.getpid())

    def status(self, text: str) -> bool:
        return self.send(status=text.replace("\n", " "))

    def watchdog(self) -> bool:
        return self.send(watchdog=1)

    def stopping(self, status: str = "stopping") -> bool:
        return self.send(stopping=1, status=status)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval() -> float | None:
    """Half of ``WATCHDOG_USEC`` in seconds, if the watchdog is meant for this process."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(int(usec) / 2_000_000, 0.05)
    except ValueError:
        return None


async def watchdog_loop(notifier: Notifier, interval: float) -> None:
    """Ping from the event loop the scheduler runs in: a stuck loop stops the pings."""
    while True:
        notifier.watchdog()
        await anyio.sleep(interval)
