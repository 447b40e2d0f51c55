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
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from typing import Any

from probes.model import AppFacts, Observation, Post, Profile

#: changes when what the digest covers changes: every last look is then read in full once
VERSION = "m1"

#: the profile's counters: they count, they do not say anything a detector judges
COUNTERS = ("followers", "posts_count")

_POST = tuple(f.name for f in fields(Post))
_PROFILE = tuple(f.name for f in fields(Profile) if f.name not in COUNTERS)


def _when(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def _post(p: Post) -> list[Any]:
    # the fields in their declared order, read directly: no asdict(), no deep copy
    return [_when(p.published_at) if n == "published_at" else getattr(p, n) for n in _POST]


def meaning_of(obs: Observation) -> str:
    """The digest of what ``obs`` says, counters and timing left out ("" for anything but
    an ``ok`` answer read in full: only those may stand for a later look)."""
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
        [_post(p) for p in obs.posts],
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


__all__ = ["COUNTERS", "VERSION", "counted_more", "counters_of", "meaning_of"]
