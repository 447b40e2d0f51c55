"""Value types shared by readers, detectors and the daemon.

Plain dataclasses so ``probes`` can be tested without a database. Times are always
timezone-aware UTC; readers convert whatever a page shows.
"""

from __future__ import annotations

import heapq
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from probes.severity import SEVERITY_RANK as SEVERITY_RANK  # re-exported: its home is apart
from probes.severity import Severity

if TYPE_CHECKING:
    from probes.checks.kinds import FindingKind

#: What one observation keeps of a page (``cap_posts``, applied where every reader's
#: observation passes, ``probes.platforms.observe``, and again by the writer): the newest
#: MAX_POSTS posts, each with at most MAX_TEXT_CHARS of text (and of title) and MAX_LINKS
#: links. A page that showed more says so in its facts (``posts_total``, ``posts_kept``,
#: ``texts_cut``, ``links_cut``), so the snapshot states what was left out. It bounds what
#: a check costs to judge and store however large the page: a 26,000-item feed is judged
#: on its newest 500 items, as a busy account's own page would show them.
MAX_POSTS = 500
MAX_TEXT_CHARS = 20_000
MAX_LINKS = 100


class Outcome(StrEnum):
    """How a fetch ended. Never conflated: a blocked or failed fetch is not "stale"."""

    ok = "ok"
    not_found = "not_found"  # the account/page is gone (404/410, "已注销", "已被发布者删除")
    blocked = "blocked"  # anti-bot answer (403/412/429/432, captcha, "环境异常", a WAF page)
    error = "error"  # network error, timeout, 5xx, a reader's bad options
    # the page came back but no post could be read of it (the selector matches nothing, not
    # a feed, a layout change): "无法读取内容", never "stale" — unless the platform itself
    # says the account has no posts (an empty-state marker, a well-formed empty feed)
    unreadable = "unreadable"


class Sight(StrEnum):
    """What an ``ok`` observation saw of the account's posts (``probes.sight`` settles it).

    A verdict on how often an account posts needs sight: it is given on ``posts`` and on
    ``none`` only. Anything else a reader met (a login wall, a verification page, an empty
    list while the profile counts posts, an endpoint the page never called) is not ``ok``
    at all: ``blocked`` or ``unreadable``, with the reason in the user's words.
    """

    posts = "posts"  # a list of posts was read (dated or not: ``undated`` is judged apart)
    # the platform's own explicit word that the account has posted nothing: an empty-state
    # marker, and a profile counter of 0 where the platform has one. An empty list alone is
    # never this: an empty answer is "not shown to us" until the platform says otherwise
    none = "none"


@dataclass(frozen=True)
class Previous:
    """What the account's last look saw of its page: enough to ask "changed since?" and to
    know an unchanged answer without parsing it."""

    etag: str = ""
    last_modified: str = ""
    body_sha256: str = ""  # of the page's bytes, as stored in the blob store
    # what the last full look said (probes.meaning): a look that says the same is unchanged
    # ("" while a fresh full read is due: [patrol] evidence_refresh_hours)
    meaning: str = ""
    posts_count: int | None = None  # the profile's post counter then: growth is an update

    def request_headers(self) -> dict[str, str]:
        """The conditional-request headers (RFC 9110 §13): the server may answer 304."""
        h = {}
        if self.etag:
            h["If-None-Match"] = self.etag
        if self.last_modified:
            h["If-Modified-Since"] = self.last_modified
        return h


@dataclass(frozen=True)
class Target:
    """What a reader needs to know about one account; built by ``monitor`` from the registry."""

    account_id: str
    platform: str  # where the account lives: weibo, wechat, website, ...
    reader: str  # how we read it: rss, webpage, ...
    name: str = ""  # registered name
    url: str = ""  # feed URL for rss, list page for webpage, profile URL otherwise
    handle: str = ""  # platform id (uid, gh_..., ...)
    options: dict[str, str] = field(default_factory=dict)  # reader-specific (selectors, ...)
    # base URLs a reader contacts, from config [platforms.<p>].origin(s): a mirror, proxy or
    # local simulator stands in for the real site; keys are reader-defined ("m", "www", ...)
    origins: dict[str, str] = field(default_factory=dict)
    # the last look, for readers that can tell an unchanged page without reading it
    previous: Previous | None = None


@dataclass
class Comment:
    """One public comment under a post, as the platform shows it (互动回应)."""

    id: str
    published_at: datetime | None
    text: str = ""
    user_id: str = ""
    user_name: str = ""
    by_account: bool = False  # written by the account itself (its own user id)
    # replies shown under it (楼中楼); ``replies_total``: how many the platform says it has,
    # so a reader can tell it was shown only some of them
    replies: list[Comment] = field(default_factory=list)
    replies_total: int = 0


@dataclass
class Post:
    id: str
    published_at: datetime | None
    title: str = ""
    text: str = ""
    url: str = ""
    pinned: bool = False
    repost: bool = False
    links: list[str] = field(default_factory=list)
    client: str | None = None  # posting client (Weibo ``source``)
    # the platform shows comments switched off on this post (None: it does not say)
    comments_disabled: bool | None = None
    # where the platform says the post was sent from (Weibo's "发布于 贵州"; None: not shown)
    ip_location: str | None = None
    # the public comments read under it, newest first (None: not read, or not shown to us;
    # never a verdict on its own — probes.checks.interaction judges only what was shown)
    comments: list[Comment] | None = None


@dataclass
class Profile:
    name: str | None = None
    bio: str | None = None
    avatar_url: str | None = None
    avatar_hash: str | None = None
    verified: bool | None = None
    verified_type: str | None = None
    verified_reason: str | None = None
    ip_location: str | None = None
    followers: int | None = None
    posts_count: int | None = None
    # the platform shows comments switched off account-wide (None: it does not say)
    comments_disabled: bool | None = None


@dataclass
class Redirect:
    url: str
    status: int


@dataclass
class Artifact:
    """Raw evidence of what came back: stored content-addressed by ``monitor``."""

    kind: str  # "page", "feed", "json", "screenshot"
    media_type: str
    content: bytes
    url: str = ""


@dataclass
class StorePresence:
    """One app store's answer about a registered app."""

    store: str  # appstore, yingyongbao, huawei, xiaomi, vivo
    present: bool | None  # None = could not tell (fetch failed)
    version: str | None = None
    updated: str | None = None  # ISO date of the last release, as the store shows it
    detail: str = ""


@dataclass
class AppFacts:
    """What the download and store probes saw of a mobile client (filled by probes.apps)."""

    download_url: str = ""
    final_url: str | None = None
    final_host: str | None = None
    content_type: str | None = None
    length: int | None = None
    tls_valid: bool | None = None
    tls_days_left: int | None = None
    is_apk: bool | None = None
    page_kind: str | None = None  # when not an APK: landing / error / hijacked
    package: str | None = None
    version_code: int | None = None
    version_name: str | None = None
    min_sdk: int | None = None
    signer_sha256: str | None = None
    signature_schemes: list[str] = field(default_factory=list)  # v1, v2, v3
    problems: list[str] = field(default_factory=list)  # verification failures, in Chinese
    stores: list[StorePresence] = field(default_factory=list)


@dataclass
class Observation:
    """What one probe saw of one account at one moment."""

    account_id: str
    reader: str
    url: str
    fetched_at: datetime
    outcome: Outcome
    status_code: int | None = None
    final_url: str | None = None
    detail: str = ""  # human-readable reason for a non-ok outcome (Chinese)
    elapsed_ms: int = 0
    redirects: list[Redirect] = field(default_factory=list)
    profile: Profile = field(default_factory=Profile)
    posts: list[Post] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    app: AppFacts | None = None
    # the page was as the last look saw it (304, or the same bytes): no posts or artifacts
    # were read; the record refers to the previous snapshot's
    unchanged: bool = False
    # what to send next time (the response's validators), and the page's bytes' sha256
    etag: str = ""
    last_modified: str = ""
    body_sha256: str = ""
    # what it says, counters left out (probes.meaning): "" unless an ok answer read in full
    meaning: str = ""
    # what cap_posts left out ({} when nothing): posts_total, posts_kept, texts_cut, links_cut
    capped: dict[str, int] = field(default_factory=dict)
    # what the posts part of an ``ok`` answer showed (None until ``probes.sight.settle``
    # decides, and for any other outcome). A reader sets ``Sight.none`` itself, and only on
    # the platform's explicit word; ``settle`` makes every other empty answer ``unreadable``
    sight: Sight | None = None
    # the platform asked for a login (a login wall, "登录后查看"): with a session, the
    # session has expired; without one, the platform needs one (monitor.sessions)
    login_required: bool = False

    def facts(self) -> dict[str, Any]:
        """JSON-able summary (no raw bytes) kept on the snapshot row."""
        d = asdict(self)
        d.pop("artifacts")
        d.update(d.pop("capped"))  # only when something was left out: facts stay as they were
        for k in ("unchanged", "etag", "last_modified", "body_sha256", "meaning"):  # the check's
            d.pop(k)
        if d["sight"] is None:  # kept where it was settled: facts of other outcomes unchanged
            d.pop("sight")
        if not d["login_required"]:
            d.pop("login_required")
        d["fetched_at"] = self.fetched_at.isoformat()
        # kept only where a reader read it: the facts (and the profile's fingerprint) of
        # pages that never say stay as they were
        if d["profile"].get("comments_disabled") is None:
            d["profile"].pop("comments_disabled", None)
        for p in d["posts"]:
            for key in ("comments_disabled", "ip_location", "comments"):
                if p.get(key) is None:
                    p.pop(key, None)
            for c in p.get("comments") or ():
                _comment_times(c)
            if p["published_at"] is not None:
                p["published_at"] = p["published_at"].isoformat()
        return d


def _comment_times(c: dict[str, Any]) -> None:
    if isinstance(c.get("published_at"), datetime):
        c["published_at"] = c["published_at"].isoformat()
    for r in c.get("replies") or ():
        _comment_times(r)


def comment_from_dict(d: dict[str, Any]) -> Comment:
    """Rebuild a Comment from the facts (``Observation.facts``)."""
    when = d.get("published_at")
    return Comment(
        id=str(d.get("id", "")),
        published_at=datetime.fromisoformat(when) if isinstance(when, str) and when else None,
        text=str(d.get("text") or ""),
        user_id=str(d.get("user_id") or ""),
        user_name=str(d.get("user_name") or ""),
        by_account=bool(d.get("by_account")),
        replies=[comment_from_dict(r) for r in d.get("replies") or () if isinstance(r, dict)],
        replies_total=int(d.get("replies_total") or 0),
    )


def _newness(at: datetime | None) -> tuple[int, float]:
    if at is None:
        return (0, 0.0)  # undated posts rank after every dated one
    return (1, (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp())


def newest(times: list[datetime | None], n: int = MAX_POSTS) -> list[int]:
    """The indices of the ``n`` newest of ``times`` (None last, ties in the given order),
    in the given order: O(len log n). How :func:`cap_posts` (and a reader that ranks its
    items before building posts of them) chooses what to keep."""
    if len(times) <= n:
        return list(range(len(times)))
    return sorted(heapq.nlargest(n, range(len(times)), key=lambda i: _newness(times[i])))


def cap_posts(obs: Observation, *, max_links: int = MAX_LINKS) -> Observation:
    """Keep what :data:`MAX_POSTS` and the other caps allow, in place, and note what was
    left out in ``obs.capped``; idempotent. The newest posts by publication time are kept
    (undated ones last, ties in the page's order), in the page's order: O(n log k)."""
    posts = obs.posts
    if len(posts) > MAX_POSTS:
        obs.capped.setdefault("posts_total", len(posts))
        obs.posts = [posts[i] for i in newest([p.published_at for p in posts])]
        obs.capped["posts_kept"] = len(obs.posts)
    texts = links = 0
    for p in obs.posts:
        if len(p.text) > MAX_TEXT_CHARS or len(p.title) > MAX_TEXT_CHARS:
            p.text, p.title = p.text[:MAX_TEXT_CHARS], p.title[:MAX_TEXT_CHARS]
            texts += 1
        if len(p.links) > max_links:
            del p.links[max_links:]
            links += 1
    if texts:
        obs.capped["texts_cut"] = obs.capped.get("texts_cut", 0) + texts
    if links:
        obs.capped["links_cut"] = obs.capped.get("links_cut", 0) + links
    return obs


@dataclass
class Signal:
    """One detector's judgement about one observation.

    ``kind`` names the problem; the daemon keeps one finding per (account, kind).
    """

    kind: str  # "stale", "stale_soon", "fetch_failed", "blocked", "gone", ...
    severity: Severity
    title: str  # one Chinese line for people
    detail: str = ""
    rule: str = ""  # the rule that was applied, e.g. "national.max_gap_days(14)"
    deadline: datetime | None = None  # "须在 X 前更新"
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> FindingKind:
        """What the kind is (label, category, who hears, …): its declaration, looked up here
        so that this module stays cheap to import. KeyError for a kind declared nowhere."""
        from probes.checks.kinds import spec

        return spec(self.kind)


def post_from_dict(d: dict[str, Any]) -> Post:
    """Rebuild a Post from ``Observation.facts()`` (history kept on snapshots)."""
    when = d.get("published_at")
    return Post(
        id=str(d.get("id", "")),
        published_at=datetime.fromisoformat(when) if when else None,
        title=d.get("title", ""),
        text=d.get("text", ""),
        url=d.get("url", ""),
        pinned=bool(d.get("pinned")),
        repost=bool(d.get("repost")),
        links=list(d.get("links") or []),
        client=d.get("client"),
        comments_disabled=d.get("comments_disabled"),
        ip_location=d.get("ip_location"),
        comments=(
            [comment_from_dict(c) for c in d["comments"] if isinstance(c, dict)]
            if isinstance(d.get("comments"), list)
            else None
        ),
    )


def observation_from_facts(facts: dict[str, Any]) -> Observation:
    """Rebuild a look from ``Observation.facts()`` (what the store keeps), so the previous
    look reaches the detectors without its artifacts: profile and posts, beside the two
    functions that rebuild them."""
    known = set(Profile.__dataclass_fields__)
    profile = Profile(**{k: v for k, v in (facts.get("profile") or {}).items() if k in known})
    return Observation(
        account_id=str(facts.get("account_id", "")),
        reader=str(facts.get("reader", "")),
        url=str(facts.get("url", "")),
        fetched_at=datetime.fromisoformat(facts["fetched_at"]),
        outcome=Outcome(facts.get("outcome", "ok")),
        profile=profile,
        posts=[post_from_dict(p) for p in facts.get("posts") or []],
    )
