"""Value types shared by readers, detectors and the daemon.

Plain dataclasses so ``probes`` can be tested without a database. Times are always
timezone-aware UTC; readers convert whatever a page shows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """How a fetch ended. Never conflated: a blocked or failed fetch is not "stale"."""

    ok = "ok"
    not_found = "not_found"  # the account/page is gone (404/410, "已注销", "已被发布者删除")
    blocked = "blocked"  # anti-bot answer (403/412/429/432, captcha, "环境异常")
    error = "error"  # network error, timeout, 5xx, unparseable body


class Severity(StrEnum):
    info = "info"
    warning = "warning"
    high = "high"
    veto = "veto"  # 单项否决: fails an inspection outright


SEVERITY_RANK = {Severity.info: 0, Severity.warning: 1, Severity.high: 2, Severity.veto: 3}


@dataclass(frozen=True)
class Previous:
    """What the account's last look saw of its page: enough to ask "changed since?" and to
    know an unchanged answer without parsing it."""

    etag: str = ""
    last_modified: str = ""
    body_sha256: str = ""  # of the page's bytes, as stored in the blob store

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

    def facts(self) -> dict[str, Any]:
        """JSON-able summary (no raw bytes) kept on the snapshot row."""
        d = asdict(self)
        d.pop("artifacts")
        for k in ("unchanged", "etag", "last_modified", "body_sha256"):  # the check's, not facts
            d.pop(k)
        d["fetched_at"] = self.fetched_at.isoformat()
        for p in d["posts"]:
            if p["published_at"] is not None:
                p["published_at"] = p["published_at"].isoformat()
        return d


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
    )
