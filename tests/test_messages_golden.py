"""Every kind of message, as each provider's robot (or mail server) receives it: golden files.

Each case builds a fresh database on a fixed clock (Monday 2026-12-07 09:11 in Beijing), opens
findings from what the real detectors say of fixed posts and pages (the app's from its real
install detector too), and runs the real dispatcher: routing, grouping, rendering, the send-
time mentions, the senders. The unit 青溪县人民政府办公室 (值班手机 13800138000, 13800138001)
has one channel per provider, each on a local stand-in: DingTalk, WeCom and Feishu robots
(``tests/robots.py``), a JSON webhook and an SMTP server; its supervisor 云岭市人民政府办公室
has the same, and so do ops (``[alerts] ops_channels``), who alone hear of the patrol's own
problems (a fetch that failed: ``fetch_problem_opened`` is what ops receive). What arrives
is written to ``tests/golden/messages/<case>.<provider>.json`` (the JSON the robot received,
pretty-printed; a list when it got two requests, as a WeCom robot does for a message that
mentions someone) or ``.mail.txt`` (subject and text).

A reviewer reads these files as a duty officer would read the messages. The files are
compared byte for byte; ``XUNCHA_UPDATE_GOLDEN=1 python -m pytest tests/test_messages_golden.py``
rewrites them after a deliberate change (read the diff).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlmodel import Session

from alerts.messages import render
from alerts.notice import FindingNotice
from alerts.send import budget_for, deliver
from monitor.alerting import dispatch_once, enqueue
from monitor.app import App
from monitor.demo.receivers import SmtpSink, WebhookSink
from monitor.record.recheck import Loop
from monitor.store.engine import session_scope
from monitor.store.findings import open_findings, reconcile
from monitor.store.models import Account, Snapshot, Unit
from monitor.store.rectify import mark_rectified
from probes.checks import evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.kinds import KINDS
from probes.checks.rules import BUILTIN_RULESETS, PerWeek, RuleSet
from probes.checks.staleness import evaluate_staleness
from probes.model import (
    AppFacts,
    Artifact,
    Observation,
    Outcome,
    Post,
    Profile,
    Redirect,
    Severity,
    Signal,
)
from tests.conftest import make_settings, open_app
from tests.robots import DingTalkRobot, FeishuRobot, WeComRobot

GOLDEN = Path(__file__).parent / "golden" / "messages"
UPDATE = os.environ.get("XUNCHA_UPDATE_GOLDEN") == "1"
BEIJING = "+08:00"
START = datetime.fromisoformat(f"2026-12-07T09:11:00{BEIJING}").astimezone(UTC)
CONSOLE = "https://xuncha.example.gov.cn"
DUTY = {"qx": ["13800138000", "13800138001"], "yl": ["13900139000"]}
PROVIDERS = ("dingtalk", "wecom", "feishu", "webhook", "mail")


def bj(text: str) -> datetime:
    """A Beijing wall-clock time, as UTC."""
    return datetime.fromisoformat(f"{text}{BEIJING}").astimezone(UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class Stands:
    """One local stand-in per provider; each unit's robots are tokens on the same server."""

    dingtalk: DingTalkRobot
    wecom: WeComRobot
    feishu: FeishuRobot
    webhook: WebhookSink
    mail: SmtpSink

    def channels(self) -> dict[str, str]:
        out = {}
        for unit in (*DUTY, "ops"):
            self.dingtalk.add(f"{unit}-dingtalk", "SECgolden")
            self.wecom.add(f"{unit}-wecom")
            self.feishu.add(f"{unit}-feishu")
            out |= {
                f"{unit}-dingtalk": self.dingtalk.apprise_url(token=f"{unit}-dingtalk"),
                f"{unit}-wecom": self.wecom.apprise_url(f"{unit}-wecom"),
                f"{unit}-feishu": self.feishu.apprise_url(f"{unit}-feishu"),
                f"{unit}-webhook": self.webhook.apprise_url(f"/{unit}"),
                f"{unit}-mail": self.mail.apprise_url(to=f"{unit}-duty@example.gov.cn"),
            }
        return out

    def clear(self) -> None:
        for s in (self.dingtalk, self.wecom, self.feishu, self.webhook, self.mail):
            s.clear()

    def received(self, unit: str) -> dict[str, str]:
        """What each provider got for ``unit``, as the golden file holds it."""

        def shown(requests: list[Any]) -> str:
            body = requests[0] if len(requests) == 1 else requests
            return json.dumps(body, ensure_ascii=False, indent=2) + "\n"

        mails = [m for m in self.mail.messages if m.rcpt_to == [f"{unit}-duty@example.gov.cn"]]
        hooks = [m.json for m in self.webhook.delivered if m.path == f"/{unit}"]
        return {
            "dingtalk": shown(self.dingtalk.requests(f"{unit}-dingtalk")),
            "wecom": shown(self.wecom.requests(f"{unit}-wecom")),
            "feishu": shown(self.feishu.requests(f"{unit}-feishu")),
            "webhook": shown(hooks),
            # mail lines end in CRLF on the wire; the file keeps one newline convention
            "mail": "".join(f"主题：{m.subject}\n\n{m.text.rstrip()}\n" for m in mails).replace(
                "\r\n", "\n"
            ),
        }


@pytest.fixture(scope="module")
def stands() -> Iterator[Stands]:
    with (
        DingTalkRobot(token="unused", secret=None) as dingtalk,
        WeComRobot(key="unused") as wecom,
        FeishuRobot(token="unused") as feishu,
        WebhookSink() as webhook,
        SmtpSink() as mail,
    ):
        yield Stands(dingtalk, wecom, feishu, webhook, mail)


@dataclass
class World:
    app: App
    clock: Clock
    stands: Stands
    accounts: dict[str, Account] = field(default_factory=dict)

    def tick(self) -> None:
        async def run() -> None:
            await dispatch_once(self.app.engine, self.app.settings, clock=self.clock)

        anyio.run(run)

    def check(self, account: str, signals: list[Signal], *, content_seen: bool = True) -> None:
        """What the pipeline writes for one check: a snapshot, the findings, the alert items."""
        now = self.clock()
        with session_scope(self.app.engine) as s:
            acc = s.get(Account, account)
            assert acc is not None
            snap = Snapshot(account_id=account, taken_at=now, outcome="ok")
            s.add(snap)
            s.flush()
            assert snap.id is not None
            loop = Loop.load(s, {account: open_findings(s, account)})  # as the writer does
            changes = reconcile(s, account, snap.id, signals, content_seen=content_seen, now=now,
                                current=loop.current[account])  # fmt: skip
            unit = s.get(Unit, acc.owner_code)
            enqueue(s, self.app.settings, acc, unit, changes, now=now)
            loop.decide_one(s, self.app.settings, self.app.rulesets, acc, unit, snap,
                            content_seen, now, now)  # fmt: skip


@pytest.fixture
def world(tmp_path: Path, stands: Stands) -> Iterator[World]:
    stands.clear()
    clock = Clock()
    settings = make_settings(
        tmp_path,
        channels=stands.channels(),
        alerts={
            "console_url": CONSOLE,
            "origins": {
                "dingtalk": stands.dingtalk.origin,
                "wecombot": stands.wecom.origin,
                "feishu": stands.feishu.origin,
            },
            "repeat_minutes": 1440,
            "escalate_after_minutes": 2880,
            "ops_channels": [f"@ops-{p}" for p in PROVIDERS],
        },
    )
    # the links' key, fixed: a message's signed 已整改 link is the same on every run
    settings.session_key_file.write_text(base64.b64encode(bytes(range(32))).decode() + "\n")
    app = open_app(settings)
    with session_scope(app.engine) as s:
        for code, name, parent in (
            ("yl", "云岭市人民政府办公室", None),
            ("qx", "青溪县人民政府办公室", "yl"),
        ):
            channels = [f"@{code}-{p}" for p in PROVIDERS]
            s.add(Unit(code=code, name=name, parent_code=parent, channels=channels,
                       duty_mobiles=DUTY[code], region="云南省云岭市青溪县"))  # fmt: skip
            s.flush()  # the parent first: accounts and children refer to it
        for id, platform, name, url in ACCOUNTS:
            s.add(Account(id=id, owner_code="qx", platform=platform, name=name, url=url,
                          reader="rss"))  # fmt: skip
    yield World(app, clock, stands)
    app.close()


ACCOUNTS = [
    ("wx-qx", "wechat", "青溪县人民政府", "https://mp.weixin.qq.com/profile?gh=gh_5a0c1d2e3f40"),
    ("wb-qx", "weibo", "青溪发布", "https://weibo.com/u/5003001"),
    ("dy-qx", "douyin", "青溪文旅", "https://www.douyin.com/user/MS4wLjABAAAA5003"),
    ("app-qx", "app", "青溪通", "https://app.qingxi.gov.cn/download/qingxitong.apk"),
]

# -- what the detectors say of fixed pages ----------------------------------------------------


def judged(obs: Observation, now: datetime, **registry: str) -> list[Signal]:
    return evaluate(
        obs,
        ruleset=BUILTIN_RULESETS["national"],
        calendar=WorkCalendar(),
        now=now,
        owner_code="qx",
        **registry,
    )


def page(account: str, posts: list[Post], now: datetime, **kw: Any) -> Observation:
    return Observation(account, "rss", f"https://example.org/{account}", now, Outcome.ok,
                       posts=posts, **kw)  # fmt: skip


def signals_of(kind: str, sigs: list[Signal]) -> list[Signal]:
    found = [s for s in sigs if s.kind == kind]
    assert found, f"no {kind} among {[s.kind for s in sigs]}"
    return found


def stale_veto(now: datetime) -> list[Signal]:
    posts = [
        Post("https://mp.weixin.qq.com/s/qx1120", bj("2026-11-19T10:30"),
             title="青溪县开展秋季农田水利建设", url="https://mp.weixin.qq.com/s/qx1120"),
        Post("https://mp.weixin.qq.com/s/qx1105", bj("2026-11-05T09:00"),
             title="青溪县召开安全生产专题会议", url="https://mp.weixin.qq.com/s/qx1105"),
        Post("https://mp.weixin.qq.com/s/qx-pin", bj("2026-12-01T08:00"), pinned=True,
             title="县政务服务中心办事指南", url="https://mp.weixin.qq.com/s/qx-pin"),
    ]  # fmt: skip
    return signals_of("stale", judged(page("wx-qx", posts, now), now))


def stale_soon(now: datetime) -> list[Signal]:
    posts = [Post("5003001P1128", bj("2026-11-28T10:00"), title="青溪县冬季森林防火动员会召开",
                  url="https://weibo.com/5003001/P1128")]  # fmt: skip
    return signals_of("stale_soon", judged(page("wb-qx", posts, now), now))


def infrequent(severity: Severity) -> Callable[[datetime], list[Signal]]:
    """ "Twice a week" (the county rule set's, at ``severity``): last week one post, this week
    none yet — 更新频次不足, which this week can still make good."""

    def signals(now: datetime) -> list[Signal]:
        posts = [
            Post("5003001P1202", bj("2026-12-02T10:00"), title="青溪县召开冬季防火会议",
                 url="https://weibo.com/5003001/P1202"),
            Post("5003001P1125", bj("2026-11-25T10:00"), title="青溪县开展普法宣传",
                 url="https://weibo.com/5003001/P1125"),
        ]  # fmt: skip
        county = BUILTIN_RULESETS["guizhou_county"]
        rules = RuleSet(name=county.name, rules=(PerWeek(count=2, severity=severity),))
        return signals_of("infrequent", evaluate_staleness(posts, rules, WorkCalendar(), now))

    return signals


def commercial(now: datetime) -> list[Signal]:
    text = (
        "【好物推荐】青溪高山茶叶限时特价，点击链接立即抢购 https://s.click.taobao.com/t8Ab3Cd "
        "，加微信 qxtea2026 咨询，电话 13912345678。"
    )
    posts = [
        Post("5003001P1206", bj("2026-12-06T21:40"), text=text,
             url="https://weibo.com/5003001/P1206", links=["https://s.click.taobao.com/t8Ab3Cd"]),
        Post("5003001P1205", bj("2026-12-05T10:00"), title="青溪县召开冬季安全生产会议",
             url="https://weibo.com/5003001/P1205"),
    ]  # fmt: skip
    return signals_of("commercial", judged(page("wb-qx", posts, now), now))


def privacy(now: datetime) -> list[Signal]:
    text = (
        "经个人申请、入户调查、民主评议，现将拟纳入城乡低保对象公示如下：户主张某某，"
        "身份证号520102198703154513，家庭人口3人。公示期7天，如有异议请向县民政局反映。"
    )
    posts = [Post("5003001P1204", bj("2026-12-04T15:00"), title="青溪县城乡低保拟保障对象公示",
                  text=text, url="https://weibo.com/5003001/P1204")]  # fmt: skip
    return signals_of("privacy", judged(page("wb-qx", posts, now), now))


def theft(now: datetime) -> list[Signal]:
    posts = [Post("dy-1206", bj("2026-12-06T23:10"), title="今晚直播间福利，关注领取",
                  url="https://www.douyin.com/video/7301206")]  # fmt: skip
    profile = Profile(name="小美爱生活", verified=True, verified_reason="云岭小美文化传媒有限公司")
    obs = page("dy-qx", posts, now, profile=profile)
    sigs = judged(obs, now, registered_name="青溪文旅", owner_name="青溪县文化和旅游局",
                  home_province="云南")  # fmt: skip
    return signals_of("theft", sigs)


def app_problem(now: datetime) -> list[Signal]:
    report = {"registered_host": "app.qingxi.gov.cn", "expected_package": "cn.gov.qingxi.app",
              "pinned_signer": "3f" * 32}  # fmt: skip
    app = AppFacts(
        download_url="https://app.qingxi.gov.cn/download/qingxitong.apk",
        final_url="https://cdn.apk-fast-download.com/qingxitong_v3.2.apk",
        final_host="cdn.apk-fast-download.com",
        content_type="application/vnd.android.package-archive",
        length=38_211_584,
        tls_valid=True,
        tls_days_left=210,
        is_apk=True,
        package="cn.gov.qingxi.app",
        signer_sha256="3f" * 32,
    )
    obs = Observation(
        "app-qx", "app", app.download_url, now, Outcome.ok, status_code=200,
        final_url=app.final_url, app=app,
        redirects=[Redirect("https://app.qingxi.gov.cn/download/qingxitong.apk", 302)],
        artifacts=[Artifact("app_report", "application/json", json.dumps(report).encode())],
    )  # fmt: skip
    return signals_of("app_foreign_redirect", judged(obs, now))


def app_tls(now: datetime, *, valid: bool) -> list[Signal]:
    """The download's certificate: about to expire, then (a day later) invalid."""
    app = AppFacts(
        download_url="https://app.qingxi.gov.cn/download/qingxitong.apk",
        content_type="application/vnd.android.package-archive",
        length=38_211_584,
        tls_valid=valid,
        tls_days_left=12 if valid else None,
        is_apk=True,
        package="cn.gov.qingxi.app",
        signer_sha256="3f" * 32,
        problems=[] if valid else ["TLS 证书已过期（2026-12-08 到期）"],
    )
    report = {"registered_host": "app.qingxi.gov.cn", "pinned_signer": "3f" * 32}
    obs = Observation(
        "app-qx", "app", app.download_url, now, Outcome.ok, status_code=200, app=app,
        artifacts=[Artifact("app_report", "application/json", json.dumps(report).encode())],
    )  # fmt: skip
    return signals_of("app_tls", judged(obs, now))


def fetch_problem(now: datetime) -> list[Signal]:
    url = "https://www.douyin.com/user/MS4wLjABAAAA5003"
    why = "服务器内部错误（HTTP 503）"
    obs = Observation("dy-qx", "douyin", url, now, Outcome.error, status_code=503, detail=why)
    return signals_of("fetch_failed", judged(obs, now))


# -- the cases ----------------------------------------------------------------------------------


def opened(
    account: str, signals: Callable[[datetime], list[Signal]], to: str = "qx", **kw: bool
) -> Callable:
    def case(w: World) -> str:
        w.check(account, signals(w.clock()), **kw)
        w.tick()
        return to

    return case


def reminder(w: World) -> str:
    w.check("wx-qx", stale_veto(w.clock()))
    w.tick()
    w.clock.advance(days=1, minutes=1)
    w.stands.clear()
    w.tick()
    return "qx"


def updated(w: World) -> str:
    """A certificate about to expire (预警), then expired (严重): the finding got worse."""
    w.check("app-qx", app_tls(w.clock(), valid=True))
    w.tick()
    w.clock.advance(days=1)
    w.stands.clear()
    w.check("app-qx", app_tls(w.clock(), valid=False))
    w.tick()
    return "qx"


def escalated(w: World) -> str:
    """Ads left for two days, unacknowledged: the supervisor is told (and the owner reminded)."""
    w.check("wb-qx", commercial(w.clock()))
    w.tick()
    w.clock.advance(days=1, minutes=1)
    w.tick()  # the owner's reminder
    w.clock.advance(days=1)
    w.stands.clear()
    w.tick()
    return "yl"


def resolved(w: World) -> str:
    w.check("wx-qx", stale_veto(w.clock()))
    w.tick()
    w.clock.advance(hours=5, minutes=49)  # 15:00: the unit posted, the next check sees it
    w.stands.clear()
    w.check("wx-qx", [])
    w.tick()
    return "qx"


def recheck_failed(w: World) -> str:
    """The unit said 已整改 through its link; the recheck still saw the ID number: 复查未通过."""
    w.check("wb-qx", privacy(w.clock()))
    w.tick()
    w.clock.advance(hours=2)
    with session_scope(w.app.engine) as s:
        [f] = open_findings(s, "wb-qx").values()
        assert f.id is not None
        mark_rectified(s, f.id, note="已删除该条微博", by="链接", now=w.clock())
    w.clock.advance(minutes=3)
    w.stands.clear()
    w.check("wb-qx", privacy(w.clock()))
    w.clock.advance(minutes=1)
    w.tick()
    return "qx"


def infrequent_eased(w: World) -> str:
    """The rule set's "twice a week" changed from 单项否决 to 严重 while the finding is open:
    the unit is told what it now counts as."""
    w.check("wb-qx", infrequent(Severity.veto)(w.clock()))
    w.tick()
    w.clock.advance(hours=2)
    w.stands.clear()
    w.check("wb-qx", infrequent(Severity.high)(w.clock()))
    w.tick()
    return "qx"


def no_console_opened(w: World) -> str:
    """No console configured: the county officer is asked to reply, never to run a command."""
    w.app.settings.alerts.console_url = ""
    w.check("wx-qx", stale_veto(w.clock()))
    w.tick()
    return "qx"


def grouped(w: World) -> str:
    """The unit's two problems as one message; the failed fetch in between is ops' alone."""
    w.app.settings.alerts.group_wait_seconds = 60
    w.check("wx-qx", stale_veto(w.clock()))
    w.check("wb-qx", privacy(w.clock()))
    w.check("dy-qx", fetch_problem(w.clock()), content_seen=False)
    w.clock.advance(minutes=1)
    w.tick()
    return "qx"


def daily_digest(w: World) -> str:
    """The unit's open problems; the failed fetch still open is the patrol's, not counted."""
    w.check("wx-qx", stale_veto(w.clock()))
    w.check("wb-qx", privacy(w.clock()))
    w.check("app-qx", app_problem(w.clock()))
    w.check("dy-qx", fetch_problem(w.clock()), content_seen=False)
    w.tick()
    w.app.settings.alerts.daily_digest_time = "08:30"
    w.clock.now = bj("2026-12-08T08:30")
    w.stands.clear()
    anyio.run(lambda: dispatch_once(w.app.engine, w.app.settings, clock=w.clock,
                                    with_timers=False))  # fmt: skip
    return "qx"


def channel_test(w: World) -> str:
    """What ``xuncha alerts test qx`` sends to each of the unit's channels."""
    settings = w.app.settings
    with Session(w.app.engine) as s:
        unit = s.get(Unit, "qx")
        assert unit is not None
        notice = FindingNotice(event="test", account_id="", account_name="", platform="other",
                               platform_label="其他",
                               unit_code=unit.code, unit_name=unit.name, kind="test",
                               severity="info", title="测试消息", at=w.clock(),
                               console_url=settings.alerts.console_url)  # fmt: skip
        for channel in unit.channels:
            url = settings.channel_url(channel)
            assert url is not None
            message = render(notice, tz=settings.timezone, budget=budget_for(url))
            r = asyncio.run(deliver(url, message, origins=settings.alerts.origins,
                                    mentions=unit.duty_mobiles))  # fmt: skip
            assert r.ok, r.error
    return "qx"


CASES: dict[str, Callable[[World], str]] = {
    "stale_veto_opened": opened("wx-qx", stale_veto),
    "stale_soon_opened": opened("wb-qx", stale_soon),
    "commercial_opened": opened("wb-qx", commercial),
    "theft_opened": opened("dy-qx", theft),
    "privacy_opened": opened("wb-qx", privacy),
    "app_opened": opened("app-qx", app_problem),
    "fetch_problem_opened": opened("dy-qx", fetch_problem, to="ops", content_seen=False),
    "infrequent_opened": opened("wb-qx", infrequent(Severity.high)),
    "infrequent_eased": infrequent_eased,
    "no_console_opened": no_console_opened,
    "reminder": reminder,
    "updated": updated,
    "escalated": escalated,
    "resolved": resolved,
    "recheck_failed": recheck_failed,
    "grouped": grouped,
    "daily_digest": daily_digest,
    "test_message": channel_test,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_messages(case: str, world: World) -> None:
    unit = CASES[case](world)
    got = world.stands.received(unit)
    for provider in PROVIDERS:
        assert got[provider].strip(), f"{case}: nothing reached the {provider} stand-in"
        suffix = "mail.txt" if provider == "mail" else f"{provider}.json"
        path = GOLDEN / f"{case}.{suffix}"
        if UPDATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(got[provider], encoding="utf-8")
            continue
        assert path.exists(), f"{path} missing: XUNCHA_UPDATE_GOLDEN=1 writes it"
        assert got[provider] == path.read_text(encoding="utf-8"), (
            f"{path.name} differs from what the {provider} stand-in received; read the diff "
            "and, if the change is meant, rewrite with XUNCHA_UPDATE_GOLDEN=1"
        )


def test_every_kind_has_its_own_advice() -> None:
    """What to do is said for each kind a unit hears of, not only for its category."""
    assert [k for k, v in KINDS.items() if v.audience == "unit" and not v.advice] == []
