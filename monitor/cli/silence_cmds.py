"""``xuncha silence``: time-boxed mutes and maintenance windows, with who and why."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from monitor.cli.chinese import Typer
from monitor.cli.common import EXIT_USAGE, fail, iso, local, open_app, out, print_json
from monitor.cli.options import ByOpt, JsonOpt
from monitor.timefmt import zone_label

if TYPE_CHECKING:
    from monitor.store.models import Silence

app = Typer(help="静默与维护窗口：期间照常巡查和记录，只是不发消息。")

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)\s*$", re.I)


def parse_span(text: str) -> timedelta:
    m = _SPAN.match(text)
    if not m:
        raise typer.BadParameter("时长写作 30m、2h 或 3d")
    n, unit = float(m.group(1)), m.group(2).lower()
    return (
        timedelta(minutes=n)
        if unit in ("m", "min")
        else (timedelta(hours=n) if unit == "h" else timedelta(days=n))
    )


def parse_local(text: str, tz: str) -> datetime:
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"时间写作 2026-11-25 18:00（{zone_label(tz)}）") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(tz))).astimezone(UTC)


def silence_dict(s: Silence, tz: str) -> dict:
    return {
        "id": s.id,
        "kind": s.kind,
        "unit": s.unit_code,
        "account": s.account_id,
        "platform": s.platform,
        "finding_kind": s.finding_kind,
        "starts_at": iso(s.starts_at, tz),
        "ends_at": iso(s.expired_at or s.ends_at, tz),
        "by": s.created_by,
        "why": s.comment,
    }


@app.command("add")
def silence_add(
    ctx: typer.Context,
    why: Annotated[str, typer.Option("--why", metavar="原因", help="为什么静默（便于事后核查）")],
    unit: Annotated[
        str | None, typer.Option(metavar="单位编码", help="该单位（含下级单位）")
    ] = None,
    account: Annotated[str | None, typer.Option(metavar="账号编号", help="该账号")] = None,
    platform: Annotated[str | None, typer.Option(metavar="平台", help="该平台，如 weibo")] = None,
    kind: Annotated[str | None, typer.Option(metavar="种类", help="该种问题，如 stale")] = None,
    duration: Annotated[
        str | None, typer.Option("--for", metavar="时长", help="持续多久，如 30m、2h、3d")
    ] = None,
    until: Annotated[
        str | None, typer.Option(metavar="时间", help="结束时间，如 2026-11-25 18:00")
    ] = None,
    start: Annotated[str | None, typer.Option(metavar="时间", help="开始时间（默认现在）")] = None,
    maintenance: Annotated[
        bool, typer.Option("--maintenance", help="维护窗口（可不限范围）")
    ] = False,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """新建静默或维护窗口：期间照常巡查和记录，只是不发消息。

    范围用 --unit、--account、--platform、--kind 限定（可组合）；时长用 --for 或 --until。
    """
    import getpass

    from monitor.alerting.silences import KINDS, SilenceError, add
    from monitor.store import audit
    from monitor.store.engine import session_scope

    console = out(ctx)
    with open_app(ctx) as xapp:
        tz = xapp.settings.timezone
        now = xapp.clock()
        begins = parse_local(start, tz) if start else now
        if (duration is None) == (until is None):
            fail("请用 --for 或 --until 之一指定结束时间", EXIT_USAGE)
        ends = begins + parse_span(duration) if duration else parse_local(until or "", tz)
        with session_scope(xapp.engine) as s:
            try:
                row = add(
                    s,
                    now=now,
                    by=by or getpass.getuser(),
                    comment=why,
                    starts_at=begins,
                    ends_at=ends,
                    kind="maintenance" if maintenance else "silence",
                    unit_code=unit,
                    account_id=account,
                    platform=platform,
                    finding_kind=kind,
                )
            except SilenceError as e:
                fail(str(e), EXIT_USAGE)
            data = silence_dict(row, tz)
            scope = {k: v for k, v in (("unit", unit), ("account", account),
                                       ("platform", platform), ("kind", kind)) if v}  # fmt: skip
            detail = {"kind": row.kind, "why": why, "by": row.created_by, **scope,
                      "starts_at": begins.isoformat(), "ends_at": ends.isoformat()}  # fmt: skip
            audit.record(s, audit.cli_actor(), "silence_add", now, target=f"静默 #{row.id}",
                         detail=detail)  # fmt: skip
    if as_json:
        print_json(data)
    else:
        console.print(
            f"已建立{KINDS[data['kind']]} #{data['id']}：{local(begins, tz)} 至 {local(ends, tz)}"
        )


@app.command("list")
def silence_list(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="包括已结束的")] = False,
    as_json: JsonOpt = False,
) -> None:
    """列出生效中的静默与维护窗口。"""
    from sqlmodel import Session, col, select

    from monitor.alerting.silences import KINDS, active
    from monitor.store.models import Silence

    console = out(ctx)
    with open_app(ctx) as xapp, Session(xapp.engine) as s:
        now = xapp.clock()
        rows = (
            s.exec(select(Silence).order_by(col(Silence.id).desc())).all()
            if show_all
            else active(s, now)
        )
        tz = xapp.settings.timezone
        data = [silence_dict(r, tz) for r in rows]
    if as_json:
        print_json(data)
        return
    if not data:
        console.print("没有生效中的静默。")
    from monitor.show.labels import KIND, PLATFORM, label

    for r, d in zip(rows, data, strict=True):
        scope = "，".join(
            f"{k} {v}"
            for k, v in (("单位", r.unit_code), ("账号", r.account_id),
                         ("平台", r.platform and label(PLATFORM, r.platform)),
                         ("问题", r.finding_kind and label(KIND, r.finding_kind)))
            if v
        ) or "全部"  # fmt: skip
        console.out(
            f"#{d['id']} {KINDS[r.kind]} {scope}：{local(r.starts_at, tz)} 至 "
            f"{local(r.expired_at or r.ends_at, tz)}，{r.created_by}：{r.comment}",
            highlight=False,
        )


@app.command("expire")
def silence_expire(
    ctx: typer.Context,
    silence_id: Annotated[int, typer.Argument(metavar="静默编号", help="要结束的静默")],
) -> None:
    """提前结束一个静默；其间未通知的问题随即补发。"""
    from monitor.alerting.silences import SilenceError, expire
    from monitor.store import audit
    from monitor.store.engine import session_scope

    console = out(ctx)
    with open_app(ctx) as xapp, session_scope(xapp.engine) as s:
        now = xapp.clock()
        try:
            expire(s, silence_id, now)
        except SilenceError as e:
            fail(str(e), EXIT_USAGE)
        audit.record(s, audit.cli_actor(), "silence_expire", now, target=f"静默 #{silence_id}")
    console.print(f"静默 #{silence_id} 已结束")
