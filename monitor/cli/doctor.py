"""``xuncha doctor``: is this installation fit to patrol? Each line OK or a fix in plain words."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import text
from sqlmodel import Session, select

from monitor.cli.common import EXIT_PROBLEMS, console, state
from monitor.db import SchemaError, check_schema, make_engine
from monitor.models import Unit


def doctor(ctx: typer.Context) -> None:
    """检查配置、数据库、日历和通知渠道 (check config, database, calendar, channels)."""
    settings = state(ctx).settings  # an invalid config already exits 2 with the reason
    problems = 0

    def ok(msg: str) -> None:
        console.print(f"[green]OK[/]    {msg}")

    def bad(msg: str) -> None:
        nonlocal problems
        problems += 1
        console.print(f"[red]需处理[/] {msg}")

    ok("配置有效")
    engine = make_engine(settings.database_url)
    try:
        try:
            check_schema(engine)
            ok("数据库结构为最新")
        except SchemaError as e:
            bad(str(e))
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE TEMP TABLE xuncha_doctor (x int)"))
                conn.execute(text("DROP TABLE xuncha_doctor"))
            ok("数据库可写")
        except Exception as e:  # any driver error is worth showing as is
            bad(f"数据库不可写: {e}")
        try:
            with Session(engine) as s:
                units = s.exec(select(Unit)).all()
        except Exception:
            units = []
    finally:
        engine.dispose()

    free = shutil.disk_usage(settings.data_dir if settings.data_dir.exists() else "/").free
    if free < 1 << 30:
        bad(f"数据目录所在磁盘仅剩 {free >> 20} MiB，请清理或扩容")
    else:
        ok(f"磁盘剩余 {free >> 30} GiB")

    from probes.checks.calendar import WorkCalendar

    today = datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date()
    missing = WorkCalendar(extra_files=settings.calendar.extra_files).missing_years(today)
    if missing:
        years = "、".join(str(y) for y in missing)
        bad(
            f"工作日历缺少 {years} 年的节假日与调休安排：国务院办公厅公布后，"
            "请写入 [calendar].extra_files 指定的文件（格式见 docs/config.md）"
        )
    else:
        ok(f"工作日历包含 {today.year} 与 {today.year + 1} 年的调休安排")

    from alerts.send import mask_url

    referenced = {c for u in units for c in u.channels}
    for c in sorted(referenced):
        url = settings.channel_url(c)
        if url is None:
            bad(f"通知渠道 {c} 在登记表中使用，但配置 [channels] 中未定义")
        elif "://" not in url:
            bad(f"通知渠道 {mask_url(url)} 不是有效的地址")
    if referenced and not problems:
        ok(f"{len(referenced)} 个通知渠道格式正确")
    if problems:
        raise typer.Exit(EXIT_PROBLEMS)
