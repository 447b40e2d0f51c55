"""A finding's evidence, typed: each shape a detector emits, and how it says itself.

Findings store evidence as the JSON dict they always have (``Signal.evidence``, the findings
table, the console, the report read it); ``Evidence.read`` gives that dict back as the
shapes it holds, in the order a person reads them, and ``Evidence.lines`` as neutral lines
(``probes.evidence.lines``) that ``alerts`` draws in a message's format. Detectors build the
shapes and store ``evidence(...)`` of them, so what a key means is written once, here.

A key no shape knows is never shown raw: it is counted ("另有 N 项技术细节未列出"), and the
console's finding page has it. Keys that matter to the code only (``INTERNAL``) are not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from probes.evidence.app import App, Stores
from probes.evidence.fetch import Fetch
from probes.evidence.interaction import CommentsOff, Question, Questions
from probes.evidence.lines import Line, line
from probes.evidence.posts import AdPost, Posts, WordingPost
from probes.evidence.shape import Item, Part
from probes.evidence.staleness import LatestPost, RuleNotes, SkippedPosts
from probes.evidence.theft import Sign, Theft

# each shape, in the order its lines are told: most telling first, the fetch last
SHAPES: tuple[type[Part], ...] = (
    LatestPost,
    SkippedPosts,
    RuleNotes,
    Theft,
    Posts,
    CommentsOff,
    Questions,
    App,
    Stores,
    Fetch,
)

# keys that matter to the code only, never to the person reading: shown nowhere, not counted
INTERNAL = frozenset(
    {
        "ruleset",  # the rule set's title is in 依据规则
        "rules",  # each rule's state and parameters: 说明 says them in words
        "latest_post_id",
        "ignored_undated_post_ids",
        "undated_only",
        "threshold",  # said with the score
        "schemes",  # APK signature scheme versions
        "lineage",  # a key rotation's certificates: "changed" is the finding
        "new_post_ids",
    }
)
UNTOLD = "另有 {n} 项技术细节未列出，见控制台的问题页"


@dataclass(frozen=True)
class Evidence:
    """The shapes one finding's evidence holds, and the keys none of them knows (``rest``)."""

    parts: tuple[Part, ...] = ()
    rest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, stored: object) -> Evidence:
        """A stored evidence dict as its shapes (nothing for anything but a dict)."""
        if not isinstance(stored, dict) or not stored:
            return cls()
        parts = tuple(s.read(stored) for s in SHAPES if s.claims(stored))
        known = {k for p in parts for k in p.to_dict()} | {
            k for p in parts for k in p.stored_keys()
        }
        return cls(parts, {k: v for k, v in stored.items() if k not in known})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p in self.parts:
            out.update(p.to_dict())
        return {**out, **self.rest}

    def lines(self) -> list[Line]:
        """One line per fact, most telling first; none for no evidence."""
        out = [ln for p in self.parts for ln in p.lines()]
        untold = [
            k for k, v in self.rest.items() if k not in INTERNAL and v not in (None, "", [], {})
        ]
        if untold:
            out.append(line(UNTOLD.format(n=len(untold))))
        return out


def evidence(*parts: Part, **internal: Any) -> dict[str, Any]:
    """The dict a signal stores for these shapes (and keys for the code only, ``INTERNAL``)."""
    return Evidence(parts, internal).to_dict()


__all__ = [
    "INTERNAL",
    "SHAPES",
    "AdPost",
    "App",
    "CommentsOff",
    "Evidence",
    "Fetch",
    "Item",
    "LatestPost",
    "Line",
    "Part",
    "Posts",
    "Question",
    "Questions",
    "RuleNotes",
    "Sign",
    "SkippedPosts",
    "Stores",
    "Theft",
    "WordingPost",
    "evidence",
]
