"""``xuncha demo``: a whole patrol, offline, in a few seconds.

A simulated platform serves four fictional accounts — one fresh, one silent for
15 days (with a fresh pinned post that must not count), one that breaks 贵州's
"every working day" rule unless it posts today and whose 低保 notice shows a resident ID
unmasked (隐私泄露), and one whose feed is down — and a local webhook sink stands in for
the units' DingTalk groups. The demo imports
the registry, probes every account, stores snapshots, opens findings and delivers
the alerts through the real outbox and apprise, then prints what happened.
"""

from __future__ import annotations

import csv
import shlex
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session, col, select

from monitor.alerting import dispatch_once
from monitor.app import App
from monitor.clock import Clock, system_clock
from monitor.config import load_settings
from monitor.demo.platform import Item, SimulatedPlatform, album_page, rss_feed
from monitor.demo.receivers import WebhookSink
from monitor.patrol.pipeline import check
from monitor.registry import apply_registry, read_registry
from monitor.service.logs import setup_logging
from monitor.show.deadlines import deadline_text, overdue_days
from monitor.show.labels import KIND, OUTCOME, PLATFORM, SEVERITY, label
from monitor.show.terminal import (
    SEVERITY_STYLE,
    Col,
    cell,
    is_terminal,
    lines,
    make_console,
    terminal_table,
    write_tsv,
)
from monitor.store.engine import make_engine, session_scope, upgrade
from monitor.store.models import Account, AlertItem, Finding, Notification
from monitor.timefmt import shown
from probes.checks.calendar import WorkCalendar
from probes.platforms import READERS

SHANGHAI = ZoneInfo("Asia/Shanghai")


def demo_clock(now: datetime, calendar: WorkCalendar) -> tuple[datetime, str]:
    """The instant the demo's patrol is dated: the latest working day's 16:00 that has passed.

    The "about to breach 贵州's every-working-day rule" story needs a working afternoon
    (the rule warns from 15:00 on the day a post is due). The demo's checks are dated then
    and its messages go out now, so everything it leaves behind lies in the past: a later
    ``xuncha check``, ``ack`` or report comes after it, in the order things happened.
    """
    today = now.astimezone(SHANGHAI).date()
    day = today if calendar.is_workday(today) else calendar.previous_workday(today)
    if at(day, 16) > now:
        day = calendar.previous_workday(day)
    weekday = "一二三四五六日"[day.weekday()]
    return at(day, 16), f"演示数据按 {day} 16:00（周{weekday}，最近一个已过去的工作日下午）记录"


def at(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class Story:
    id: str
    expect: str  # what the demo must show for this account


def build_platform(platform: SimulatedPlatform, now: datetime, cal: WorkCalendar) -> None:
    today = now.astimezone(SHANGHAI).date()
    fresh = [
        Item("【提醒】今冬明春森林防火要点", now - timedelta(hours=2)),
        Item("云岭市召开优化营商环境推进会", now - timedelta(days=1, hours=3)),
        Item("政策解读：城乡居民医保缴费指南", now - timedelta(days=3)),
    ]
    platform.add(
        "/weibo/user/5001001.xml",
        rss_feed("云岭发布", "https://weibo.com/5001001", fresh),
        "application/rss+xml; charset=utf-8",
    )
    # silent for 15 days; a fresh pinned post must not count as an update
    quiet = [
        Item("置顶：县政务服务中心办事指南", now - timedelta(hours=20), pinned=True),
        Item("青溪县开展秋季农田水利建设", now - timedelta(days=15, hours=2)),
        Item("青溪县召开安全生产专题会议", now - timedelta(days=21)),
    ]
    platform.add(
        "/mp/album/qingxi.html",
        album_page("青溪县人民政府 · 政务动态", quiet),
        "text/html; charset=utf-8",
    )
    # posted on the previous working day: must post today or breach tomorrow
    prev = cal.previous_workday(today)
    guizhou = [
        Item("黔岭市2026年秋季征兵工作启动", at(prev, 17, 30)),
        # an older notice: a 低保 list with a resident ID unmasked (a privacy finding)
        Item("黔岭市城乡低保拟保障对象公示", at(cal.previous_workday(prev), 15), text=(
            "经个人申请、入户调查、民主评议，现将拟纳入城乡低保对象公示如下：户主张某某，"
            "身份证号520102198703154513，家庭人口3人。公示期7天，如有异议请向市民政局反映。"
        )),
        Item("黔岭市公共资源交易中心公告", at(cal.previous_workday(prev), 9, 15)),
    ]  # fmt: skip
    platform.add(
        "/weibo/user/5002002.xml",
        rss_feed("黔岭市人民政府", "https://weibo.com/5002002", guizhou),
        "application/rss+xml; charset=utf-8",
    )
    platform.add("/douyin/user/5003003.xml", b"Service Unavailable", "text/plain", status=503)


UNITS = [
    # 单位编码, 单位名称, 主管单位, 级别, 地区, 通知渠道
    ("yl-gov", "云岭市人民政府办公室", "", "市", "云岭市", "@yl"),
    ("yl-qx", "青溪县人民政府办公室", "yl-gov", "县", "云岭市青溪县", "@qx"),
    ("ql-gov", "黔岭市人民政府办公室", "", "市", "贵州省黔岭市", "@ql"),
    ("yl-ws", "云岭市卫生健康委员会", "yl-gov", "部门", "云岭市", ""),
]


def ACCOUNTS(base: str) -> list[tuple[str, ...]]:
    """账号编号, 平台, 账号名称, 平台账号ID, 地址, 读取方式, 主办单位, 类型, 更新规则, 参数."""
    album = "item=ul.album__list li; date=.album__item-date; title=a; pinned=.top-tag"
    return [
        ("wb-yl", "微博", "云岭发布", "5001001", f"{base}/weibo/user/5001001.xml",
         "订阅源", "yl-gov", "发布类", "national", ""),
        ("wx-qx", "微信公众号", "青溪县人民政府", "gh_qingxi",
         f"{base}/mp/album/qingxi.html", "网页", "yl-qx", "发布类", "national", album),
        ("wb-ql", "微博", "黔岭市人民政府", "5002002", f"{base}/weibo/user/5002002.xml",
         "订阅源", "ql-gov", "发布类", "guizhou_city", ""),
        ("dy-ws", "抖音", "健康云岭", "5003003", f"{base}/douyin/user/5003003.xml",
         "订阅源", "yl-ws", "发布类", "national", ""),
    ]  # fmt: skip


def write_registry(folder: Path, base: str) -> list[Path]:
    units = folder / "units.csv"
    with units.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(["单位编码", "单位名称", "主管单位", "级别", "地区", "通知渠道"])
        w.writerows(UNITS)
    accounts = folder / "accounts.csv"
    with accounts.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "账号编号",
                "平台",
                "账号名称",
                "平台账号ID",
                "地址",
                "读取方式",
                "主办单位",
                "类型",
                "更新规则",
                "参数",
            ]
        )
        w.writerows(ACCOUNTS(base))
    return [units, accounts]


def write_config(folder: Path, sink_url: str) -> Path:
    cfg = folder / "xuncha.toml"
    cfg.write_text(
        f"""# written by `xuncha demo`
data_dir = "{folder}"

[http]
retries = 1
backoff_seconds = 0.2
timeout_seconds = 5

[alerts]
retry_base_seconds = 1
console_url = "http://127.0.0.1:8080"  # where `xuncha web` serves: messages link there
group_wait_seconds = 0  # the demo shows its messages at once
daily_digest_time = ""
weekly_digest_time = ""

[channels]
yl = "{sink_url}/yl"
qx = "{sink_url}/qx"
ql = "{sink_url}/ql"

[logging]
level = "warning"
""",
        encoding="utf-8",
    )
    return cfg


def run_demo(
    folder: Path | None = None, console: Console | None = None, clock: Clock = system_clock
) -> int:
    console = console or make_console()
    setup_logging("warning", "console")  # the demo tells its own story; logs only for trouble
    folder = folder or Path(tempfile.mkdtemp(prefix="xuncha-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    cal = WorkCalendar()
    now, note = demo_clock(clock(), cal)
    console.rule("[bold]xuncha 演示：一次完整的巡查（离线）")
    console.print(note)
    platform = SimulatedPlatform().start()
    with WebhookSink() as sink:
        try:
            return _demo(folder, now, cal, platform, sink, console, clock)
        finally:
            platform.stop()


def _demo(
    folder: Path,
    now: datetime,
    cal: WorkCalendar,
    platform: SimulatedPlatform,
    sink: WebhookSink,
    console: Console,
    clock: Clock,
) -> int:
    build_platform(platform, now, cal)
    sink_json = sink.url.replace("http://", "json://", 1)
    cfg = write_config(folder, sink_json)
    settings = load_settings(cfg)
    console.print(f"数据目录：{folder}")
    console.print(f"模拟平台：{platform.base_url}")
    console.print(f"告警接收端（代替各单位的钉钉群）：{sink.url}")

    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    app = App.open(settings, clock=clock)
    try:
        paths = write_registry(folder, platform.base_url)
        registry = read_registry(
            paths, known_rulesets=app.rulesets.keys(), known_readers=READERS.keys()
        )
        with session_scope(app.engine) as s:
            summary = apply_registry(s, registry, now=now)
        console.print(f"导入登记表 {'、'.join(p.name for p in paths)}：{summary.describe()}")
        console.rule("巡查")
        anyio.run(_patrol, app, now, console)
        console.rule("告警")
        deadline = time.monotonic() + 30
        while (_queued(app) or _count(app, "pending")) and time.monotonic() < deadline:
            # the first notices only: reminders and escalations belong to the days after
            anyio.run(
                partial(dispatch_once, app.engine, app.settings, clock=clock, with_timers=False)
            )
            time.sleep(0.2)
        expected = _count(app, "sent")
        sink.wait_for(expected, timeout=10)
        _print_findings(app, console, now)  # as of the patrol the story is dated
        _print_delivered(sink, console)
        ok = _verify(app, sink, expected, console)
    finally:
        app.close()
    console.rule()
    _print_next(folder / "xuncha.toml", console)
    return 0 if ok else 1


def _print_next(cfg: Path, console: Console) -> None:
    """What to type next; the last line is the one to copy: it points every later command
    at the demo's data (``XUNCHA_CONFIG``), whatever directory the demo made."""
    console.print(f"演示的数据留在 {escape(str(cfg.parent))}。在这些数据上试试其他命令：")
    for command, what in (
        ("xuncha findings", "发现的问题，最紧急的在前"),
        ("xuncha history wx-qx", "一个账号的快照历史"),
        ("xuncha accounts", "登记的账号"),
        ("xuncha alerts outbox", "发出的告警"),
        ("xuncha web", "网页控制台（先用 xuncha users add 添加用户）"),
    ):
        console.print(f"  {command:<22}{what}", highlight=False)
    console.print("先在本终端执行下面这一行（此后的命令就使用演示的配置和数据）：")
    console.out(f"export XUNCHA_CONFIG={shlex.quote(str(cfg))}", highlight=False)


async def _patrol(app: App, now: datetime, console: Console) -> None:
    with Session(app.engine) as s:
        accounts = s.exec(select(Account).order_by(col(Account.id))).all()
    tz = app.settings.timezone
    async with app.probing() as tools:
        for i, a in enumerate(accounts, 1):
            console.print(
                f"[{i}/{len(accounts)}] {escape(a.name)}（{label(PLATFORM, a.platform)}）…",
                end=" ",
            )
            r = await check(app, tools, a.id, now=now)
            snap = r.snapshot
            latest = shown(snap.latest_post_at, tz)
            status = label(OUTCOME, snap.outcome)
            pinned = sum(1 for p in r.observation.posts if p.pinned)
            line = f"{status}，最新发布 {latest}，快照 #{snap.id}"
            if pinned:
                line += f"（置顶 {pinned} 条不计入最新发布）"
            if snap.outcome != "ok":
                line = f"[red]{status}[/]：{escape(snap.detail)}，快照 #{snap.id}"
            console.print(line)
            for sig in r.signals:
                level = sig.severity.value
                style = SEVERITY_STYLE.get(level) or "default"
                console.print(f"      → [{style}]{label(SEVERITY, level)}[/]：{escape(sig.title)}")


def _queued(app: App) -> int:
    with Session(app.engine) as s:
        return len(s.exec(select(AlertItem.id).where(AlertItem.status == "queued")).all())


def _count(app: App, status: str) -> int:
    with Session(app.engine) as s:
        return len(s.exec(select(Notification.id).where(Notification.status == status)).all())


def _print_findings(app: App, console: Console, now: datetime) -> None:
    with Session(app.engine) as s:
        rows = s.exec(
            select(Finding, Account)
            .join(Account, col(Account.id) == col(Finding.account_id))
            .where(Finding.status == "open")
            .order_by(col(Finding.id))
        ).all()
    tz = app.settings.timezone
    console.print(f"[bold]发现的问题 {len(rows)} 个[/]")
    if not is_terminal(console):
        write_tsv(
            console,
            ["编号", "级别", "账号", "问题", "种类", "整改期限", "证据"],
            [(f.id, label(SEVERITY, f.severity), f"{a.name}（{label(PLATFORM, a.platform)}）",
              f.title, label(KIND, f.kind), deadline_text(f.deadline, now, tz),
              f"快照 #{f.last_snapshot_id}") for f, a in rows],
        )  # fmt: skip
        return
    t = terminal_table(
        [Col("编号", justify="right"), Col("级别"), Col("账号", wrap=True),
         Col("问题", wrap=True, min_width=16), Col("整改期限")]
    )  # fmt: skip
    for f, a in rows:
        t.add_row(
            cell(f.id),
            cell(label(SEVERITY, f.severity), SEVERITY_STYLE.get(f.severity, "")),
            lines((a.name, ""), (label(PLATFORM, a.platform), "dim")),
            lines((f.title, ""), (f"证据：快照 #{f.last_snapshot_id}", "dim")),
            cell(
                deadline_text(f.deadline, now, tz),
                "red" if overdue_days(f.deadline, now) is not None else "",
            ),
        )  # fmt: skip
    console.print(t)


def _print_delivered(sink: WebhookSink, console: Console) -> None:
    console.print(f"[bold]告警接收端收到 {len(sink.messages)} 条消息[/]")
    rows = [
        (m.path, str(m.json.get("title", "")) if isinstance(m.json, dict) else "")
        for m in sink.messages
    ]
    if not is_terminal(console):
        write_tsv(console, ["接收地址", "标题"], rows)
        return
    t = terminal_table([Col("接收地址"), Col("标题", wrap=True)])
    for path, title in rows:
        t.add_row(cell(path), cell(title))
    console.print(t)


def _verify(app: App, sink: WebhookSink, expected: int, console: Console) -> bool:
    """The demo's own check: the story it tells must be what happened."""
    with Session(app.engine) as s:
        kinds = {
            (f.account_id, f.kind)
            for f in s.exec(select(Finding).where(Finding.status == "open")).all()
        }
    want = {
        ("wx-qx", "stale"),
        ("wb-ql", "stale_soon"),
        ("wb-ql", "privacy"),
        ("dy-ws", "fetch_failed"),
    }
    problems = []
    if missing := want - kinds:
        problems.append(f"缺少预期的问题: {sorted(missing)}")
    if any(acc == "wb-yl" for acc, _ in kinds):
        problems.append("正常更新的账号被误报")
    if len(sink.messages) != expected or expected == 0:
        problems.append(f"告警接收端收到 {len(sink.messages)} 条，应为 {expected} 条")
    for p in problems:
        console.print(f"[bold red]演示未达预期[/]：{p}")
    if not problems:
        console.print(
            f"[bold green]演示完成[/]：4 个账号已巡查，{len(kinds)} 个问题，"
            f"{len(sink.messages)} 条告警已送达。"
        )
    return not problems
