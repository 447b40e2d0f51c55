"""整改 → recheck → 复核 in the console (``monitor.store.rectify``).

``/rectify/<token>`` is the one page anybody may open without a login: the signed link in a
unit's message grants 已整改 for one finding, until it expires, and nothing else — no menu,
no other finding, no data beyond that finding in words. Logged-in users say 已整改 from the
finding's page (right ``rectify``); supervisors work the 复核 queue at ``/review`` (right
``review``). Every action goes to the audit log as well as the finding's events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from alerts.evidence import Room
from alerts.formats import Text
from monitor.evidence import describe
from monitor.store import audit, history
from monitor.store.models import Account, Finding, FindingEvent, Unit
from monitor.store.rectify import (
    BY_LINK,
    NOTE_MAX,
    LoopError,
    confirm,
    confirmed_ids,
    dismiss,
    link_key,
    mark_rectified,
    pending_rechecks,
    read_token,
)
from monitor.store.sealing import SealError
from monitor.timefmt import zone
from monitor.web import data
from monitor.web.auth import Principal
from monitor.web.deps import DB, NotFound, Now, PageUser, XApp, actor, page_right, require_csrf
from monitor.web.roles import RECTIFY, REVIEW
from probes.checks import kinds

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Principal, Depends(page_right(REVIEW))]
LOOP_EVENTS = ("rectified", "recheck_passed", "recheck_failed", "recheck_incomplete",
               "confirmed", "dismissed")  # fmt: skip
QUEUE_MAX = 200  # rows the 复核 page lists at once (the oldest first)


def _render(request: Request, name: str, status: int = 200, **ctx: Any) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, name, {"user": None, **ctx}, status_code=status)


@dataclass
class FindingPost:
    """A posted form about one finding, already checked as every such form is: the user's
    own form (CSRF) about a finding in their scope (else NotFound, as if there were none)."""

    request: Request
    session: Session
    user: Principal
    now: datetime
    finding_id: int

    def require(self, right: str, refused: str) -> None:
        """The role's ``right`` (else 403 ``refused``; the 复核 forms' right is their
        route's dependency)."""
        if not self.user.may(right):
            raise HTTPException(403, refused)

    def step(self, action: str, step: Callable[[], object], detail: dict | None = None) -> None:
        """One step of the loop: ``step`` done (its LoopError is the HTTP answer), written
        to the audit log as ``action``, and committed."""
        try:
            step()
        except LoopError as e:
            raise HTTPException(e.status, str(e)) from e
        self.record(action, detail)

    def record(self, action: str, detail: dict[str, Any] | None = None) -> None:
        """The action written to the audit log, and the transaction committed."""
        audit.record(self.session, actor(self.request, self.user), action, self.now,
                     target=f"问题 #{self.finding_id}", detail=detail)  # fmt: skip
        self.session.commit()


def finding_post(
    request: Request,
    session: DB,
    user: PageUser,
    now: Now,
    finding_id: int,
    csrf: Annotated[str, Form()] = "",
) -> FindingPost:
    require_csrf(user, csrf)
    if data.get_finding(session, user, finding_id) is None:
        raise NotFound
    return FindingPost(request, session, user, now, finding_id)


Posted = Annotated[FindingPost, Depends(finding_post)]


def _reviewed(user: Reviewer, form: Posted) -> FindingPost:
    return form


Reviewed = Annotated[FindingPost, Depends(_reviewed)]


PAGE_ROOM = Room(5, 200)  # evidence a page lists: posts, characters of each quote


def evidence_words(f: Finding, tz: str, now: datetime, room: Room = PAGE_ROOM) -> list[str]:
    """The finding's evidence in words, as its message says it."""
    return [line.strip() for line in describe(f.evidence, Text(), zone(tz), now, room,
                                              said=f"{f.title}\n{f.detail}")]  # fmt: skip


# -- the signed link ------------------------------------------------------------------------------


def _link(xapp: Any, token: str, now: datetime) -> Any:
    try:
        key = link_key(xapp.settings.session_key_file)
    except SealError as e:
        raise LoopError(f"暂时无法核对链接：{e}", 503) from e
    return read_token(key, token, now)


def _link_page(
    request: Request, session: Session, xapp: Any, token: str, now: datetime, **ctx: Any
) -> Response:
    status = ctx.pop("status", 200)
    try:
        link = _link(xapp, token, now)
    except LoopError as e:
        return _render(request, "rectify.html", e.status, refused=str(e))
    f = session.get(Finding, link.finding_id)
    account = session.get(Account, f.account_id) if f is not None else None
    if f is None or account is None:
        return _render(request, "rectify.html", 404, refused="该问题已不存在。")
    unit = session.get(Unit, account.owner_code)
    tz = xapp.settings.timezone
    return _render(
        request, "rectify.html", status, f=f, a=account, unit_name=unit.name if unit else "",
        words=evidence_words(f, tz, now), pending=pending_rechecks(session, [f.id or 0]),
        expires=link.expires_at, token=token, note_max=NOTE_MAX, now=now, **ctx,
    )  # fmt: skip


@router.get("/rectify/{token}")
def rectify_page(
    request: Request, session: DB, xapp: XApp, now: Now, token: str, done: int = 0
) -> Response:
    return _link_page(request, session, xapp, token, now, done=bool(done))


@router.post("/rectify/{token}")
def rectify_by_link(
    request: Request,
    session: DB,
    xapp: XApp,
    now: Now,
    token: str,
    note: Annotated[str, Form()] = "",
) -> Response:
    try:
        link = _link(xapp, token, now)
        mark_rectified(session, link.finding_id, note=note, by=BY_LINK, now=now,
                       link_id=link.link_id, tz=xapp.settings.timezone)  # fmt: skip
    except LoopError as e:
        session.rollback()
        return _link_page(request, session, xapp, token, now, error=str(e), note=note,
                          status=e.status)  # fmt: skip
    audit.record(session, actor(request, BY_LINK), "rectify", now,
                 target=f"问题 #{link.finding_id}", detail={"link": link.link_id})  # fmt: skip
    session.commit()
    return RedirectResponse(f"/rectify/{token}?done=1", status_code=303)


# -- the console -----------------------------------------------------------------------------------


@router.post("/findings/{finding_id}/rectify")
def rectify_in_console(form: Posted, xapp: XApp, note: Annotated[str, Form()] = "") -> Response:
    form.require(RECTIFY, "您的角色无权提交整改。")
    step = partial(mark_rectified, form.session, form.finding_id, note=note, by=form.user.name,
                   now=form.now, tz=xapp.settings.timezone)  # fmt: skip
    form.step("rectify", step)
    return RedirectResponse(f"/findings/{form.finding_id}", status_code=303)


@dataclass
class QueueRow:
    f: Finding
    a: Account
    unit_name: str
    words: list[str] = field(default_factory=list)


@router.get("/review")
def review_page(request: Request, session: DB, user: Reviewer, now: Now, xapp: XApp,
                done: int = 0) -> Response:  # fmt: skip
    """The open findings of the judgement kinds nobody has confirmed yet, oldest first."""
    q = (
        select(Finding, Account, col(Unit.name))
        .join(Account, col(Account.id) == col(Finding.account_id))
        .join(Unit, col(Unit.code) == col(Account.owner_code), isouter=True)
        .where(Finding.status == "open", col(Finding.kind).in_(sorted(kinds.REVIEW_KINDS)))
        .order_by(col(Finding.opened_at), col(Finding.id))
    )
    rows = session.exec(data.scoped(q, user, Account.owner_code)).all()
    done_ids = confirmed_ids(session, [f.id for f, _, _ in rows if f.id is not None])
    tz = xapp.settings.timezone
    waiting = [
        QueueRow(f, a, name or a.owner_code, evidence_words(f, tz, now, Room(2, 100)))
        for f, a, name in rows
        if f.id not in done_ids
    ]
    return request.app.state.templates.TemplateResponse(
        request, "review.html",
        {"user": user, "rows": waiting[:QUEUE_MAX], "total": len(waiting), "now": now,
         "done": done, "note_max": NOTE_MAX},
    )  # fmt: skip


@router.post("/findings/{finding_id}/confirm")
def confirm_finding(form: Reviewed, note: Annotated[str, Form()] = "") -> Response:
    by, now = form.user.name, form.now
    form.step(
        "review_confirm", partial(confirm, form.session, form.finding_id, by=by, note=note, now=now)
    )
    return RedirectResponse(f"/review?done={form.finding_id}", status_code=303)


@router.post("/findings/{finding_id}/dismiss")
def dismiss_finding(form: Reviewed, reason: Annotated[str, Form()] = "") -> Response:
    by, now = form.user.name, form.now
    step = partial(dismiss, form.session, form.finding_id, by=by, reason=reason, now=now)
    form.step("review_dismiss", step, {"reason": reason.strip()})
    return RedirectResponse(f"/review?done={form.finding_id}", status_code=303)


# -- what the finding's page shows of the loop ----------------------------------------------------


@dataclass
class Side:
    """One side of before/after: a snapshot, its first posts and its picture if drawn."""

    snapshot_id: int
    taken_at: datetime | None
    posts: list[dict[str, Any]]
    picture: int | None  # index of its first drawn page picture


@dataclass
class LoopView:
    events: list[FindingEvent]
    pending: datetime | None
    review: bool  # a judgement kind
    confirmed: bool
    before: Side | None = None
    after: Side | None = None


def _side(session: Session, snapshot_id: int | None) -> Side | None:
    detail = history.snapshot_detail(session, snapshot_id) if snapshot_id else None
    if detail is None or snapshot_id is None:
        return None
    posts = [p for p in (detail.facts.get("posts") or []) if isinstance(p, dict)][:3]
    drawn = [i for i, s in enumerate(detail.screenshots) if s.png_sha256]
    return Side(snapshot_id, detail.summary.taken_at, posts, drawn[0] if drawn else None)


def loop_view(session: Session, f: Finding) -> LoopView:
    """已整改, its recheck and 复核 as the finding's page shows them (``_finding_loop.html``)."""
    events = list(
        session.exec(
            select(FindingEvent)
            .where(FindingEvent.finding_id == f.id, col(FindingEvent.event).in_(LOOP_EVENTS))
            .order_by(col(FindingEvent.at), col(FindingEvent.id))
        ).all()
    )
    view = LoopView(
        events,
        pending_rechecks(session, [f.id or 0]).get(f.id or 0),
        f.kind in kinds.REVIEW_KINDS,
        any(e.event == "confirmed" for e in events),
    )
    passed = [e for e in events if e.event == "recheck_passed"]
    if passed:
        view.before = _side(session, passed[-1].detail.get("before") or f.first_snapshot_id)
        view.after = _side(session, passed[-1].detail.get("after") or passed[-1].snapshot_id)
    return view
