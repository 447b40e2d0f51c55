"""``xuncha doctor``: is this installation fit to patrol? Each line OK or a fix in plain words."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import typer

from monitor.cli.common import EXIT_PROBLEMS, no_database, out, state

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.engine import Engine

    from monitor.config import Settings
    from monitor.store.blobs import BlobStore
    from monitor.store.blobs_db import DatabaseBlobStore


def _well_formed(url: str) -> bool:
    """Its messenger (an SMS gateway) or apprise can build a sender from it (no network):
    the same test delivery makes."""
    import apprise

    from alerts import messengers

    said = messengers.for_url(url).well_formed(url)
    if said is not None:
        return said

    asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY)
    try:
        return apprise.Apprise.instantiate(url, asset=asset) is not None
    except Exception:
        return False


def _evidence_store(settings: Settings) -> str:
    if settings.blobs.backend == "database":
        return '数据库的 blob 表，[blobs] backend = "database"'
    return f"目录 {settings.blob_path}"


def _evidence_store_problem(store: BlobStore | DatabaseBlobStore) -> str | None:
    """Store a small blob of its own, read it back verified, remove it: the path every
    snapshot's evidence takes. None if that works, else why not."""
    data = f"xuncha doctor {secrets.token_hex(16)}".encode()
    try:
        digest = store.put(data)
        if store.get(digest) != data:
            return "读回的内容与写入的不同"
    except Exception as e:  # a permission, a full disk, a missing table: show it as is
        return str(e) or type(e).__name__
    if hasattr(store, "delete"):  # the database's blob table
        store.delete([digest])
    else:
        store.path(digest).unlink(missing_ok=True)
    return None


class _Lines:
    """The doctor's output: one line per check, and how many of them need fixing (the exit
    code)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.problems = 0

    def ok(self, msg: str) -> None:
        self._say("[green]OK[/]   ", msg)

    def bad(self, msg: str) -> None:
        self.problems += 1
        self._say("[red]需处理[/]", msg)

    def warn(self, msg: str) -> None:  # worth doing soon; not a reason to fail (exit 0)
        self._say("[yellow]注意[/] ", msg)

    def _say(self, tag: str, msg: str) -> None:
        from rich.markup import escape

        self.console.print(f"{tag} {escape(msg)}", soft_wrap=True)  # one line each


def doctor(
    ctx: typer.Context,
    send: bool = typer.Option(False, "--send", help="向每个通知渠道发送一条测试消息"),
) -> None:
    """检查本机能否巡查：配置、数据库、证据存储、浏览器、通知渠道等。

    依次检查配置、数据库、证据存储、磁盘、浏览器、工作日历、词表和通知渠道，每项一行：
    OK，或需处理的问题及办法。有需处理的问题时退出码为 1。
    """
    from monitor.timefmt import local_date

    settings = state(ctx).settings  # an invalid config already exits 2 with the reason
    lines = _Lines(out(ctx))
    lines.ok("配置有效")
    if why := no_database(settings):  # a check never creates what it checks
        lines.bad(why)
        units = []
    else:
        units = _database(settings, lines.ok, lines.bad)
    _disk(settings, lines)
    _calendar(settings, local_date(state(ctx).clock(), settings.timezone), lines)
    _lists(settings, lines)
    _browser(settings, lines)
    _channels(settings, units, send, lines)
    if lines.problems:
        raise typer.Exit(EXIT_PROBLEMS)


def _disk(settings: Settings, lines: _Lines) -> None:
    free = shutil.disk_usage(settings.data_dir if settings.data_dir.exists() else "/").free
    if free < 1 << 30:
        lines.bad(f"数据目录所在磁盘仅剩 {free >> 20} MiB，请清理或扩容")
    else:
        lines.ok(f"磁盘剩余 {free >> 30} GiB")


def _calendar(settings: Settings, today: date, lines: _Lines) -> None:
    from probes.checks.calendar import WorkCalendar

    gaps = WorkCalendar(extra_files=settings.calendar.extra_files).gaps(
        today, required_days=settings.calendar.next_year_required_days
    )
    for gap in gaps:
        if gap.urgent:
            lines.bad(gap.describe())
        else:
            lines.warn(gap.describe())
    if not gaps:
        lines.ok(f"工作日历包含 {today.year} 与 {today.year + 1} 年的调休安排")


def _lists(settings: Settings, lines: _Lines) -> None:
    from probes.checks.lists import USER, load_lists

    lists = load_lists(settings.lists_path, settings.content.disable)
    own = sum(1 for s in lists.sources if s.origin == USER)
    if lists.problems:  # the good lines are used: a warning, not a stop
        lines.warn(f"本单位词表有 {len(lists.problems)} 处问题（{lists.problems[0]}），"
                   "运行 xuncha lists check 查看")  # fmt: skip
    else:
        lines.ok(f"词表与名册可用：内置 {len(lists.sources) - own} 个文件，本单位 {own} 个"
                 f"（{settings.lists_path}）")  # fmt: skip


def _browser(settings: Settings, lines: _Lines) -> None:
    from monitor.service.selfwatch import browser_starts

    started, why = browser_starts(
        settings.browser.executable, settings.selfwatch.browser_timeout_seconds
    )
    if started:
        lines.ok(f"浏览器可以启动（{settings.browser.executable}）")
    else:
        lines.bad(f"{why}（Debian: apt-get install chromium）")


def _channels(settings: Settings, units: list, send: bool, lines: _Lines) -> None:
    """Every channel the registry, the ops or the escalation ladders name: defined and well
    formed; with ``send``, a test message to each but the ladders' SMS ones (to whom?)."""
    from alerts.send import mask_url

    referenced = {c for u in units for c in u.channels}
    ops = set(settings.alerts.ops_channels)
    if not ops:
        lines.warn(
            "未配置运维渠道 [alerts].ops_channels："
            "巡查系统自身的问题（抓取失败、被拦截、无法读取、无法判断更新时间，浏览器、数据库故障）"
            "不通知任何单位，只在控制台“巡查异常”和日志中可见"
        )
    sms = {
        step.channel or settings.alerts.sms_channel
        for ladder in settings.alerts.ladder.values()
        for step in ladder.steps
        if step.to.endswith("_sms")
    } - {""}
    channel_problems = lines.problems
    checked: dict[str, str] = {}
    for c in sorted(referenced | ops | sms):
        url = settings.channel_url(c)
        where = "运维渠道" if c in ops else "短信渠道" if c in sms else "登记表中使用的通知渠道"
        if url is None:
            lines.bad(
                f"{where} {c} 未在配置 [channels] 中定义：请在 [channels] 或环境变量 "
                f"XUNCHA_CHANNELS__{c[1:].upper()} 中给出地址"
            )
        elif "://" not in url or not _well_formed(url):
            lines.bad(
                f"{where} {c if c.startswith('@') else ''} 地址 {mask_url(url)} 无法识别，"
                "请对照 apprise 的地址格式修改"
            )
        else:
            checked[c] = url
    if checked and lines.problems == channel_problems:
        lines.ok(f"{len(checked)} 个通知渠道格式正确")
    if send:
        tested = {c: u for c, u in checked.items() if c not in sms or c in referenced | ops}
        _send_tests(settings, tested, lines)


def _send_tests(settings: Settings, channels: dict[str, str], lines: _Lines) -> None:
    import anyio

    from alerts.notice import Message
    from alerts.send import deliver, mask_url

    note = f"xuncha doctor 测试消息，来自节点 {settings.node_name}，无需处理。"
    msg = Message(title="【测试】xuncha 通知渠道检查", markdown=note, text=note)
    for c, url in channels.items():
        r = anyio.run(lambda u=url: deliver(u, msg, timeout=settings.alerts.send_timeout_seconds))
        name = c if c.startswith("@") else mask_url(url)
        if r.ok:
            lines.ok(f"通知渠道 {name} 可送达（{r.elapsed_ms} 毫秒）")
        else:
            lines.bad(f"通知渠道 {name} 发送失败：{r.error}")


def _database(settings: Settings, ok: Callable[[str], None], bad: Callable[[str], None]) -> list:
    """The database (schema, writable) and the evidence store; the registry's units."""
    from sqlalchemy import text
    from sqlmodel import Session, select

    from monitor.app import App
    from monitor.store.engine import SchemaError, check_schema, database_problem, make_engine
    from monitor.store.models import Unit

    try:  # reachable at all? if not, that one line is the whole answer about it
        engine: Engine = make_engine(settings.database_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:
        if (why := database_problem(e, settings.database_url)) is None:
            raise
        bad(why)
        return []
    units: list = []
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
            bad(f"数据库不可写：{e}")
        try:
            with Session(engine) as s:
                units = list(s.exec(select(Unit)).all())
        except Exception:
            units = []
        where = _evidence_store(settings)
        problem = _evidence_store_problem(App(settings=settings, engine=engine).blobs)
        if problem is None:
            ok(f"证据存储可写可读（{where}）")
        else:
            bad(f"证据存储（{where}）不可用：{problem}")
    finally:
        engine.dispose()
    return units
