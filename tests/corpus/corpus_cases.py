"""Load the labelled corpus (``tests/corpus/*.json``) into model objects.

Cases keep the platforms' own shapes (Weibo ``mblog``/``userInfo``, WeChat article fields,
Douyin ``aweme``), so the corpus also documents what readers hand over; the small converters
here stand in for the platform readers, mapping only what detectors use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from probes.checks.links import links_in_json
from probes.model import Observation, Outcome, Post, Profile

HERE = Path(__file__).parent


def _weibo_time(s: str) -> datetime:
    # Weibo: "Tue Nov 24 10:00:00 +0800 2026"
    parts = s.split()
    return parsedate_to_datetime(
        f"{parts[0]}, {parts[2]} {parts[1]} {parts[5]} {parts[3]} {parts[4]}"
    ).astimezone(UTC)


def post_from_raw(platform: str, raw: dict[str, Any]) -> Post:
    """One platform item -> Post, links gathered from every JSON field."""
    if platform == "weibo":
        p = Post(
            id=str(raw.get("bid") or raw.get("id")),
            published_at=_weibo_time(raw["created_at"]) if raw.get("created_at") else None,
            text=raw.get("text", ""),
            pinned=str(raw.get("profile_type_id", "")).startswith("proweibotop"),
            repost="retweeted_status" in raw,
            links=links_in_json({k: v for k, v in raw.items() if k != "text"}),
            client=raw.get("source") or None,
        )
        if raw.get("region_name"):
            p.ip_location = raw["region_name"]  # type: ignore[attr-defined]
        return p
    if platform == "wechat":
        links = links_in_json({k: v for k, v in raw.items() if k not in {"content", "title"}})
        return Post(
            id=raw["link"].rsplit("/", 1)[-1],
            published_at=datetime.fromtimestamp(int(raw["ct"]), UTC),
            title=raw.get("title", ""),
            text=raw.get("content", ""),
            url=raw["link"],
            links=links,
        )
    if platform == "douyin":
        links = links_in_json({k: v for k, v in raw.items() if k != "desc"})
        if raw.get("is_shop") or raw.get("commerce_info", {}).get("with_goods"):
            links.append("https://haohuo.jinritemai.com/goods")  # a goods card: Douyin's shop
        return Post(
            id=str(raw["aweme_id"]),
            published_at=datetime.fromtimestamp(int(raw["create_time"]), UTC),
            text=raw.get("desc", ""),
            pinned=bool(raw.get("is_top")),
            links=links,
        )
    raise ValueError(platform)


def profile_from_raw(raw: dict[str, Any]) -> Profile:
    """Weibo ``userInfo`` / Douyin user keys -> Profile; ``comment_manage`` off -> attribute."""
    prof = Profile(
        name=raw.get("screen_name") or raw.get("nickname"),
        bio=raw.get("description", raw.get("signature")),
        avatar_url=raw.get("profile_image_url"),
        avatar_hash=raw.get("avatar_hash"),
        verified=raw.get("verified"),
        verified_type=str(raw["verified_type"]) if "verified_type" in raw else None,
        verified_reason=raw.get("verified_reason", raw.get("enterprise_verify_reason")),
        ip_location=raw.get("ip_location"),
    )
    if raw.get("comments_disabled"):
        prof.comments_disabled = True  # type: ignore[attr-defined]
    return prof


@dataclass
class PostCase:
    id: str
    label: str  # clean, commercial, review
    category: str
    post: Post
    note: str = ""


@dataclass
class Snapshot:
    observation: Observation


@dataclass
class AccountCase:
    id: str
    label: str  # stolen, clean
    category: str
    snapshots: list[Observation]
    registered_name: str
    home_province: str
    account_status: str
    now: datetime
    note: str = ""
    history: list[Post] = field(default_factory=list)


def load_posts() -> list[PostCase]:
    cases = []
    for path in sorted(HERE.glob("posts_*.json")):
        for c in json.loads(path.read_text(encoding="utf-8")):
            cases.append(
                PostCase(
                    c["id"],
                    c["label"],
                    c["category"],
                    post_from_raw(c["platform"], c["raw"]),
                    c.get("note", ""),
                )
            )
    return cases


def load_accounts() -> list[AccountCase]:
    cases = []
    for path in sorted(HERE.glob("accounts_*.json")):
        for c in json.loads(path.read_text(encoding="utf-8")):
            snaps = []
            for s in c["snapshots"]:
                snaps.append(
                    Observation(
                        account_id=c["id"],
                        reader=c["platform"],
                        url="",
                        fetched_at=datetime.fromisoformat(s["fetched_at"]),
                        outcome=Outcome.ok,
                        profile=profile_from_raw(s["user"]),
                        posts=[post_from_raw(c["platform"], r) for r in s["posts"]],
                    )
                )
            cases.append(
                AccountCase(
                    c["id"],
                    c["label"],
                    c["category"],
                    snaps,
                    c.get("registered_name", ""),
                    c.get("home_province", ""),
                    c.get("account_status", "active"),
                    snaps[-1].fetched_at,
                    c.get("note", ""),
                )
            )
    return cases
