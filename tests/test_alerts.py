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
from alerts.bots import judge
from alerts.messages import MAX_REQUEST_BYTES
from alerts.send import _judge_logs, body_format, mask_url, redact
from monitor.demo.receivers import SmtpSink, WebhookSink

T = TypeVar("T")
HOSTILE = "[点我](http://evil.example) @all <script>alert(1)</script>"


def veto_notice(**changes: object) -> FindingNotice:
    notice = FindingNotice(
        event="opened",
        finding_id=42,
        account_id="weibo:1234567890",
        account_name="XX市人民政府",
        platform="weibo",
        unit_code="xx-gov",
        unit_name="XX市人民政府办公室",
        kind="stale",
        # the kind catalogue's words, as monitor.alerting.route.notice_for fills them in
        kind_label="长期未更新",
        category="update",
        category_label="更新不及时",
        remedy="更新",
        severity="veto",
        title="已 15 天未更新",
        detail=f"最近一条发布于 2026-11-09 10:00：{HOSTILE}",
        rule="national.max_gap_days(14)",
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
    return dataclasses.replace(notice, **changes)


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
        assert "XX市人民政府" in body
        assert "微博" in body
        assert "XX市人民政府办公室（xx-gov）" in body
        assert "单项否决" in body
        assert "national.max_gap_days(14)" in body
        assert "须在 2026-11-25 23:59 前更新" in body
        assert (
            "问题类别**：更新不及时（长期未更新）" in body
            or "问题类别：更新不及时（长期未更新）" in body
        )
        assert "2026-11-09 10:00" in body  # latest post, Shanghai time
        assert "2026-11-24 08:05" in body  # found at, Shanghai time
        assert "#123" in body  # snapshot
    assert "[在巡查控制台查看](https://xuncha.example.gov.cn/findings/42)" in msg.markdown
    assert "https://xuncha.example.gov.cn/findings/42" in msg.text


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
        "breached_at": "2026-11-23T16:00:00+00:00",
        "rules": [{"rule": "national.max_gap_days(14)", "deadline": "2026-11-25T15:59:59+00:00"}],
        "last_post_day": "2026-11-09",  # a day, not an instant: as it is
        "seen": "2026-11-09 10:00",  # no offset, so not known to be UTC: as it is
    }
    msg = render(veto_notice(evidence=evidence))
    for body in (msg.markdown, msg.text):
        assert "breached_at：2026-11-24 00:00" in body
        assert "2026-11-25 23:59" in body and "+00:00" not in body
        assert "last_post_day：2026-11-09" in body and "seen：2026-11-09 10:00" in body


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
    assert "已持续 1 天 0 小时" in reminder.markdown

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
        assert "须在 2026-11-25 23:59 前更新" in body  # evidence went first, the point stayed


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
    assert "须在 2026-11-25 23:59 前更新" in mail.text
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

    assert judge("dingtalk", ok).ok
    refused = judge("dingtalk", keyword)
    assert refused.permanent and "310000" in refused.error and "关键词" in refused.error
    throttled = judge("dingtalk", too_fast)
    assert not throttled.ok and not throttled.permanent and throttled.throttled
    assert not judge("wecombot", b"<html>portal</html>").ok


def test_feishu_refusal_logged_by_apprise_is_permanent() -> None:
    line = "Feishu rejected our notification: code=19021 msg=sign match fail or timestamp is not"
    permanent, reason = _judge_logs("feishu", [line])
    assert permanent and "19021" in reason


def test_wecom_robot_refusal_inside_http_200_is_read() -> None:
    with WebhookSink(reply={"errcode": 93000, "errmsg": "invalid webhook url"}) as sink:
        r = run(deliver("wecombot://KEY123", Message("标题", "正文", "正文"),
                        origins={"wecombot": sink.url}))  # fmt: skip
        assert not r.ok and r.permanent and "93000" in r.error and "KEY123" not in r.error
        req = sink.messages[0]
        assert req.path.startswith("/cgi-bin/webhook/send?key=KEY123")
        assert req.json["msgtype"] == "text" and "标题" in req.json["text"]["content"]
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
