"""Captured answers of the browser platforms, served as the real sites serve them.

The answers live in ``tests/fixtures/platforms/<platform>/`` (each directory's ``SOURCES.md``
names the public reader or issue that documents the shape). Their times are written against
:data:`ANCHOR`, the simulator's default "now"; a simulator set to another instant moves every
time field by the same amount, so an answer keeps its ages ("two hours ago") whatever now is.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from localserver import Reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
#: the instant the fixtures' times are written against (= ``simulator.NOW``)
ANCHOR = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
#: fields that hold unix seconds (or milliseconds) in the platforms' answers
TIME_KEYS = frozenset({"create_time", "timestamp", "publish_time", "behot_time"})


@cache
def _load(platform: str, name: str) -> str:
    return (FIXTURES / platform / name).read_text(encoding="utf-8")


def answer(platform: str, name: str, now: datetime = ANCHOR) -> Any:
    """The captured JSON ``<platform>/<name>.json``, its times moved to ``now``."""
    data = json.loads(_load(platform, f"{name}.json"))
    return shift(data, int((now - ANCHOR).total_seconds()))


def page(platform: str, name: str) -> str:
    """A captured page (``<platform>/<name>.html``), as text."""
    return _load(platform, f"{name}.html")


def shift(data: Any, seconds: int) -> Any:
    """``data`` with every :data:`TIME_KEYS` number moved by ``seconds`` (ms stay ms)."""
    if not seconds:
        return data
    if isinstance(data, list):
        return [shift(v, seconds) for v in data]
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k in TIME_KEYS and isinstance(v, int) and not isinstance(v, bool) and v > 0:
            out[k] = v + seconds * (1000 if v > 100_000_000_000 else 1)
        else:
            out[k] = shift(v, seconds)
    return out


def json_reply(data: Any, **headers: str) -> Reply:
    body = json.dumps(data, ensure_ascii=False)
    return Reply(body=body, headers={"Content-Type": JSON, **headers})


def html_reply(text: str, status: int = 200) -> Reply:
    return Reply(status, text, {"Content-Type": HTML})


def script_page(title: str, script: str) -> Reply:
    """A page whose script calls the platform's APIs the way the real page does."""
    body = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body><div id="root">{title}</div><script>\n{script}\n</script></body></html>'
    )
    return html_reply(body)
