"""Serving the console: standalone (``xuncha web``) or inside ``xuncha run``.

Inside the daemon the signals belong to the daemon: uvicorn must not install its own
handlers, and the console stops when the daemon's task group is cancelled. The socket is
bound here, not by uvicorn, so a port in use is a logged problem rather than uvicorn's
``sys.exit`` inside the patrol.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator

import anyio
import structlog
import uvicorn

from monitor.app import App
from monitor.config import Settings
from monitor.web.app import create_app

log = structlog.get_logger()


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host (install_signal_handlers off)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_config(xapp: App, settings: Settings) -> uvicorn.Config:
    web = settings.web
    return uvicorn.Config(
        create_app(xapp),
        host=web.address,
        port=web.port,
        log_config=None,  # structlog is set up by the command; uvicorn must not replace it
        access_log=False,
        server_header=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )


def bind(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.create_server((address, port), family=family)
    sock.set_inheritable(True)
    return sock


async def serve(app: App, settings: Settings) -> None:
    """Run the console until cancelled (the daemon's hook), then shut it down cleanly."""
    web = settings.web
    try:
        sock = bind(web.address, web.port)
    except OSError as e:
        log.error("web_console_unavailable", address=web.address, port=web.port, error=str(e))
        return
    server = QuietServer(make_config(app, settings))
    log.info("web_console_started", address=web.address, port=sock.getsockname()[1])
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        await asyncio.shield(task)
    finally:
        server.should_exit = True
        with anyio.CancelScope(shield=True), anyio.move_on_after(10):
            await asyncio.wait({task})
        sock.close()
        log.info("web_console_stopped")


def run_standalone(
    app: App, settings: Settings, on_listening: Callable[[int], None] | None = None
) -> None:
    """``xuncha web``: uvicorn in the foreground until SIGTERM or Ctrl-C (exit status 0).
    ``on_listening`` is told the port once the socket listens (the CLI prints the URL)."""
    web = settings.web
    sock = bind(web.address, web.port)
    if on_listening is not None:
        on_listening(sock.getsockname()[1])
    server = QuietServer(make_config(app, settings))

    def stop(signum: int, frame: object) -> None:
        # first signal: finish open requests; second: leave now. Exit status 0 either way
        # (uvicorn's own handler re-raises the signal after shutting down).
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    log.info("web_console_started", address=web.address, port=sock.getsockname()[1])
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    log.info("web_console_stopped")
