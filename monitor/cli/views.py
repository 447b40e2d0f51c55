"""Read-only listings: accounts, findings, history. Each has ``--json``, in the shapes of
``monitor.show.views`` (shared with the console's API); on a terminal a table that fits its
width, piped every cell in full (``monitor.show.terminal``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer

from monitor.cli.common import EXIT_PROBLEMS, EXIT_USAGE, fail, local, open_app, out, print_json
from monitor.cli.options import JsonOpt
from monitor.show.terminal import (
    SEVERITY_STYLE,
    Col,
    cell,
    is_terminal,
    limited,
    lines,
    terminal_table,
    write_tsv,
)

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from monitor.store.models import Account, Unit

LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        min=0,
        show_default=False,
        help="最多显示多少行（0 为全部；默认在终端显示 100 行，管道和 --json 全部输出）",
    ),
]
UnitOpt = Annotated[str | None, typer.Option(metavar="单位编码", help="只看该主办单位")]
ManyOpt = list[str] | None


def accounts(
    ctx: typer.Context,
    unit: UnitOpt = None,
    platform: Annotated[
        ManyOpt, typer.Option(metavar="平台", help="只看这些平台，如 微博、wechat（可重复）")
    ] = None,
    limit: LimitOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """列出登记的账号：平台、名称、主办单位、更新规则、状态。"""
    from sqlmodel import Session, col, select

    from monitor.cli import filters
    from monitor.store.models import Account, Unit

    wanted = filters.platforms(platform) if platform else None
    with open_app(ctx) as app, Session(app.engine) as s:
        q = select(Account, Unit).join(Unit, col(Unit.code) == col(Account.owner_code))
        if unit:
            q = q.where(Account.owner_code == unit)
        if wanted:
            q = q.where(col(Account.platform).in_(sorted(wanted)))
        rows = s.exec(q.order_by(col(Account.id))).all()
        if unit and not rows and s.get(Unit, unit) is None:
            fail(f"单位 '{unit}' 不在登记表中", EXIT_USAGE)
        if as_json:
            from monitor.show.views import account_dict

            print_json([account_dict(a, u) for a, u in rows])
            return
        _print_accounts(out(ctx), list(rows), app.rulesets, limit)


def _print_accounts(
    console: Console, rows: list[tuple[Account, Unit]], rulesets: dict, limit: int | None
) -> None:
    from monitor.registry.accounts import ruleset_for
    from monitor.registry.columns import KINDS, READER_ALIASES
    from monitor.show.labels import PLATFORM, STATUS, label
    from probes.checks.rules import ruleset_title

    shown, more = limited(console, rows, limit)
    if not is_terminal(console):
        write_tsv(
            console,
            ["编号", "平台", "名称", "平台账号ID", "地址", "读取方式", "主办单位编码", "主办单位",
             "类型", "更新规则", "状态"],
            [
                (a.id, label(PLATFORM, a.platform), a.name, a.handle, a.url,
                 _reader(a, READER_ALIASES), a.owner_code, u.name,
                 KINDS.get(a.kind, (a.kind,))[0], ruleset_title(ruleset_for(a), rulesets),
                 label(STATUS, a.status))
                for a, u in shown
            ],
        )  # fmt: skip
        return
    t = terminal_table(
        [Col("编号"), Col("平台"), Col("名称", wrap=True), Col("主办单位", wrap=True),
         Col("更新规则", wrap=True)],
        title=f"账号 {len(rows)} 个",
    )  # fmt: skip
    for a, u in shown:
        closed = a.status == "closed"  # not patrolled: dimmed, and said so
        t.add_row(
            cell(a.id, "dim" if closed else ""),
            cell(label(PLATFORM, a.platform)),
            lines((a.name, "dim" if closed else ""), ("已关停" if closed else "", "dim")),
            cell(u.name),
            cell(ruleset_title(ruleset_for(a), rulesets)),
        )
    console.print(t)
    _more(console, more, "个账号", "用 --unit、--platform 筛选")


def _reader(a: Account, aliases: dict[str, tuple[str, ...]]) -> str:
    """How the account is read, in words: 订阅源, 网页, or the platform's own page."""
    from monitor.registry.accounts import reader_for

    reader = reader_for(a)
    if reader in aliases:
        return aliases[reader][0]
    return "客户端下载与应用商店" if reader == "app" else "平台页面"


def _more(console: Console, more: int, what: str, how: str) -> None:
    if more:
        console.print(
            f"[dim]另有 {more} {what}未显示：--limit 0 显示全部，或{how}。[/]", soft_wrap=True
        )


def findings(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="包括已解决的问题")] = False,
    unit: UnitOpt = None,
    account: Annotated[str | None, typer.Option(metavar="账号编号", help="只看该账号")] = None,
    severity: Annotated[
        ManyOpt,
        typer.Option(metavar="级别", help="只看这些级别：单项否决、严重、预警、提示（可重复）"),
    ] = None,
    platform: Annotated[
        ManyOpt, typer.Option(metavar="平台", help="只看这些平台，如 微博、抖音（可重复）")
    ] = None,
    kind: Annotated[
        ManyOpt,
        typer.Option(
            metavar="种类",
            help="只看这些问题：种类（如 长期未更新、stale）或问题类别（如 隐私泄露），可重复",
        ),
    ] = None,
    limit: LimitOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """列出发现的问题（默认只列未解决的），最紧急的在前。

    按级别（单项否决、严重、预警、提示）再按整改期限排序。有未解决的问题时退出码为 1。
    """
    import sqlalchemy as sa

    from monitor.cli import filters
    from monitor.store.models import Account, Finding, Unit

    levels = filters.severities(severity) if severity else None
    where = filters.platforms(platform) if platform else None
    what = filters.kinds(kind) if kind else None

    piped = not as_json and not is_terminal(out(ctx))  # the rule in words: a pipe's column
    with open_app(ctx, rules=piped) as app, app.engine.connect() as conn:
        # rows of the tables, not ORM objects: SQLModel builds a pydantic object for every
        # instance and the ORM's first query configures every mapper, most of the time of a
        # listing of thousands (bench/cli.py); the views read the rows' attributes alike
        f_, a_, u_ = (m.__table__.c for m in (Finding, Account, Unit))  # type: ignore[attr-defined]
        # a table needs a few columns; --json every one (times and evidence cost their decoding)
        shown = (f_.id, f_.account_id, f_.kind, f_.severity, f_.status, f_.title, f_.deadline,
                 f_.opened_at, f_.acknowledged_by, f_.rule)  # fmt: skip
        q = (
            sa.select(
                *((Finding.__table__,) if as_json else shown),  # type: ignore[attr-defined]
                a_.name.label("account_name"),
                a_.platform.label("account_platform"),
                a_.owner_code.label("account_owner"),
                u_.name.label("unit_name"),
            )
            .join_from(Finding.__table__, Account.__table__, a_.id == f_.account_id)  # type: ignore[attr-defined]
            .join(Unit.__table__, u_.code == a_.owner_code)  # type: ignore[attr-defined]
        )
        if not show_all:
            q = q.where(f_.status == "open")
        if unit:
            q = q.where(a_.owner_code == unit)
        if account:
            q = q.where(f_.account_id == account)
        if levels:
            q = q.where(f_.severity.in_(sorted(levels)))
        if where:
            q = q.where(a_.platform.in_(sorted(where)))
        if what:
            q = q.where(f_.kind.in_(sorted(what)))
        rows = sorted(conn.execute(q).all(), key=_urgency)
        if (
            unit
            and not rows
            and conn.execute(sa.select(u_.code).where(u_.code == unit)).first() is None
        ):
            fail(f"单位 '{unit}' 不在登记表中", EXIT_USAGE)
        tz, now = app.settings.timezone, app.clock()
        if as_json:
            from monitor.show.views import finding_dict

            print_json([finding_dict(f, _account(f), tz) for f in rows])
        else:
            rulesets = app.rulesets if piped else {}
            _print_findings(out(ctx), rows, tz, now, rulesets, show_all=show_all, limit=limit)
    if any(f.status == "open" for f in rows):
        raise typer.Exit(EXIT_PROBLEMS)


class AccountRef(NamedTuple):
    """What a finding's row says of its account (``monitor.show.views.finding_dict`` reads)."""

    id: str
    name: str
    platform: str
    owner_code: str


def _account(row: Any) -> AccountRef:
    return AccountRef(row.account_id, row.account_name, row.account_platform, row.account_owner)


def _urgency(f: Any) -> tuple:
    """Open before resolved, the gravest first (巡查异常 last), the nearest (or most
    overdue) deadline first: the console's order too (``monitor.show.wording.urgency``)."""
    from monitor.show.wording import urgency

    deadline = f.deadline.timestamp() if f.deadline else float("inf")
    return (f.status != "open", urgency(f.kind, f.severity), deadline, -f.opened_at.timestamp())


def _print_findings(
    console: Console,
    rows: list[Any],  # a finding's columns, and account_name, account_platform, unit_name
    tz: str,
    now: datetime,
    rulesets: dict,
    *,
    show_all: bool,
    limit: int | None,
) -> None:
    from monitor.show.labels import KIND_CATEGORY, PLATFORM, SEVERITY, STATUS, label
    from monitor.show.wording import deadline_text, finding_title, kind_label, overdue_days
    from probes.checks.rules import rule_text

    shown, more = limited(console, rows, limit)
    if not is_terminal(console):
        words: dict[str, str] = {}  # a few distinct rules among thousands of findings

        def rule_words(rule: str) -> str:
            if rule not in words:
                # a code with no words is left out: the kind beside it says what was found
                words[rule] = rule_text(rule, rulesets, codes=False)
            return words[rule]

        write_tsv(
            console,
            ["编号", "级别", "状态", "账号编号", "账号", "平台", "主办单位", "问题", "种类",
             "问题类别", "依据规则", "整改期限", "超期", "发现于", "确认人"],
            [
                (f.id, label(SEVERITY, f.severity), label(STATUS, f.status), f.account_id,
                 f.account_name, label(PLATFORM, f.account_platform), f.unit_name,
                 finding_title(f.title, f.kind, f.account_platform),
                 kind_label(f.kind, f.account_platform),
                 label(KIND_CATEGORY, f.kind), rule_words(f.rule),
                 local(f.deadline, tz) if f.deadline else "",
                 deadline_text(f.deadline, now, tz) if overdue_days(f.deadline, now) is not None
                 and f.status == "open" else "",
                 local(f.opened_at, tz), f.acknowledged_by or "")
                for f in shown
            ],
        )  # fmt: skip
        return
    if not rows:
        console.print("没有问题。" if show_all else "没有未解决的问题。")
        return
    columns = [
        Col("编号", justify="right"),
        Col("级别"),
        Col("账号", wrap=True, ratio=2),
        Col("问题", wrap=True, ratio=3, min_width=16),
        Col("整改期限"),
    ]
    open_count = sum(1 for f in rows if f.status == "open")
    title = (
        f"问题 {len(rows)} 个（未解决 {open_count} 个）"
        if show_all
        else f"未解决的问题 {len(rows)} 个"
    )
    t = terminal_table(columns, title=title, separate=True)
    for f in shown:
        days = overdue_days(f.deadline, now) if f.status == "open" else None
        status = "" if f.status == "open" else label(STATUS, f.status)
        t.add_row(
            cell(f.id),
            lines(
                (label(SEVERITY, f.severity), SEVERITY_STYLE.get(f.severity, "")), (status, "dim")
            ),
            lines(
                (f.account_name, ""), (label(PLATFORM, f.account_platform), "dim"),
                (f.unit_name, "dim"),
            ),
            lines(
                (finding_title(f.title, f.kind, f.account_platform), ""),
                (label(KIND_CATEGORY, f.kind), "dim"),
            ),
            cell(deadline_text(f.deadline, now, tz), "red" if days is not None else ""),
        )  # fmt: skip
    console.print(t)
    _more(console, more, "个问题", "用 --unit、--severity、--platform、--kind 筛选")


def history(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(metavar="账号编号", help="要查看的账号")],
    limit: Annotated[int, typer.Option(help="最多显示多少条快照", min=1, max=1000)] = 20,
    before: Annotated[
        int | None,
        typer.Option("--before", metavar="快照编号", help="从该快照之前接着列（翻页）"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """一个账号的快照历史，最新的在前，以及它的问题。"""
    from sqlmodel import Session, col, select

    from monitor.show.views import account_dict, finding_dict
    from monitor.store.history import account_history
    from monitor.store.models import Account, Finding, Unit

    with open_app(ctx) as app, Session(app.engine) as s:
        a = s.get(Account, account)
        if a is None:
            fail(f"账号 '{account}' 不在登记表中", EXIT_USAGE)
        snaps = account_history(s, account, before_id=before, limit=limit)
        next_before = snaps[-1].id if len(snaps) == limit else None
        found = s.exec(
            select(Finding).where(Finding.account_id == account).order_by(col(Finding.opened_at))
        ).all()
        tz = app.settings.timezone
        if as_json:
            print_json(
                {
                    "account": account_dict(a, s.get(Unit, a.owner_code)),
                    "snapshots": [{**x.to_dict(tz), "account": x.account_id} for x in snaps],
                    "next_before": next_before,
                    "findings": [finding_dict(f, a, tz) for f in found],
                }
            )
            return
        _print_history(out(ctx), a, snaps, found, next_before, tz)


def _print_history(
    console: Console, a: Account, snaps: list, found: list, next_before: int | None, tz: str
) -> None:
    from monitor.show.labels import KIND, OUTCOME, STATUS, label

    if not is_terminal(console):
        write_tsv(
            console,
            ["快照", "时间", "结果", "最新发布", "条数", "说明"],
            [(x.id, local(x.taken_at, tz), label(OUTCOME, x.outcome),
              local(x.latest_post_at, tz), x.post_count, x.detail) for x in snaps],
        )  # fmt: skip
    else:
        t = terminal_table(
            [Col("快照", justify="right"), Col("时间"), Col("结果"), Col("最新发布"),
             Col("条数", justify="right"), Col("说明", wrap=True)],
            title=f"{a.name}的快照",
        )  # fmt: skip
        for x in snaps:
            bad = x.outcome != "ok"
            t.add_row(
                cell(x.id), cell(local(x.taken_at, tz)),
                cell(label(OUTCOME, x.outcome), "yellow" if bad else ""),
                cell(local(x.latest_post_at, tz)), cell(x.post_count), cell(x.detail),
            )  # fmt: skip
        console.print(t)
    if next_before is not None:
        console.print(f"更早的快照：xuncha history {a.id} --before {next_before}")
    for f in found:
        console.out(
            f"问题 #{f.id}（{label(STATUS, f.status)}）{label(KIND, f.kind)}：{f.title}",
            highlight=False,
        )
