"""structlog setup: JSON lines for journald, readable lines on a terminal."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

import structlog

from monitor.printable import printable

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
# the process's, as logging is (docs/architecture.md: a documented exception)
_secrets: set[str] = set()


def register_secrets(urls: Iterable[str]) -> None:
    """Channel URLs (with their tokens) that must never appear in a log line."""
    _secrets.update(u for u in urls if u and "://" in u)


def secrets() -> frozenset[str]:
    """What :func:`register_secrets` has been told so far (a writer process needs it too)."""
    return frozenset(_secrets)


def _scrub(text: str) -> str:
    if not _secrets and "://" not in text:
        return text  # nothing to mask (most values of most lines): no import, no regex
    # here, not at the top: the sender's imports (apprise) are for processes that log secrets
    from alerts.send import mask_url, redact

    for url in _secrets:
        masked = mask_url(url)
        if masked != url:  # nothing secret in it: leave it readable
            text = redact(text.replace(url, masked), url)

    def one(m: re.Match[str]) -> str:
        url = m.group(0)
        scheme = url.split("://", 1)[0].lower()
        rest = url.split("://", 1)[1]
        # plain web pages (account URLs) stay readable; anything that can carry a token
        # (apprise schemes, credentials, query strings) is masked
        if scheme in {"http", "https"} and "@" not in rest.split("/", 1)[0] and "?" not in rest:
            return url
        return mask_url(url)

    return _URL.sub(one, text) if "://" in text else text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _scrub(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(v) for v in value)
    return value


_PLAIN = (int, float, bool)  # exactly these types (no subclass): nothing in them to mask


def redact_secrets(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: secrets in apprise URLs never reach the journal."""
    return {k: v if v is None or type(v) in _PLAIN else _clean(v) for k, v in event_dict.items()}


def printable_values(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: control characters in text values written out, not obeyed."""
    return {k: printable(v) if isinstance(v, str) else v for k, v in event_dict.items()}


def _current_stderr(*_args: Any) -> structlog.PrintLogger:
    """A logger on whatever ``sys.stderr`` is now, not the one at configure time: a test
    runner or tool that swaps and closes its stream must not break later log lines."""
    return structlog.PrintLogger(file=sys.stderr)


def setup_logging(level: str = "info", fmt: str = "auto") -> None:
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    lvl = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_secrets,
            *([] if fmt == "json" else [printable_values]),  # a terminal reads these lines
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=_current_stderr,
        cache_logger_on_first_use=False,
    )
    # libraries (APScheduler, httpx, apprise) log through stdlib logging: keep them quiet but
    # visible, and scrubbed like our own lines (apprise and requests quote the URLs they hit)
    logging.basicConfig(level=max(lvl, logging.WARNING), stream=sys.stderr, force=True)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_scrub_record)


def _scrub_record(record: logging.LogRecord) -> bool:
    """stdlib logging filter: the record's message with channel secrets masked."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: let logging report it as it would
        return True
    if "://" in message or _secrets:
        record.msg, record.args = _scrub(message), None
    return True
