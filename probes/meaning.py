"""What an observation means, as one short digest: "unchanged" decided on what was read.

Most real pages change on every request without saying anything new — a CSRF token, a
nonce, a visit counter, Weibo's follower count — so comparing the page's bytes finds them
"changed" at every look, and each look was parsed, judged and stored as new (6× the cost
of an unchanged page). The digest here covers everything the detectors judge (outcome,
sight, posts, profile, redirects, the app's facts, what the caps left out) and leaves out
what only counts: the profile's follower and post counters, the check's own time and
duration. :func:`probes.platforms.registry.observe` compares it with the last full look's
(``Previous.meaning``): equal, the look is recorded as unchanged with its counters kept.

A post counter that grew is not noise: it means an update the list may not show
(:func:`probes.sight.unseen_posts`), so :func:`counted_more` sends such a look to be read
in full whatever its digest.

The posts enter the digest through their own digest (:func:`posts_digest`), so a reader
that knows its posts would be the last read's — the same input, read by a pure function of
it — can say so without building them again (:class:`Reads`, :func:`said_again`).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, fields, replace
from typing import Any

from probes.model import AppFacts, Observation, Post, Previous, Profile, Sight, cap_posts

#: changes when what the digest covers changes: every last look is then read in full once
VERSION = "m2"

#: the profile's counters: they count, they do not say anything a detector judges
COUNTERS = ("followers", "posts_count")

_POST = tuple(f.name for f in fields(Post))
_PROFILE = tuple(f.name for f in fields(Profile) if f.name not in COUNTERS)


def _when(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def _post(p: Post) -> list[Any]:
    # the fields in their declared order, read directly: no asdict(), no deep copy
    return [_when(p.published_at) if n == "published_at" else getattr(p, n) for n in _POST]


def posts_digest(posts: list[Post]) -> str:
    """The digest of the posts' part of a meaning: every field of every post, in order."""
    data = json.dumps(
        [_post(p) for p in posts], ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(data.encode()).hexdigest()


def meaning_of(obs: Observation, *, posts: str | None = None) -> str:
    """The digest of what ``obs`` says, counters and timing left out ("" for anything but
    an ``ok`` answer read in full: only those may stand for a later look). ``posts``: the
    :func:`posts_digest` of its posts when they are known without being built."""
    if obs.outcome.value != "ok" or obs.unchanged:
        return ""
    app: AppFacts | None = obs.app
    content = [
        VERSION,
        obs.reader,
        obs.url,
        obs.status_code,
        obs.final_url,
        obs.detail,
        obs.sight.value if obs.sight is not None else None,
        obs.login_required,
        [[r.url, r.status] for r in obs.redirects],
        [getattr(obs.profile, n) for n in _PROFILE],
        posts_digest(obs.posts) if posts is None else posts,
        sorted(obs.capped.items()),
        repr(app) if app is not None else None,
    ]
    data = json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def counters_of(obs: Observation) -> dict[str, int]:
    """The profile's counters this look read ({} when the page shows none)."""
    out = {}
    for name in COUNTERS:
        value = getattr(obs.profile, name)
        if value is not None:
            out[name] = value
    return out


def counted_more(obs: Observation, before: int | None) -> bool:
    """The profile's post counter grew since the last full look (``before``): an update,
    possibly unseen, that only a full read can judge."""
    now = obs.profile.posts_count
    return now is not None and before is not None and now > before


@dataclass(frozen=True)
class Said:
    """What a read of one input said, beyond what the observation it is given carries: the
    posts (as their digest) and what the caps left out of them (``probes.model.cap_posts``)."""

    posts: str
    capped: tuple[tuple[str, int], ...]


def said_by(obs: Observation) -> Said:
    """What ``obs``'s posts say once ``observe`` has capped them (``cap_posts``), capped on
    a copy: ``obs`` is left as it is for whoever reads on (``wechat`` goes on with a list)."""
    posts = [replace(p, links=list(p.links)) for p in obs.posts]
    capped = cap_posts(replace(obs, posts=posts, capped=dict(obs.capped)))
    return Said(posts_digest(capped.posts), tuple(sorted(capped.capped.items())))


class Reads:
    """A bounded memory of reads: a reader's input (a digest of everything its posts are a
    pure function of, the clock excluded) -> what reading it said. Kept per process, it can
    be missing but never wrong: a key is only ever put with what reading that input gave.
    Least recently used entries go first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0  # inputs found (whether or not they said what the last look said)
        self._said: OrderedDict[bytes, Said] = OrderedDict()

    def __len__(self) -> int:
        return len(self._said)

    def get(self, key: bytes) -> Said | None:
        said = self._said.get(key)
        if said is not None:
            self.hits += 1
            self._said.move_to_end(key)
        return said

    def put(self, key: bytes, said: Said) -> None:
        self._said[key] = said
        self._said.move_to_end(key)
        while len(self._said) > self.size:
            self._said.popitem(last=False)

    def clear(self) -> None:
        self._said.clear()


def said_again(obs: Observation, said: Said, prev: Previous | None) -> bool:
    """Make ``obs`` — a reader's ``ok`` answer whose posts (not built) would be ``said``'s,
    so not empty — what ``observe`` makes of it when read in full: when it says what the last
    full look said (``prev``), the unchanged look with its meaning, and True. Otherwise
    ``obs`` is left as it was and False: the reader reads its posts."""
    if prev is None or not prev.meaning or obs.outcome.value != "ok" or obs.unchanged:
        return False
    if counted_more(obs, prev.posts_count):
        return False
    sight, capped = obs.sight, obs.capped
    obs.sight, obs.capped = Sight.posts, dict(said.capped)  # as settle() and cap_posts()
    meaning = meaning_of(obs, posts=said.posts)
    if meaning != prev.meaning:
        obs.sight, obs.capped = sight, capped
        return False
    obs.meaning, obs.unchanged = meaning, True
    obs.posts, obs.artifacts = [], []
    return True


__all__ = [
    "COUNTERS",
    "VERSION",
    "Reads",
    "Said",
    "counted_more",
    "counters_of",
    "meaning_of",
    "posts_digest",
    "said_again",
    "said_by",
]
