"""The inspector's loop in the database: 已整改 → recheck → 复核 (issue 31).

A unit says "已整改" with a note — through a signed link from its message, no login needed
for that one action on that one finding, or from the console — and its account is due at
once, read in full; the check after that decides (``monitor.record.recheck``): the signal
gone is "recheck_passed", still there "recheck_failed", a failed fetch decides nothing.
Findings of the judgement kinds (``probes.checks.kinds.REVIEW_KINDS``) wait for a
supervisor's 复核: "confirmed", or "dismissed" as 误报 — closed with status "dismissed", kept
out of the 通报, and the same evidence (posts, words, signs) never opens it again.

Everything is a ``FindingEvent``: the finding page's timeline reads the same rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor import timefmt
from monitor.store.models import AccountState, AlertItem, Finding, FindingEvent
from monitor.store.sealing import load_sealer
from probes.checks.kinds import PATROL_KINDS, REVIEW_KINDS
from probes.model import Signal

RECTIFY = "rectify"  # the one action a link grants
NOTE_MAX = 500  # characters of a 整改说明 or a 误报 reason
BY_LINK = "链接"  # who marked it, when it came through a signed link
# the events that start and end a recheck (recheck_incomplete decides nothing)
_RECHECK = ("rectified", "recheck_passed", "recheck_failed")
INCOMPLETE = "复查未能完成：巡查系统自身的问题（本次未能读取账号页面），稍后将再次复查"


class LoopError(Exception):
    """What the person asked cannot be done; the message says why, in Chinese."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


# -- signed links -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    finding_id: int
    action: str
    expires_at: datetime
    link_id: str  # names this link in the record (a hash of its signature, not the secret)


def link_key(key_file: Path) -> bytes:
    """The links' HMAC key: derived from the key kept outside the database
    (``monitor.store.sealing``, the sessions' key), so a copied database signs nothing."""
    key = load_sealer(key_file, create=True).key
    return hmac.new(key, b"xuncha-rectify-link", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _sign(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()[:18]


def make_token(key: bytes, finding_id: int, now: datetime, days: int, action: str = RECTIFY) -> str:
    """``<finding>.<action>.<expiry, unix seconds>.<signature>``: scoped to one finding and one
    action, expiring ``days`` after ``now``."""
    expires = int((now + timedelta(days=days)).timestamp())
    payload = f"{int(finding_id)}.{action}.{expires}"
    return f"{payload}.{_b64(_sign(key, payload))}"


def read_token(key: bytes, token: str, now: datetime, action: str = RECTIFY) -> Link:
    """The link ``token`` grants, or :class:`LoopError` (403) saying why not, in words."""
    bad = LoopError(
        "链接无效：该链接不完整或已被改动。请使用消息中的原始链接，或登录控制台办理。", 403
    )
    parts = token.split(".")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[2].isdigit():
        raise bad
    payload = ".".join(parts[:3])
    try:
        sig = base64.urlsafe_b64decode(parts[3] + "=" * (-len(parts[3]) % 4))
    except (binascii.Error, ValueError):
        raise bad from None
    if not hmac.compare_digest(sig, _sign(key, payload)) or parts[1] != action:
        raise bad
    expires = datetime.fromtimestamp(int(parts[2]), UTC)
    if expires <= now:
        raise LoopError(
            f"链接已过期（有效期至 {timefmt.shown(expires)}）。请使用最近一条巡查消息中的链接，"
            "或登录控制台在问题页点击『已整改』。",
            403,
        )
    return Link(int(parts[0]), action, expires, hashlib.sha256(sig).hexdigest()[:10])


# -- 已整改 --------------------------------------------------------------------------------------


def pending_rechecks(session: Session, finding_ids: Iterable[int]) -> dict[int, datetime]:
    """The findings marked 已整改 whose recheck has not decided yet: id -> when marked."""
    ids = sorted(set(finding_ids))
    last: dict[int, tuple[str, datetime]] = {}
    for i in range(0, len(ids), 500):
        rows = session.exec(
            select(FindingEvent.finding_id, FindingEvent.event, FindingEvent.at)
            .where(col(FindingEvent.finding_id).in_(ids[i : i + 500]))
            .where(col(FindingEvent.event).in_(_RECHECK))
            .order_by(col(FindingEvent.at), col(FindingEvent.id))
        ).all()
        for fid, event, at in rows:
            last[fid] = (event, at)
    return {fid: at for fid, (event, at) in last.items() if event == "rectified"}


def check_note(note: str, what: str = "整改说明") -> str:
    note = (note or "").strip()
    if not note:
        raise LoopError(f"请填写{what}（做了什么、何时完成）。", 400)
    if len(note) > NOTE_MAX:
        raise LoopError(f"{what}最多 {NOTE_MAX} 字（现为 {len(note)} 字），请精简后再提交。", 400)
    return note


def may_rectify(f: Finding, tz: str = timefmt.DEFAULT_TZ) -> None:
    """:class:`LoopError` if the unit cannot say 已整改 for ``f``."""
    if f.status == "dismissed":
        raise LoopError(f"问题 #{f.id} 已经复核认定为误报，无需整改。")
    if f.status != "open":
        raise LoopError(
            f"问题 #{f.id} 已于 {timefmt.shown(f.resolved_at, tz)} 解决，无需再提交整改。"
        )
    if f.kind in PATROL_KINDS:
        raise LoopError(f"问题 #{f.id} 是巡查系统自身的问题（暂时无法检查），无需单位整改。")


def mark_rectified(
    session: Session,
    finding_id: int,
    *,
    note: str,
    by: str,
    now: datetime,
    link_id: str = "",
    tz: str = timefmt.DEFAULT_TZ,
) -> Finding:
    """Record 已整改 and make the account due now, its page read in full (as ``xuncha recheck
    --full`` does; the claims keep the platform's pace). Caller commits."""
    f = session.get(Finding, finding_id)
    if f is None:
        raise LoopError(f"问题 #{finding_id} 不存在。", 404)
    may_rectify(f, tz)
    note = check_note(note)
    assert f.id is not None
    since = pending_rechecks(session, [f.id]).get(f.id)
    if since is not None:
        raise LoopError(
            f"问题 #{f.id} 已于 {timefmt.shown(since, tz)} 提交整改，正在等待复查，无需重复提交。"
        )
    detail = {"note": note, "by": by} | ({"link": link_id} if link_id else {})
    session.add(
        FindingEvent(
            finding_id=f.id, event="rectified", snapshot_id=f.last_snapshot_id, at=now,
            detail=detail,
        )
    )  # fmt: skip
    t = AccountState.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.update(t)
        .where(t.c.account_id == f.account_id, t.c.claimed_by.is_(None))
        .values(due_at=now, etag="", last_modified="", body_sha256="", judged_with="")
    )
    session.flush()
    return f


# -- 复核 ----------------------------------------------------------------------------------------


def confirmed_ids(session: Session, finding_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(finding_ids))
    if not ids:
        return set()
    rows = session.exec(
        select(FindingEvent.finding_id)
        .where(col(FindingEvent.finding_id).in_(ids), FindingEvent.event == "confirmed")
        .distinct()
    ).all()
    return set(rows)


def _reviewable(session: Session, finding_id: int) -> Finding:
    f = session.get(Finding, finding_id)
    if f is None:
        raise LoopError(f"问题 #{finding_id} 不存在。", 404)
    if f.kind not in REVIEW_KINDS:
        raise LoopError(f"问题 #{f.id} 不属于需要复核的问题类别。", 400)
    if f.status != "open":
        raise LoopError(f"问题 #{f.id} 已关闭，无法复核。")
    return f


def confirm(session: Session, finding_id: int, *, by: str, note: str, now: datetime) -> Finding:
    """复核 confirms the detector: it counts in the 通报 as it always did, now reviewed."""
    f = _reviewable(session, finding_id)
    assert f.id is not None
    if f.id in confirmed_ids(session, [f.id]):
        raise LoopError(f"问题 #{f.id} 已经复核确认过。")
    detail = {"by": by} | ({"note": note.strip()[:NOTE_MAX]} if note.strip() else {})
    session.add(
        FindingEvent(finding_id=f.id, event="confirmed", snapshot_id=f.last_snapshot_id, at=now,
                     detail=detail)
    )  # fmt: skip
    session.flush()
    return f


def dismiss(session: Session, finding_id: int, *, by: str, reason: str, now: datetime) -> Finding:
    """误报: the finding closes as "dismissed" (not in the 通报, not told to the unit as
    resolved: what waits to be told of it is dropped) and its evidence is suppressed for
    the account and kind (:func:`suppress`)."""
    f = _reviewable(session, finding_id)
    reason = check_note(reason, "误报原因")
    f.status, f.resolved_at, f.updated_at = "dismissed", now, now
    session.add(f)
    detail = {"by": by, "reason": reason, "identity": sorted(identity(f.evidence))}
    session.add(
        FindingEvent(finding_id=f.id or 0, event="dismissed", snapshot_id=f.last_snapshot_id,
                     at=now, detail=detail)
    )  # fmt: skip
    items = AlertItem.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.update(items)
        .where(items.c.finding_id == f.id, items.c.status == "queued")
        .values(status="skipped")
    )
    session.flush()
    return f


# -- what a dismissal suppresses ----------------------------------------------------------------


def identity(evidence: dict[str, Any]) -> frozenset[str]:
    """What a judgement kind's evidence is about: each post (id, else URL) with each word
    it was judged on (commercial words and links, content hits), or each theft sign with
    what it saw. Empty: nothing to recognise it by (never suppressed)."""
    out: set[str] = set()
    for p in evidence.get("posts") or []:
        if not isinstance(p, dict):
            continue
        post = str(p.get("post_id") or p.get("post_url") or "")
        words = [str(w.get("word", "")) for w in p.get("words") or [] if isinstance(w, dict)]
        words += [str(h.get("hit", "")) for h in p.get("findings") or [] if isinstance(h, dict)]
        words += [f"link:{u}" for u in p.get("links") or [] if isinstance(u, str)]
        out |= {f"{post}|{w}" for w in words} or {f"{post}|"}
    for sign in evidence.get("signs") or []:
        if isinstance(sign, dict):
            seen = {k: v for k, v in sign.items() if k not in ("title", "score")}
            out.add("sign:" + json.dumps(seen, ensure_ascii=False, sort_keys=True, default=str))
    return frozenset(out)


Dismissed = dict[tuple[str, str], set[str]]


def dismissed_of(session: Session, account_ids: list[str]) -> Dismissed:
    """(account, kind) -> every piece of evidence dismissed as 误报 for it."""
    out: Dismissed = {}
    if not account_ids:
        return out
    rows = session.exec(
        select(Finding.account_id, Finding.kind, Finding.evidence).where(
            Finding.status == "dismissed", col(Finding.account_id).in_(account_ids)
        )
    ).all()
    for account_id, kind, evidence in rows:
        out.setdefault((account_id, kind), set()).update(identity(evidence or {}))
    return out


def suppress(signals: list[Signal], account_id: str, dismissed: Dismissed) -> list[Signal]:
    """``signals`` without those whose whole evidence was dismissed as 误报 before; a new
    post or a new word keeps the signal (and opens a finding)."""
    if not dismissed:
        return signals
    keep = []
    for s in signals:
        gone = dismissed.get((account_id, s.kind))
        ident = identity(s.evidence) if gone else frozenset()
        if not (ident and ident <= gone):  # type: ignore[operator]
            keep.append(s)
    return keep
