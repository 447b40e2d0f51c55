"""Load the content family's labelled posts (``content_posts.json``, ``content_roster.csv``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from corpus_cases import post_from_raw

from probes.checks.roster import Roster, read_terms
from probes.model import Post

HERE = Path(__file__).parent
#: the rules the corpus measures, in the order tables show them
RULES = (
    "privacy.id_card",
    "privacy.mobile",
    "privacy.bank_card",
    "roster.name",
    "roster.title",
    "wording.typo",
    "wording.expression",
    "wording.taboo",
    "entertainment",
)


@dataclass
class ContentCase:
    id: str
    expect: frozenset[str]  # the rules it must trigger; empty: clean
    category: str
    owner: str
    post: Post
    note: str = ""


def load_content() -> list[ContentCase]:
    raw = json.loads((HERE / "content_posts.json").read_text(encoding="utf-8"))
    return [
        ContentCase(c["id"], frozenset(c["expect"]), c["category"], c["owner"],
                    post_from_raw(c["platform"], c["raw"]), c.get("note", ""))
        for c in raw
    ]  # fmt: skip


def corpus_roster() -> Roster:
    return Roster(read_terms((HERE / "content_roster.csv").read_text(encoding="utf-8")))
