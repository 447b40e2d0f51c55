"""alerts: rendering, masking, and real apprise deliveries to local sinks (127.0.0.1 only)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import unquote

import pytest

from alerts import DeliveryResult, FindingNotice, Message, deliver, render
from alerts.messages import MAX_REQUEST_BYTES, NO_CONSOLE, REF_SLOT
from alerts.messengers import for_scheme
from alerts.messengers.generic import judge_logs
from alerts.send import body_format, mask_url, redact
from monitor.demo.receivers import SmtpSink, WebhookSink
from monitor.evidence import told

T = TypeVar("T")
HOSTILE = "[点我](http://evil.example) @all <script>alert(1)</script>"


def veto_notice(**changes: object) -> FindingNotice:
    notice = FindingNotice(
        event="opened",
        finding_id=42,
        account_id="weibo:1234567890",
        account_name="XX市人民政府",
        platform="weibo",
        platform_label="微博",
        unit_code="xx-gov",
        unit_name="XX市人民政府办公室",
        kind="stale",
        # the kind catalogue's words, as monitor.alerting.route.notice_for fills them in
        kind_label="长期未更新",
        category="update",
        category_label="更新不及时",
        remedy="更新",
        advice="立即发布一条新内容（置顶内容不计入更新）；账号确已停用的，请按程序关停并报备",
        severity="veto",
        title="已 15 天未更新",
        detail=f"最近一条发布于 2026-11-09 10:00：{HOSTILE}",
        rule="national.max_gap_days(14)",
        rule_text="全国标准：14 天内须有更新（单项否决）",  # probes.checks.rules.rule_text
        deadline=datetime(2026, 11, 25, 15, 59, 59, tzinfo=UTC),  # 23:59:59 in Shanghai
        opened_at=datetime(2026, 11, 24, 0, 5, tzinfo=UTC),
        at=datetime(2026, 11, 24, 0, 5, tzinfo=UTC),
        snapshot_id=123,
        evidence={
            "latest_post": {
                "published_at": "2026-11-09T02:00:00+00:00",
                "title": HOSTILE,
                "url": "https://m.weibo.cn/detail/5012345678901234",
            },
            "days_since_update": 15,
        },
        console_url="https://xuncha.example.gov.cn/findings/42",
    )
    return told(dataclasses.replace(notice, **changes))  # its evidence in lines, as monitor does


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def closed_port() -> int:
    """A port nothing listens on: bind, read the number, close."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- render -----------------------------------------------------------------------------------


def test_veto_message_names_account_problem_and_deadline_in_shanghai_time() -> None:
    msg = render(veto_notice())

    assert msg.title == "【单项否决】XX市人民政府（微博）已 15 天未更新"
    assert msg.level == "failure"
    for body in (msg.markdown, msg.text):
        plain = body.replace("**", "")
        assert plain.startswith("- 整改期限：须在 11月25日 23:59 前更新（还剩 1 天）") or (
            plain.startswith("整改期限：须在 11月25日 23:59 前更新（还剩 1 天）")
        )  # by when comes first: it is what a phone shows without opening the message
        assert "XX市人民政府（微博）" in body
        assert "XX市人民政府办公室" in body and "xx-gov" not in body  # names, not codes
        assert "单项否决" in body
        assert "依据规则" in body and "全国标准：14 天内须有更新（单项否决）" in body
        assert "national" not in body and "max_gap_days" not in body
        assert "问题类别：更新不及时（长期未更新）" in plain
        assert "怎么办：立即发布一条新内容（置顶内容不计入更新）" in plain
        assert "2026-11-09 10:00" in body  # latest post, Shanghai time
        assert "2026-11-24 08:05" in body  # found at, Shanghai time
        assert "#123" in body  # snapshot
        assert "点击『确认』" in body and "xuncha ack" not in body  # a unit has no CLI
    # without the console a county officer is asked to reply; ops may be told the CLI
    alone = render(veto_notice(console_url=""))
    assert alone.text.endswith(NO_CONSOLE + REF_SLOT) and "xuncha ack" not in alone.text
    assert render(veto_notice(console_url=""), ops=True).text.endswith("运行 xuncha ack 42")
    # the link goes to the finding's page, where 确认 is
    page = "https://xuncha.example.gov.cn/findings/42"
    assert f"在控制台[打开本问题]({page})点击『确认』" in msg.markdown
    assert f"打开本问题 {page} 点击『确认』" in msg.text


@pytest.mark.parametrize(
    ("deadline", "now", "said"),
    [
        # a problem to fix: the date as people say it and what is left
        ("2026-12-08 16:00", "2026-12-06 10:00", "须在 12月8日 16:00 前整改（还剩 2 天）"),
        ("2026-12-08 16:00", "2026-12-08 09:30", "须在 12月8日 16:00 前整改（还剩 6 小时）"),
        ("2026-12-08 16:00", "2026-12-08 15:45", "须在 12月8日 16:00 前整改（还剩 15 分钟）"),
        # a veto's deadline is the moment it became overdue: in the past when it opens
        ("2026-12-03 00:00", "2026-12-07 09:11", "已超期 4 天，须立即整改（期限 12月3日 00:00）"),
        ("2026-12-07 00:00", "2026-12-07 09:11", "已超期 9 小时，须立即整改（期限 12月7日 00:00）"),
        # across the new year the year is said
        ("2027-01-02 12:00", "2026-12-30 12:00", "须在 2027年1月2日 12:00 前整改（还剩 3 天）"),
    ],
)
def test_deadline_in_words(deadline: str, now: str, said: str) -> None:
    """Beijing times: the date as people say it, with what is left or how long it is overdue."""
    at, due = (datetime.fromisoformat(f"{t}+08:00") for t in (now, deadline))
    n = veto_notice(kind="privacy", remedy="整改", deadline=due, at=at)
    for body in (render(n).markdown, render(n).text):
        assert f"整改期限**：{said}" in body or f"整改期限：{said}" in body


def test_a_stale_veto_is_overdue_and_must_be_updated_at_once() -> None:
    n = veto_notice(
        deadline=datetime(2026, 11, 19, 16, 0, tzinfo=UTC),  # 11-20 00:00 in Shanghai
        at=datetime(2026, 11, 24, 0, 5, tzinfo=UTC),
    )
    assert "整改期限**：已超期 4 天，须立即更新（期限 11月20日 00:00）" in render(n).markdown


def test_our_own_fetch_problem_tells_ops_what_to_look_at() -> None:
    """Told to ops only (the routing keeps it from units): it says what to check, and that
    the unit was not told and has nothing to put right."""
    n = veto_notice(
        kind="fetch_failed",
        kind_label="无法抓取账号页面",
        category="patrol",
        category_label="暂时无法检查",
        remedy="整改",
        severity="warning",
        title="抓取失败，暂时无法检查",
        detail="服务器内部错误（HTTP 503）",
        rule="fetch.error",
        rule_text="",
        deadline=None,
        evidence={
            "outcome": "error",
            "url": "https://weibo.com/u/1234567890",
            "status_code": 503,
            "reason": "服务器内部错误（HTTP 503）",
        },
    )
    text = render(n).text
    assert "整改期限：无（巡查系统自身的问题，只告知运维，主办单位无需整改）" in text
    assert "怎么办：运维排查：检查该账号的地址、读取方式和登录会话" in text
    assert "未通知主办单位" in text
    assert "检查地址：weibo.com https://weibo.com/u/1234567890" in text
    assert "抓取结果：抓取出错，服务器内部错误（HTTP 503）" in text
    assert text.count("服务器内部错误") == 1  # 说明 said once, as the evidence's reason
    assert "确认后不再提醒" in text  # acknowledging is what stops the reminders
    assert "依据规则" not in text


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_message_times_read_exactly_as_the_console_shows_them(tz: str) -> None:
    """alerts does not import monitor, so it has its own formatter: it must give the very
    string ``monitor.timefmt.shown`` gives (minutes, the configured zone), whatever the
    instant: midnight crossings, a leap day, a DST change, seconds dropped, a naive UTC time."""
    from alerts.messages import TIME_FORMAT, local_time
    from monitor import timefmt

    assert TIME_FORMAT == timefmt.MINUTES
    instants = [
        datetime(2026, 12, 4, 1, 11, 5, tzinfo=UTC),
        datetime(2026, 12, 31, 16, 0, tzinfo=UTC),  # 2027-01-01 00:00 in Shanghai
        datetime(2028, 2, 28, 16, 59, 59, 999999, tzinfo=UTC),  # 02-29 00:59 in Shanghai
        datetime(2026, 3, 8, 7, 30, tzinfo=UTC),  # New York moves its clocks this morning
        datetime(2026, 11, 24, 0, 5),  # naive: stored times are UTC
    ]
    for at in instants:
        assert local_time(at, tz) == timefmt.shown(at, tz)
        stamp = timefmt.shown(at, tz)
        msg = render(veto_notice(event="test", at=at), tz=tz)
        assert f"发送时间：{stamp}" in msg.text and f"发送时间**：{stamp}" in msg.markdown


def test_times_inside_evidence_are_shown_in_the_configured_zone() -> None:
    evidence = {
        "latest_post_at": "2026-11-09T02:00:00+00:00",
        "latest_post_title": "秋季农田水利建设",
        "ignored_pinned_posts": 1,
        "newest_pinned_post_at": "2026-11-23T16:00:00+00:00",
        "rules": [{"rule": "national.max_gap_days(14)", "deadline": "2026-11-25T15:59:59+00:00"}],
    }
    msg = render(veto_notice(evidence=evidence))
    for body in (msg.markdown, msg.text):
        assert "最新一条：2026-11-09 10:00 发布" in body
        assert "最新一条置顶发布于 2026-11-24 00:00" in body
        assert "+00:00" not in body


def test_evidence_keys_are_words_never_codes_or_json() -> None:
    """What the demo's veto carried: every key said in words, or left out — never a key, a
    JSON list or a link broken by defanging (the issue's ``latest_post_id：https：//…``)."""
    evidence = {
        "ruleset": "national",
        "ignored_pinned_posts": 1,
        "newest_pinned_post_at": "2026-12-02T16:00:00+00:00",
        "latest_post_at": "2026-11-18T16:00:00+00:00",
        "latest_post_id": "https://mp.weixin.qq.com/s/0001",
        "latest_post_title": "青溪县开展秋季农田水利建设",
        "latest_post_url": "https://mp.weixin.qq.com/s/0001",
        "days_since_update": 15,
        "at_stake": "high",
        "rules": [{"rule": "national.max_gap_days(14)", "state": "breach", "params": {"days": 14}}],
        "a_key_no_one_taught_us": {"nested": ["json"]},
    }
    msg = render(veto_notice(evidence=evidence, detail=""))
    for body in (msg.markdown, msg.text):
        for raw in ("ruleset", "latest_post", "at_stake", "rules", "{", "：//", "a_key_no_one"):
            assert raw not in body, raw
        assert "《青溪县开展秋季农田水利建设》" in body
        assert "置顶内容 1 条不计入更新" in body and "逾期将记为严重问题" in body
        assert "另有 1 项技术细节未列出" in body
    assert "[原文（mp.weixin.qq.com）](https://mp.weixin.qq.com/s/0001)" in msg.markdown


def test_hostile_scraped_text_cannot_link_mention_or_inject_html() -> None:
    msg = render(veto_notice(account_name=f"XX市人民政府{HOSTILE}", title=HOSTILE))

    for text in (msg.title, msg.markdown, msg.text):
        assert "@all" not in text
        assert "http://evil" not in text  # defanged, so no renderer autolinks it
    for text in (msg.title, msg.markdown):
        assert "<script" not in text
        assert "[点我]" not in text
    # the only markdown links are the ones we built: the post and the console
    targets = re.findall(r"\]\(([^)]*)\)", msg.markdown)
    assert targets == [
        "https://m.weibo.cn/detail/5012345678901234",
        "https://xuncha.example.gov.cn/findings/42",
    ]
    assert "\n" not in msg.title


HOSTILE_URL = "http://evil.example/x?a=[b](c)"
POST_URL = "https://weibo.com/1234567890/P0001"
# evidence of every shape a detector writes, with scraped values made hostile
HOSTILE_EVIDENCE: dict[str, dict[str, object]] = {
    "commercial": {
        "posts": [
            {
                "post_id": HOSTILE,
                "post_url": POST_URL,
                "level": "commercial",
                "reasons": ["链接指向电商/广告域名", HOSTILE],
                "words": [{"category": "commerce", "word": HOSTILE, "context": HOSTILE}],
                "links": [{"url": HOSTILE_URL, "verdict": "deny", "domain": HOSTILE}],
                "contact": ["微信：abc12345", "13800138000", HOSTILE],
            },
            {"post_id": "javascript:alert(1)", "post_url": "javascript:alert(1)", "reasons": []},
        ]
    },
    "privacy": {
        "posts": [
            {
                "post_id": POST_URL,
                "post_url": POST_URL,
                "findings": [
                    {
                        "rule": "privacy.id_card",
                        "name": HOSTILE,
                        "span": HOSTILE,
                        "suggestion": HOSTILE,
                    },
                ],
                "more": 3,
            }
        ]
    },
    "theft": {
        "score": 6.5,
        "threshold": 3.0,
        "signs": [
            {
                "code": "name_not_registered",
                "title": f"名称与备案不一致（现为：{HOSTILE}）",
                "score": 3.0,
                "name": HOSTILE,
            },
            {"code": "spam_posts", "title": HOSTILE, "score": 3.0, "posts": [{"x": HOSTILE}]},
        ],
    },
    "app": {
        "download_url": HOSTILE_URL,
        "final_url": HOSTILE_URL,
        "redirects": [f"302 {HOSTILE_URL}", HOSTILE],
        "status_code": 200,
        "content_type": HOSTILE,
        "length": 1234,
        "page_kind": "hijacked",
        "problems": [HOSTILE],
        "registered_host": HOSTILE,
        "final_host": HOSTILE,
        "expected": HOSTILE,
        "observed": HOSTILE,
        "pinned_signer": HOSTILE,
        "observed_signer": "ab" * 32,
    },
    # the registered address is the account's own (a link); where the site sent us is not
    "fetch": {"outcome": "blocked", "url": POST_URL, "final_url": HOSTILE_URL, "reason": HOSTILE},
    "interaction": {
        "comments_off": [
            {"where": "profile"},
            {"where": "post", "post_id": HOSTILE, "post_url": POST_URL},
        ],
    },
    "stores": {"stores": [{"store": HOSTILE, "detail": HOSTILE}]},
    "staleness": {
        "latest_post_title": HOSTILE,
        "latest_post_url": POST_URL,
        "latest_post_at": "2026-11-09T02:00:00+00:00",
        "notes": [f"per_week(2): {HOSTILE}"],
        "calendar_unknown_years": [HOSTILE],
    },
}


@pytest.mark.parametrize("shape", sorted(HOSTILE_EVIDENCE))
def test_hostile_evidence_of_every_detector_stays_inert(shape: str) -> None:
    """Every evidence key shown in words keeps the guarantees: no mention, no HTML, no link
    but the ones we built from URLs we validated — the posts' own pages and the console;
    an advertiser's link, a hijacked download or a redirect's target are text, not links."""
    n = veto_notice(
        evidence=HOSTILE_EVIDENCE[shape],
        detail=HOSTILE,
        rule_text=HOSTILE,  # a user rule set's title is config, still not ours to trust
        unit_name=HOSTILE,
        console_url="https://xuncha.example.gov.cn/findings/42",
    )
    for event in ("opened", "reminder", "escalated", "resolved"):
        msg = render(dataclasses.replace(n, event=event))
        for text in (msg.title, msg.markdown, msg.text):
            assert "@all" not in text and "@13" not in text
            assert "http://evil" not in text and "javascript:" not in text
            assert "13800138000" not in text  # an ad's contact number is masked too
        for text in (msg.title, msg.markdown):
            assert "<script" not in text and "[点我]" not in text
        targets = set(re.findall(r"\]\(([^)]*)\)", msg.markdown))
        assert targets <= {POST_URL, "https://xuncha.example.gov.cn/findings/42"}, targets
        assert "\n" not in msg.title


def test_invisible_characters_and_bad_links_are_dropped() -> None:
    sneaky = "XX市\u202e人民政府\u200b"
    evidence = {"latest_post": {"title": "t", "url": "javascript:alert(1)"}, "url": "http://a b"}
    msg = render(veto_notice(account_name=sneaky, evidence=evidence))

    assert "\u202e" not in msg.markdown and "\u200b" not in msg.title
    assert "javascript" not in msg.markdown.replace("javascript：", "")
    assert "](javascript" not in msg.markdown


def test_resolved_message() -> None:
    msg = render(veto_notice(event="resolved", at=datetime(2026, 11, 26, 3, 0, tzinfo=UTC)))

    assert msg.title == "【已恢复】XX市人民政府（微博）已 15 天未更新"
    assert msg.level == "success"
    assert "已恢复" in msg.markdown
    assert "恢复时间**：2026-11-26 11:00" in msg.markdown
    assert "2 天 2 小时" in msg.markdown  # how long it lasted
    assert "整改期限" not in msg.markdown and "整改期限" not in msg.text


def test_reminder_and_test_messages() -> None:
    reminder = render(veto_notice(event="reminder", at=datetime(2026, 11, 25, 0, 5, tzinfo=UTC)))
    assert reminder.title.startswith("【单项否决·仍未整改】")
    assert "自 2026-11-24 08:05 发现以来已 1 天，仍未整改" in reminder.markdown

    test = render(veto_notice(event="test", kind="test", severity="info", title="通知渠道测试"))
    assert test.title.startswith("【测试】")
    assert "测试消息" in test.text


def test_huge_evidence_stays_under_the_dingtalk_request_limit() -> None:
    evidence = {f"字段{i}": "很长的证据内容" * 400 for i in range(200)}
    evidence["latest_post"] = {"title": "标题" * 5000, "published_at": "2026-11-09T02:00:00Z"}
    msg = render(veto_notice(detail="说明" * 50_000, evidence=evidence))

    for body in (msg.markdown, msg.text):
        # apprise's DingTalk payload: ASCII-escaped JSON, the title twice, plus the envelope
        wire = 2 * len(json.dumps(msg.title)) + len(json.dumps(body)) + 200
        assert wire < MAX_REQUEST_BYTES
        assert "须在 11月25日 23:59 前更新" in body  # evidence went first, the point stayed
        assert body.endswith("点击『确认』")  # and so did how to acknowledge


# -- mask_url ---------------------------------------------------------------------------------

# (url, as shown, secrets that must not be in it, the real host that must be — or None)
MASK_TABLE = [
    # a token (and a signing secret) parked in the host position: no host to show
    (
        "dingtalk://SEC9f8e7d6c5b4a@0123456789abcdef0123456789abcdef",
        "dingtalk://***@***",
        ["SEC9f8e7d6c5b4a", "0123456789abcdef"],
        None,
    ),
    ("dingtalk://0123456789abcdef0123456789abcdef", "dingtalk://***", ["0123456789abcdef"], None),
    ("dingtalk://0123456789abcdef/13800138000", "dingtalk://***/***", ["13800138000"], None),
    (
        "dingtalk://0123456789abcdef?mobile=13800138000&format=markdown",
        "dingtalk://***?mobile=***&format=markdown",
        ["0123456789abcdef", "13800138000"],
        None,
    ),
    ("wecombot://693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa", "wecombot://***", ["693a91f6"], None),
    ("feishu://3a1b2c3d-4e5f-6789-abcd-ef0123456789", "feishu://***", ["3a1b2c3d"], None),
    # mail: the SMTP host is real; the login and the recipients are not shown
    (
        "mailto://user:pass@smtp.example.gov.cn",
        "mailto://***@smtp.example.gov.cn",
        ["user", "pass"],
        "smtp.example.gov.cn",
    ),
    (
        "mailtos://alerts:Pa55word@smtp.example.gov.cn:465?to=ops@example.gov.cn&mode=ssl",
        "mailtos://***@smtp.example.gov.cn:465?to=***&mode=ssl",
        ["Pa55word", "alerts:", "ops@"],
        "smtp.example.gov.cn:465",
    ),
    # webhooks: the host is real; route words stay, any other path segment is a secret
    (
        "json://hooks.example.gov.cn/hook/SECRETVALUE",
        "json://hooks.example.gov.cn/hook/***",
        ["SECRETVALUE"],
        "hooks.example.gov.cn",
    ),
    (
        "jsons://hooks.example.gov.cn:8443/path/SECRETVALUE?x=1",
        "jsons://hooks.example.gov.cn:8443/***/***?x=***",
        ["SECRETVALUE", "path"],
        "hooks.example.gov.cn:8443",
    ),
    (
        "json://user:pw@10.0.0.5/path",
        "json://***@10.0.0.5/***",
        ["user", "pw@", "path"],
        "10.0.0.5",
    ),
    (
        "json://127.0.0.1:8080/hook/AbC123xyz789?format=markdown&+X-Token=tok987",
        "json://127.0.0.1:8080/hook/***?format=markdown&+X-Token=***",
        ["AbC123xyz789", "tok987"],
        "127.0.0.1:8080",
    ),
    (
        "xml://hooks.example.gov.cn/api/v2/SECRETVALUE",
        "xml://hooks.example.gov.cn/api/v2/***",
        ["SECRETVALUE"],
        "hooks.example.gov.cn",
    ),
    (
        "form://hooks.example.gov.cn/hook/SECRETVALUE?method=GET",
        "form://hooks.example.gov.cn/hook/***?method=GET",
        ["SECRETVALUE"],
        "hooks.example.gov.cn",
    ),
    # self-hosted services: host real, token in the path
    (
        "gotify://gotify.example.gov.cn/TOKENVALUEABC",
        "gotify://gotify.example.gov.cn/***",
        ["TOKENVALUEABC"],
        "gotify.example.gov.cn",
    ),
    (
        "gotifys://gotify.example.gov.cn/path/TOKENVALUEABC?priority=high",
        "gotifys://gotify.example.gov.cn/***/***?priority=high",
        ["TOKENVALUEABC"],
        "gotify.example.gov.cn",
    ),
    ("ntfy://mytopicsecret", "ntfy://***", ["mytopicsecret"], None),  # ntfy.sh: a topic
    (
        "ntfys://tk_abcdefsecret@ntfy.example.gov.cn/mytopicsecret",
        "ntfys://***@ntfy.example.gov.cn/***",
        ["tk_abcdefsecret", "mytopicsecret"],
        "ntfy.example.gov.cn",
    ),
    (
        "bark://bark.example.gov.cn/DEVICEKEYVAL",
        "bark://bark.example.gov.cn/***",
        ["DEVICEKEYVAL"],
        "bark.example.gov.cn",
    ),
    (
        "apprise://apprise.example.gov.cn/CONFIGKEYVAL",
        "apprise://apprise.example.gov.cn/***",
        ["CONFIGKEYVAL"],
        "apprise.example.gov.cn",
    ),
    # cloud services: every part after the scheme is an id or a token
    (
        "tgram://123456789:ABCdefGhIJKlmnoPQRsTUVwxyZ/987654321",
        "tgram://***/***",
        ["123456789", "ABCdefGh", "987654321"],
        None,
    ),
    (
        "discord://111111111111111111/TOKENdiscordabcdef",
        "discord://***/***",
        ["111111111111111111", "TOKENdiscordabcdef"],
        None,
    ),
    (
        "slack://TOKENA/TOKENB/TOKENC/#general",
        "slack://***/***/***/***",
        ["TOKENA", "TOKENB", "TOKENC", "general"],
        None,
    ),
    (
        "workflows://prod-00.westus.logic.azure.com:443/WORKFLOWID/SIGNATUREVALUE",
        "workflows://prod-00.westus.logic.azure.com:443/***/***",
        ["WORKFLOWID", "SIGNATUREVALUE"],
        "prod-00.westus.logic.azure.com:443",
    ),
    # apprise 2.x has no msteams:// plugin: an unknown scheme, so nothing shown but its shape
    ("msteams://TEAMNAME/TOKENA/TOKENB/TOKENC", "msteams://***/***/***/***", ["TEAMNAME"], None),
    ("pover://USERKEYVAL@APPTOKENVAL", "pover://***@***", ["USERKEYVAL", "APPTOKENVAL"], None),
    ("pushover://USERKEYVAL@APPTOKENVAL", "pushover://***@***", ["USERKEYVAL"], None),
    ("schan://SENDKEYVALUE", "schan://***", ["SENDKEYVALUE"], None),
    ("pushplus://PUSHTOKENVAL", "pushplus://***", ["PUSHTOKENVAL"], None),
    # query strings: only settings keep their values; bare words may be tokens
    (
        "json://hooks.example.gov.cn/hook?token=QUERYSECRET",
        "json://hooks.example.gov.cn/hook?token=***",
        ["QUERYSECRET"],
        "hooks.example.gov.cn",
    ),
    (
        "json://hooks.example.gov.cn/hook?format=markdown&-junk&BARESECRET",
        "json://hooks.example.gov.cn/hook?format=markdown&***&***",
        ["BARESECRET", "junk"],
        "hooks.example.gov.cn",
    ),
    # the web address forms apprise also reads
    (
        "https://oapi.dingtalk.com/robot/send?access_token=ABCSECRET",
        "https://oapi.dingtalk.com/robot/send?access_token=***",
        ["ABCSECRET"],
        "oapi.dingtalk.com",
    ),
    (
        "https://hooks.slack.com/services/T0000/B0000/XXXXSECRET",
        "https://hooks.slack.com/services/***/***/***",
        ["T0000", "B0000", "XXXXSECRET"],
        "hooks.slack.com",
    ),
    ("nosuchscheme://x.example.gov.cn/y", "nosuchscheme://***/***", ["x.example"], None),
    ("not a url", "***", ["not a url"], None),
    ("", "***", [], None),
]


@pytest.mark.parametrize(("url", "masked", "secrets", "host"), MASK_TABLE)
def test_mask_url(url: str, masked: str, secrets: list[str], host: str | None) -> None:
    shown = mask_url(url)
    assert shown == masked
    for secret in secrets:
        assert secret not in shown
    netloc = shown.partition("://")[2].split("/", 1)[0].split("?", 1)[0]
    assert netloc.rpartition("@")[2] == (host or ("***" if netloc else ""))
    # whatever quotes the URL or its parts is scrubbed by the same rule
    quoted = f"POST {url} failed ({unquote(url)}); retrying {url.split('://', 1)[-1]}"
    scrubbed = redact(quoted, url)
    for secret in secrets:
        assert secret not in scrubbed
    if host is not None:
        assert host in scrubbed


def test_redact_removes_whole_secrets_quoted_anywhere() -> None:
    url = "dingtalk://SECabc123@0123456789abcdef/13800138000"
    text = "DingTalk 0123456789abcdef sign SECabc123 to 13800138000 via " + url
    assert redact(text, url) == "DingTalk *** sign *** to *** via dingtalk://***@***/***"
    mail = "mailto://alice:p%40ss@smtp.example.gov.cn"
    assert redact("login p@ss / p%40ss failed on smtp.example.gov.cn", mail) == (
        "login *** / *** failed on smtp.example.gov.cn"
    )
    # requests/httpx quote the path they were asked for, percent-encoded or not
    hook = "json://127.0.0.1:9/hook/S3CRET%2Fv?+X-Key=k e y"
    text = "Max retries exceeded with url: /hook/S3CRET%2Fv (S3CRET/v) header k%20e%20y"
    assert redact(text, hook) == "Max retries exceeded with url: /hook/*** (***) header ***"


# -- deliver ----------------------------------------------------------------------------------


def test_deliver_to_local_webhook_through_apprise_json() -> None:
    msg = render(veto_notice())
    with WebhookSink() as sink:
        result = run(deliver(sink.apprise_url("/hook"), msg))
        (got,) = sink.wait_for(1)
        assert sink.url == f"http://127.0.0.1:{sink.port}"

    assert result.ok and not result.permanent and result.error == ""
    assert result.elapsed_ms >= 0
    assert got.method == "POST" and got.path == "/hook"
    assert got.title == msg.title
    assert got.message == msg.markdown  # webhooks get markdown
    assert got.json["type"] == "failure"


def test_deliver_mail_as_plain_text_to_local_smtp() -> None:
    msg = render(veto_notice())
    assert body_format("mailto://u:p@example.gov.cn") == "text"
    with SmtpSink() as smtp:
        result = run(deliver(smtp.url, msg))
        (mail,) = smtp.wait_for(1)

    assert result.ok, result.error
    assert mail.subject == msg.title
    assert mail.rcpt_to == ["duty@example.gov.cn"]
    assert "须在 11月25日 23:59 前更新" in mail.text
    assert "**" not in mail.text  # plain text, not markdown


def test_server_error_is_transient_and_a_retry_gets_through() -> None:
    msg = Message("标题", "正文", "正文")
    with WebhookSink(fail_first=1, fail_status=500) as sink:
        first = run(deliver(sink.apprise_url(), msg))
        second = run(deliver(sink.apprise_url(), msg))
        statuses = [m.status for m in sink.wait_for(2)]

    assert not first.ok and not first.permanent
    assert "HTTP 500" in first.error
    assert second.ok
    assert statuses == [500, 200]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_permanent(status: int) -> None:
    with WebhookSink(fail_first=1, fail_status=status) as sink:
        result = run(deliver(sink.apprise_url(), Message("标题", "正文", "正文")))

    assert not result.ok and result.permanent
    assert f"HTTP {status}" in result.error


def test_rate_limit_is_transient() -> None:
    with WebhookSink(fail_first=1, fail_status=429) as sink:
        result = run(deliver(sink.apprise_url(), Message("标题", "正文", "正文")))
    assert not result.ok and not result.permanent


@pytest.mark.parametrize("url", ["not a url", "nosuchscheme://x", "dingtalk://", "wecombot://"])
def test_unparseable_url_is_permanent(url: str) -> None:
    result = run(deliver(url, Message("标题", "正文", "正文")))
    assert result == DeliveryResult(
        ok=False, permanent=True, error="通知地址无法识别", elapsed_ms=result.elapsed_ms
    )


def test_connection_refused_is_transient_and_keeps_secrets_out() -> None:
    url = f"json://user:s3cret@127.0.0.1:{closed_port()}/hook"
    result = run(deliver(url, Message("标题", "正文", "正文"), timeout=5))

    assert not result.ok and not result.permanent
    assert "s3cret" not in result.error
    assert "127.0.0.1" in result.error  # still says where it failed


def test_slow_receiver_times_out_as_transient() -> None:
    with WebhookSink(delay=3) as sink:
        result = run(deliver(sink.apprise_url(), Message("标题", "正文", "正文"), timeout=0.5))
    assert not result.ok and not result.permanent


def test_concurrent_deliveries_keep_their_own_outcomes() -> None:
    msg = Message("标题", "正文", "正文")
    with WebhookSink() as good, WebhookSink(fail_first=100, fail_status=403) as bad:

        async def both() -> list[DeliveryResult]:
            calls = [deliver(good.apprise_url(), msg), deliver(bad.apprise_url(), msg)] * 5
            return list(await asyncio.gather(*calls))

        results = run(both())

    assert [r.ok for r in results] == [True, False] * 5
    assert all(r.permanent for r in results[1::2])


# -- errors inside HTTP 200 (DingTalk / WeCom robots) ----------------------------------------


def test_robot_answers_are_read_for_errcode() -> None:
    ok = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
    keyword = json.dumps({"errcode": 310000, "errmsg": "keywords not in content"}).encode()
    too_fast = json.dumps({"errcode": 130101, "errmsg": "send too fast"}).encode()

    assert for_scheme("dingtalk").judge(ok).ok
    refused = for_scheme("dingtalk").judge(keyword)
    assert refused.permanent and "310000" in refused.error and "关键词" in refused.error
    throttled = for_scheme("dingtalk").judge(too_fast)
    assert not throttled.ok and not throttled.permanent and throttled.throttled
    assert not for_scheme("wecombot").judge(b"<html>portal</html>").ok


def test_feishu_refusal_logged_by_apprise_is_permanent() -> None:
    line = "Feishu rejected our notification: code=19021 msg=sign match fail or timestamp is not"
    permanent, reason = judge_logs("feishu", [line])
    assert permanent and "19021" in reason


def test_wecom_robot_refusal_inside_http_200_is_read() -> None:
    with WebhookSink(reply={"errcode": 93000, "errmsg": "invalid webhook url"}) as sink:
        r = run(deliver("wecombot://KEY123", Message("标题", "正文", "正文"),
                        origins={"wecombot": sink.url}))  # fmt: skip
        assert not r.ok and r.permanent and "93000" in r.error and "KEY123" not in r.error
        req = sink.messages[0]
        assert req.path.startswith("/cgi-bin/webhook/send?key=KEY123")
        assert req.json["msgtype"] == "markdown" and "标题" in req.json["markdown"]["content"]
    with WebhookSink(reply={"errcode": 0, "errmsg": "ok"}) as sink:
        r = run(deliver("wecombot://KEY123", Message("标题", "正文", "正文"),
                        origins={"wecombot": sink.url}))  # fmt: skip
        assert r.ok


def test_office_templates_replace_the_wording_and_stay_inert() -> None:
    from alerts.templates import AlertTemplates

    notice = FindingNotice(
        event="opened",
        account_id="a1",
        account_name="[点此领奖](http://evil.example) <script>x</script>",
        platform="weibo",
        platform_label="微博",
        unit_code="qx",
        unit_name="青溪县",
        kind="stale",
        severity="veto",
        title="已 15 天未更新",
        at=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        finding_id=7,
    )
    t = AlertTemplates(
        title="巡查通报｜{{ label }}｜{{ account }}",
        markdown="请 {{ unit }} 于今日处理：{{ problem }}（问题 #{{ finding }}）",
    )
    m = render(notice, templates=t)
    assert m.title.startswith("巡查通报｜单项否决｜")
    assert m.markdown == "请 青溪县 于今日处理：已 15 天未更新（问题 #7）"
    assert "](" not in m.title and "<script>" not in m.title and "http:" not in m.title
    assert m.text == render(notice).text  # parts not templated keep the built-in wording
    with pytest.raises(ValueError):
        AlertTemplates(title="{{ unclosed")


def test_templates_read_the_kind_words_the_notice_carries() -> None:
    from alerts.templates import AlertTemplates

    t = AlertTemplates(markdown="{{ category }}｜{{ kind }}｜{{ problem }}")
    assert render(veto_notice(), templates=t).markdown == "更新不及时｜长期未更新｜已 15 天未更新"
    old = veto_notice(kind_label="", category="", category_label="", remedy="")
    assert render(old, templates=t).markdown == "｜stale｜已 15 天未更新"  # stored before them


def test_templates_get_the_deadline_in_words_what_to_do_and_how_to_acknowledge() -> None:
    """The example in docs/config.md, rendered: the new variables, every one inert."""
    from alerts.templates import AlertTemplates

    t = AlertTemplates(
        title="【政务新媒体巡查·{{ label }}】{{ account }}",
        markdown=(
            "{{ unit }}：{{ problem }}。\n整改期限：{{ deadline_text }}。{{ advice }}。\n{{ ack }}"
            "\n{{ rule }}｜{{ link }}"
        ),
    )
    m = render(veto_notice(unit_name=f"青溪县{HOSTILE}"), templates=t)
    assert m.title == "【政务新媒体巡查·单项否决】XX市人民政府"
    lines = m.markdown.split("\n")
    assert lines[0].startswith("青溪县［点我］(http：//evil.example) ＠all")
    assert lines[1] == (
        "整改期限：须在 11月25日 23:59 前更新（还剩 1 天）。"
        "立即发布一条新内容（置顶内容不计入更新）；账号确已停用的，请按程序关停并报备。"
    )
    page = "https://xuncha.example.gov.cn/findings/42"
    assert lines[2] == f"在控制台打开本问题 {page} 点击『确认』"
    assert lines[3] == f"全国标准：14 天内须有更新（单项否决）｜{page}"
    resolved = render(veto_notice(event="resolved"), templates=AlertTemplates(text="[{{ ack }}]"))
    assert resolved.text == "[]"  # a recovery asks nothing of anyone


def test_a_notice_stored_by_the_previous_version_renders_without_codes() -> None:
    """Items queued before an upgrade keep their notice as it was written: no rule_text, a
    link to the snapshot, evidence with internal keys. They still read as words."""
    from alerts.notice import notice_from_dict, notice_to_dict

    old = notice_to_dict(
        veto_notice(detail="", console_url="https://xuncha.example.gov.cn/snapshots/123")
    )
    del old["rule_text"], old["previous_severity"], old["evidence_lines"]
    old["evidence"] = {"ruleset": "national", "latest_post_id": "https://m.weibo.cn/detail/1",
                       "rules": [{"rule": "national.max_gap_days(14)"}]}  # fmt: skip
    msg = render(told(notice_from_dict(old)))  # as monitor.alerting.compose reads it
    for body in (msg.markdown, msg.text):
        assert "national" not in body and "max_gap_days" not in body and "：//" not in body
        assert "依据规则" not in body  # no words for it: nothing rather than a code
        assert "打开本问题" in body and "xuncha ack" not in body
    assert "[打开本问题](https://xuncha.example.gov.cn/findings/42)" in msg.markdown


def test_a_wecom_message_fits_its_4096_bytes_and_keeps_how_to_acknowledge() -> None:
    from alerts.messengers.robot import heading
    from alerts.messengers.wecom import WECOM_MARKDOWN_BYTES
    from alerts.send import budget_for

    evidence = {"posts": [{"post_url": f"https://weibo.com/1/{i}", "reasons": ["广告" * 300]}
                          for i in range(20)]}  # fmt: skip
    msg = render(veto_notice(detail="说明" * 5000, evidence=evidence),
                 budget=budget_for("wecombot://key"))  # fmt: skip
    content = f"{heading(msg.title)}\n\n{msg.markdown}\n\n消息编号 #123456"
    assert len(content.encode()) <= WECOM_MARKDOWN_BYTES
    assert msg.markdown.endswith("点击『确认』") and "整改期限" in msg.markdown


def test_grouped_and_digest_messages_stay_inert_and_say_how_to_acknowledge() -> None:
    from alerts.group import ACK_MANY_NO_CONSOLE, DigestRow, render_digest, render_group

    hostile = [
        veto_notice(
            finding_id=i,
            account_name=HOSTILE,
            title=HOSTILE,
            unit_name=HOSTILE,
            console_url=f"https://xuncha.example.gov.cn/findings/{i}",
        )
        for i in (1, 2, 3)
    ]
    group = render_group(hostile, recipient=HOSTILE).message
    rows = [
        DigestRow(unit=HOSTILE, account=HOSTILE, platform="weibo", kind="stale", severity="veto",
                  title=HOSTILE, opened_at=datetime(2026, 11, 24, 0, 5, tzinfo=UTC),
                  acknowledged=False, escalated=False, finding_id=i,
                  deadline=datetime(2026, 11, 20, tzinfo=UTC), remedy="更新",
                  link=f"https://xuncha.example.gov.cn/findings/{i}")
        for i in (1, 2)
    ]  # fmt: skip
    digest = render_digest(rows, recipient=HOSTILE, period="日报", day="11月24日",
                           now=datetime(2026, 11, 24, 0, 30, tzinfo=UTC))  # fmt: skip
    for msg in (group, digest):
        for text in (msg.title, msg.markdown, msg.text):
            assert "@all" not in text and "http://evil" not in text
        assert "<script" not in msg.markdown and "[点我]" not in msg.markdown
        targets = set(re.findall(r"\]\(([^)]*)\)", msg.markdown))
        assert targets <= {f"https://xuncha.example.gov.cn/findings/{i}" for i in (1, 2, 3)}
        assert "确认：在控制台打开问题点击『确认』" in msg.text and "xuncha ack" not in msg.text
    assert "已超期 4 天，须立即更新" in digest.text
    no_console = render_group([veto_notice(finding_id=i, console_url="") for i in (1, 2)],
                              recipient="青溪县")  # fmt: skip
    assert no_console.message.text.endswith(ACK_MANY_NO_CONSOLE)  # a unit: reply, no CLI
    to_ops = render_group([veto_notice(finding_id=i, console_url="") for i in (1, 2)],
                          recipient="运维值班", ops=True)  # fmt: skip
    assert to_ops.message.text.endswith("确认：运行 xuncha ack 问题编号")  # ops have the CLI
