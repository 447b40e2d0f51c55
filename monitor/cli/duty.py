"""What duty officers and supervisors do: acknowledge a finding, say 已整改, 复核 it."""

from __future__ import annotations

from typing import Annotated

import typer

from monitor.cli.common import EXIT_USAGE, fail, open_app, out, print_json
from monitor.cli.options import JsonOpt


def ack(
    ctx: typer.Context,
    finding: Annotated[
        int, typer.Argument(metavar="问题编号", help="要确认的问题（编号见 xuncha findings）")
    ],
    note: Annotated[
        str, typer.Option("--note", "-m", metavar="说明", help="如“已通知运营人员今日更新”")
    ] = "",
    by: Annotated[
        str | None, typer.Option("--by", metavar="姓名", help="确认人（默认当前登录用户）")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """确认已知悉一个问题，记录确认人与时间；确认后不再重复提醒。"""
    import getpass

    from rich.markup import escape

    from monitor.show.views import finding_dict
    from monitor.store import audit
    from monitor.store.engine import session_scope
    from monitor.store.findings import AckError, acknowledge
    from monitor.store.models import Account

    who = by or getpass.getuser()
    with open_app(ctx) as app, session_scope(app.engine) as s:
        now = app.clock()
        try:
            f = acknowledge(s, finding, by=who, note=note, now=now, tz=app.settings.timezone)
        except AckError as e:
            fail(str(e), EXIT_USAGE)
        detail = {"by": who, **({"note": note} if note else {})}
        audit.record(s, audit.cli_actor(), "ack", now, target=f"问题 #{finding}", detail=detail)
        account = s.get(Account, f.account_id)
        assert account is not None
        if as_json:
            print_json(finding_dict(f, account, app.settings.timezone))
        else:
            out(ctx).print(
                f"已确认问题 #{f.id}（{escape(account.name)}：{escape(f.title)}），"
                f"确认人 {escape(who)}"
            )


def rectify(
    ctx: typer.Context,
    finding: Annotated[int, typer.Argument(metavar="问题编号", help="已整改的问题")],
    note: Annotated[
        str, typer.Option("--note", "-m", metavar="整改说明", help="做了什么（必填，最多 500 字）")
    ] = "",
    by: Annotated[
        str | None, typer.Option("--by", metavar="姓名", help="提交人（默认当前登录用户）")
    ] = None,
) -> None:
    """提交已整改：该账号立即复查（运行中的 xuncha run 执行），复查结果告知主办单位。"""
    _loop(ctx, "rectify", finding, note, by)


# the finding a 复核 is about, and who made it: confirm and dismiss ask alike
Reviewed = Annotated[int, typer.Argument(metavar="问题编号", help="待复核的问题")]
Reviewer = Annotated[
    str | None, typer.Option("--by", metavar="姓名", help="复核人（默认当前登录用户）")
]


def confirm(
    ctx: typer.Context,
    finding: Reviewed,
    note: Annotated[str, typer.Option("--note", "-m", metavar="备注", help="可选")] = "",
    by: Reviewer = None,
) -> None:
    """复核确认：程序的判定无误，照常计入通报。"""
    _loop(ctx, "review_confirm", finding, note, by)


def dismiss(
    ctx: typer.Context,
    finding: Reviewed,
    reason: Annotated[
        str, typer.Option("--reason", "-m", metavar="原因", help="为什么是误报（必填）")
    ] = "",
    by: Reviewer = None,
) -> None:
    """复核认定为误报：问题关闭，不计入通报；同一内容不再提出。"""
    _loop(ctx, "review_dismiss", finding, reason, by)


_DONE = {"rectify": "已提交整改，将立即复查", "review_confirm": "已复核确认",
         "review_dismiss": "已认定为误报并关闭"}  # fmt: skip


def _loop(ctx: typer.Context, action: str, finding: int, words: str, by: str | None) -> None:
    """One step of 整改 → 复查 → 复核 (``monitor.store.rectify``), in the audit log too."""
    import getpass

    from monitor.store import audit
    from monitor.store.engine import session_scope
    from monitor.store.rectify import LoopError, confirm, dismiss, mark_rectified

    who = by or getpass.getuser()
    with open_app(ctx) as app, session_scope(app.engine) as s:
        now = app.clock()
        try:
            if action == "rectify":
                mark_rectified(s, finding, note=words, by=who, now=now, tz=app.settings.timezone)
            elif action == "review_confirm":
                confirm(s, finding, by=who, note=words, now=now)
            else:
                dismiss(s, finding, by=who, reason=words, now=now)
        except LoopError as e:
            fail(str(e), EXIT_USAGE)
        audit.record(s, audit.cli_actor(), action, now, target=f"问题 #{finding}",
                     detail={"by": who, **({"note": words} if words else {})})  # fmt: skip
        out(ctx).print(f"问题 #{finding}：{_DONE[action]}（{who}）")
