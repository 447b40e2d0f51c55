"""The captured platform answers the simulator serves: each one's source is named, and a
simulator set to another instant keeps every answer's ages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from simulator import NOW
from simulator.captured import ANCHOR, FIXTURES, answer
from simulator.xiaohongshu import shift_ids


@pytest.mark.parametrize(
    "path",
    sorted(p for p in FIXTURES.glob("*/*") if p.name != "SOURCES.md"),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_captured_answer_names_its_source(path: Path) -> None:
    sources = (path.parent / "SOURCES.md").read_text(encoding="utf-8")
    assert f"`{path.name}`" in sources or f"`{path.stem.rsplit('_', 1)[0]}_*" in sources


def test_the_answers_are_written_against_the_simulators_now() -> None:
    assert ANCHOR == NOW


def test_another_instant_keeps_the_ages() -> None:
    later = NOW + timedelta(days=1, hours=3)
    moved = int((later - NOW).total_seconds())
    dy = answer("douyin", "posts_ok", later)["aweme_list"][0]["create_time"]
    assert dy == answer("douyin", "posts_ok")["aweme_list"][0]["create_time"] + moved
    ks = answer("kuaishou", "feed_ok", later)["feeds"][0]["photo"]["timestamp"]  # ms
    assert ks == answer("kuaishou", "feed_ok")["feeds"][0]["photo"]["timestamp"] + moved * 1000
    state = answer("xiaohongshu", "state_notes")
    note = shift_ids(state, later)["user"]["notes"]["_rawValue"][0][1]["id"]
    before = state["user"]["notes"]["_rawValue"][0][1]["id"]
    assert int(note[:8], 16) - int(before[:8], 16) == moved and note[8:] == before[8:]
