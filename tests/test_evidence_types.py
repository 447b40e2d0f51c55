"""Typed evidence (probes.evidence): the stored dict read back and written the same, neutral
lines with no format in them, unknown keys counted and never shown, and the layering kept."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alerts.evidence import Room, describe
from alerts.formats import Markdown, Text
from monitor.evidence import lines_of
from probes.evidence import App, Evidence, Fetch, Posts, Stores, Theft, evidence
from probes.evidence.lines import Piece
from tests.test_alerts import HOSTILE, HOSTILE_EVIDENCE

TZ = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("shape", sorted(HOSTILE_EVIDENCE))
def test_a_stored_dict_reads_back_and_writes_the_same(shape: str) -> None:
    stored = HOSTILE_EVIDENCE[shape]
    assert Evidence.read(stored).to_dict() == stored


def test_an_unknown_stated_outright_is_written_back_as_null() -> None:
    """install states an unknown certificate date and signer: the key stays, as null."""
    base = App(download_url="https://dl.example.gov.cn/a.apk", status_code=200)
    stored = base.said(tls_valid=None, tls_days_left=None).to_dict()
    assert stored == {"download_url": "https://dl.example.gov.cn/a.apk", "status_code": 200,
                      "tls_valid": None, "tls_days_left": None}  # fmt: skip
    assert Evidence.read(stored).to_dict() == stored
    assert "tls_valid" not in base.to_dict()  # not said: left out


def test_shapes_compose_into_one_dict_with_keys_for_the_code() -> None:
    stored = evidence(Fetch(outcome="ok", url="https://a.example.cn"), ruleset="national")
    assert stored == {"outcome": "ok", "url": "https://a.example.cn", "ruleset": "national"}
    assert [type(p) for p in Evidence.read(stored).parts][-1] is Fetch


def test_neutral_lines_keep_every_scraped_value_out_of_their_own_words() -> None:
    """What a page said travels as a quote, a flagged address or a link: the format makes it
    inert. Our own words never carry it."""
    for stored in HOSTILE_EVIDENCE.values():
        for ln in Evidence.read(stored).lines():
            for p in _all(ln.pieces):
                if p.kind in ("words", "listed", "more", "unless"):
                    assert "evil" not in p.text and "<script>" not in p.text, p


def _all(pieces: tuple[Piece, ...]) -> list[Piece]:
    return [x for p in pieces for x in (p, *_all(p.otherwise))]


def test_a_key_nobody_knows_is_counted_never_shown() -> None:
    stored = {"outcome": "blocked", "url": "https://a.example.cn", "mystery": HOSTILE,
              "ruleset": "national", "empty": ""}  # fmt: skip
    ev = Evidence.read(stored)
    assert ev.rest == {"mystery": HOSTILE, "ruleset": "national", "empty": ""}
    lines = describe(lines_of(stored), Text(), TZ, Room())
    assert lines[-1] == "另有 1 项技术细节未列出，见控制台的问题页"
    assert "mystery" not in "".join(lines) and "national" not in "".join(lines)


def test_the_room_cuts_a_list_and_says_how_many_are_left() -> None:
    stored = Posts.read({"posts": [{"post_url": f"https://weibo.com/1/{i}", "reasons": ["广告"]}
                                   for i in range(7)]}).to_dict()  # fmt: skip
    lines = lines_of(stored)
    wide = describe(lines, Markdown(), TZ, Room(5, 200))
    assert wide[0] == "涉及内容 7 条：" and len(wide) == 7
    assert wide[-1] == "\t……其余 2 条见控制台的问题页"
    assert describe(lines, Markdown(), TZ, Room(0, 60)) == ["涉及内容 7 条"]


def test_signs_of_theft_are_listed_however_little_room() -> None:
    signs = [{"code": f"s{i}", "title": f"迹象{i}", "score": 1.0} for i in range(4)]
    stored = Theft.read({"score": 4.0, "threshold": 3.0, "signs": signs}).to_dict()
    lines = describe(lines_of(stored), Text(), TZ, Room(0, 60))
    assert lines == ["盗用迹象合计 4.0 分（达到 3.0 分即判为疑似盗用）：",
                     "\t迹象0（+1.0 分）", "\t迹象1（+1.0 分）", "\t迹象2（+1.0 分）"]  # fmt: skip


def test_what_the_message_says_already_is_not_told_twice() -> None:
    stored = App(download_url="https://dl.example.gov.cn/a.apk", problems=["下载不完整"]).to_dict()
    lines = describe(lines_of(stored), Text(), TZ, Room(), said="客户端无法下载\n下载不完整")
    assert not any("问题：" in x for x in lines)
    assert Stores(stores=[]).to_dict() == {"stores": []}


def test_a_fetch_says_its_status_once() -> None:
    said = {"outcome": "error", "url": "https://a.example.cn", "status_code": 503}
    lines = describe(lines_of({**said, "reason": "服务器错误（HTTP 503）"}), Text(), TZ, Room())
    assert lines[-1] == "抓取结果：抓取出错，服务器错误（HTTP 503）"
    assert describe(lines_of(said), Text(), TZ, Room())[-1] == "抓取结果：抓取出错，HTTP 503"


def test_times_are_shown_in_the_zone() -> None:
    stored = {"latest_post_at": datetime(2026, 11, 9, 2, tzinfo=UTC).isoformat(),
              "latest_post_title": "标题", "days_since_update": 15}  # fmt: skip
    (line,) = describe(lines_of(stored), Text(), TZ, Room())
    assert line == "最新一条：2026-11-09 10:00 发布（15 天前）《标题》"


@pytest.mark.parametrize("package", ["probes/evidence", "alerts"])
def test_the_layers_stay_apart(package: str) -> None:
    """probes and alerts import neither monitor nor each other: monitor hands the lines over."""
    other = {"probes/evidence": ("alerts", "monitor"), "alerts": ("probes", "monitor")}[package]
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] in other], path
