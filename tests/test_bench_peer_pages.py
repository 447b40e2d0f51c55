"""The peer bench's page server (``bench/peer_pages.py``) serves what the bench's table claims
to measure: pages spread over distinct loopback hosts, the same bytes, the same posts under
per-request noise, and ETag/304, each tool's requests counted apart. The peer itself is never
run here (``bench/peer.py`` is not a test)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser

BENCH = Path(__file__).resolve().parents[1] / "bench"
XUNCHA_UA = "Mozilla/5.0 Chrome/120 xuncha/1.0"


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, object]]:
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "peer_pages.py"), "--pages", "12", "--hosts", "4"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline().removeprefix("READY "))
    finally:
        proc.terminate()
        proc.wait(10)


def mode(served: dict[str, object], b: str) -> dict[str, dict[str, int]]:
    return httpx.get(f"{served['control']}/__mode", params={"b": b}).json()


def posts(html: bytes) -> list[str]:
    return [n.text() for n in LexborHTMLParser(html).css("ul.news-list li")]


@pytest.mark.timeout(60)
def test_pages_are_spread_over_distinct_loopback_hosts(served: dict[str, object]) -> None:
    urls = served["urls"]
    assert isinstance(urls, list) and len(urls) == 12
    hosts = {urlsplit(u).hostname for u in urls}
    assert hosts == {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}


@pytest.mark.timeout(60)
def test_the_three_behaviours(served: dict[str, object]) -> None:
    url = served["urls"][5]  # type: ignore[index]
    mode(served, "same")
    a, b = httpx.get(url), httpx.get(url)
    assert a.content == b.content and len(posts(a.content)) == 100
    assert "etag" not in a.headers and "last-modified" not in a.headers

    mode(served, "noisy")
    c, d = httpx.get(url), httpx.get(url)
    assert c.content != d.content  # a token and a counter change per request…
    assert posts(c.content) == posts(d.content) == posts(a.content)  # …the posts do not
    assert "etag" not in c.headers

    mode(served, "etag")
    e = httpx.get(url)
    assert e.content == a.content and e.headers["etag"]
    again = httpx.get(url, headers={"If-None-Match": e.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    stale = httpx.get(url, headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200


@pytest.mark.timeout(60)
def test_requests_are_counted_per_tool(served: dict[str, object]) -> None:
    url = served["urls"][0]  # type: ignore[index]
    mode(served, "etag")  # a switch starts the counts afresh
    tag = httpx.get(url, headers={"User-Agent": XUNCHA_UA}).headers["etag"]
    httpx.get(url, headers={"User-Agent": XUNCHA_UA, "If-None-Match": tag})
    httpx.get(url, headers={"User-Agent": "Mozilla/5.0 Chrome/87.0.4280.66"})
    stats = httpx.get(f"{served['control']}/__stats").json()
    assert stats["xuncha"] == {"requests": 2, "ok": 1, "not_modified": 1}
    assert stats["peer"] == {"requests": 1, "ok": 1, "not_modified": 0}


def test_peer_bench_help_runs_without_the_peer() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH / "peer.py"), "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert "--quick" in out.stdout and "--window" in out.stdout
