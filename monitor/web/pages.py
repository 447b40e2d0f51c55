"""Server-rendered pages (Jinja2, Chinese). Every handler starts from the asker's scope."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from monitor.show.labels import capped_note
from monitor.show.marked import marked_posts
from monitor.show.timeline import finding_timeline
from monitor.show.wording import deadline_words, finding_title, linked
from monitor.store import changes, history
from monitor.store.blobs import BlobCorrupt
from monitor.store.findings import AckError, acknowledge
from monitor.web import data
from monitor.web.artifacts import artifact_response, is_image, is_text
from monitor.web.auth import Principal
from monitor.web.deps import (
    DB,
    NotFound,
    Now,
    PageUser,
    XApp,
)
from monitor.web.paging import link
from monitor.web.rectify import Posted, loop_view
from monitor.web.reports import FORMATS, report_response
from monitor.web.roles import ACK
from probes.checks.kinds import KINDS

router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, user: Principal | None, **ctx: Any) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, name, {"user": user, **ctx})


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    target = unquote(target or "")
    bad = target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target)
    if not target.startswith("/") or bad:
        return "/"
    return target


# -- snapshots --------------------------------------------------------------------------------


def _visible_snapshot(session: Any, user: Principal, snapshot_id: int) -> history.SnapshotDetail:
    if data.snapshot_account(session, user, snapshot_id) is None:
        raise NotFound
    detail = history.snapshot_detail(session, snapshot_id)
    if detail is None:
        raise NotFound
    return detail


@router.get("/snapshots/{snapshot_id}")
def snapshot_page(
    request: Request, session: DB, user: PageUser, xapp: XApp, snapshot_id: int
) -> Response:
    detail = _visible_snapshot(session, user, snapshot_id)
    history.verify_artifacts(xapp.blobs, detail.artifacts)
    history.verify_screenshots(xapp.blobs, detail.screenshots)  # the pictures' blobs too
    previous = history.account_history(
        session, detail.summary.account_id, before_id=snapshot_id, limit=1
    )
    facts = dict(detail.facts)
    profile = facts.pop("profile", None) or {}
    # only what the platform told us: a reader that gives no bio or followers leaves no row
    profile = {k: v for k, v in profile.items() if v not in (None, "", [], {})}
    posts = facts.pop("posts", None) or []
    return render(
        request, "snapshot.html", user, d=detail, s=detail.summary, profile=profile,
        posts=posts, other_facts=facts, previous=previous[0] if previous else None,
        is_image=is_image, is_text=is_text, capped=capped_note(facts),
    )  # fmt: skip


@router.get("/snapshots/{snapshot_id}/artifacts/{index}")
def snapshot_artifact(
    session: DB, user: PageUser, xapp: XApp, snapshot_id: int, index: int, download: bool = False
) -> Response:
    return artifact(session, user, xapp, snapshot_id, index, download)


def artifact(
    session: Any, user: Principal, xapp: Any, snapshot_id: int, index: int, download: bool
) -> Response:
    detail = _visible_snapshot(session, user, snapshot_id)
    if not 0 <= index < len(detail.artifacts):
        raise NotFound
    info = detail.artifacts[index]
    try:
        blob = history.read_artifact(xapp.blobs, info)
    except BlobCorrupt as e:
        raise HTTPException(410, f"证据文件缺失或已损坏：{e}") from e
    return artifact_response(blob, info, snapshot_id, download=download)


@router.get("/diff")
def diff_page(
    request: Request,
    session: DB,
    user: PageUser,
    a: Annotated[int, Query()],
    b: Annotated[int, Query()],
) -> Response:
    for sid in (a, b):
        if data.snapshot_account(session, user, sid) is None:
            raise NotFound
    try:
        d = changes.diff_snapshots(session, a, b)
    except ValueError as e:
        raise HTTPException(400, str(e)) from e
    account = data.get_account(session, user, d.account_id)
    return render(request, "diff.html", user, d=d, account=account)


@router.get("/findings/{finding_id}")
def finding_page(
    request: Request, session: DB, user: PageUser, now: Now, xapp: XApp, finding_id: int
) -> Response:
    row = data.get_finding(session, user, finding_id)
    if row is None:
        raise NotFound
    f, settings = row.f, xapp.settings
    known = KINDS.get(f.kind)
    # the evidence picture, inline: the latest look that still shows an open problem, the
    # look that found a resolved one (the latest shows it gone)
    sid = f.last_snapshot_id if f.status == "open" else f.first_snapshot_id
    shot = history.snapshot_detail(session, sid) if sid is not None else None
    if shot is not None and shot.screenshots:
        history.verify_screenshots(xapp.blobs, shot.screenshots)
    else:
        shot = None
    return render(
        request, "finding.html", user, f=f, a=row.a, unit_name=row.unit_name, now=now,
        marked=marked_posts(f.evidence), shot=shot,
        steps=finding_timeline(session, finding_id, settings.channel_url),
        detail=linked(f.detail), title=finding_title(f.title, f.kind, row.a.platform),
        deadline=deadline_words(f.deadline, now, known.remedy if known else "整改",
                                settings.timezone) if f.status == "open" else "",
        loop=loop_view(session, f),
    )  # fmt: skip


@router.post("/findings/{finding_id}/ack")
def ack_finding(
    form: Posted,
    xapp: XApp,
    note: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    form.require(ACK, "您的角色无权确认问题。")
    note = note.strip()[:2000]
    try:
        acknowledge(form.session, form.finding_id, by=form.user.name, note=note, now=form.now,
                    tz=xapp.settings.timezone)  # fmt: skip
    except AckError as e:
        raise HTTPException(409, str(e)) from e
    form.record("ack", {"note": note} if note else None)
    target = safe_next(back) if back else "/findings"
    path, _, query = target.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query) if k != "done"]  # the list as it was
    return RedirectResponse(link(path, dict(kept), done=form.finding_id), status_code=303)


# -- reports ----------------------------------------------------------------------------------


@router.get("/reports")
def reports_page(request: Request, session: DB, user: PageUser, now: Now, xapp: XApp) -> Response:
    from monitor.report import Period

    periods = [Period.containing(now, xapp.settings.timezone)]  # this quarter, then earlier
    for _ in range(3):
        periods.append(periods[-1].previous())
    return render(
        request, "reports.html", user, periods=periods, units=data.unit_options(session, user),
        formats=list(FORMATS),
    )  # fmt: skip


@router.get("/reports/download")
def report_download(
    session: DB,
    user: PageUser,
    now: Now,
    xapp: XApp,
    period: str = "",
    unit: str | None = None,
    format: str = "xlsx",
) -> Response:
    return report_response(session, xapp, user, period, unit or None, format, now)
