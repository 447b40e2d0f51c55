"""What duty officers do: acknowledge a finding."""

from __future__ import annotations

from typing import Annotated

import typer

from monitor.cli.common import EXIT_USAGE, fail, open_app, out, print_json


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
    as_json: Annotated[bool, typer.Option("--json", help="机器可读的 JSON 输出")] = False,
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
