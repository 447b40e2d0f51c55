"""The words the CLI, the console and the 通报 share (``monitor.show.wording``): every kind
shown with its category without repeating itself or nesting brackets, a government site's
firewall named as such, a channel named by its kind and never by its address, overdue in
the same words wherever it is read, and the 说明's addresses as links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.messages import category_shown
from alerts.notice import FindingNotice
from monitor.show.wording import (
    SITE_BLOCKED,
    category_kind,
    channel_kind,
    deadline_note,
    deadline_text,
    finding_title,
    kind_label,
    linked,
    urgency,
)
from probes.checks.kinds import KINDS

NOW = datetime(2026, 12, 7, 1, 11, tzinfo=UTC)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_label_repeats_itself_or_nests_brackets(kind: str) -> None:
    k = KINDS[kind]
    assert "（" not in k.label and "(" not in k.label, k.label  # shown inside 类别（…）
    assert not k.label.startswith(k.category_label), k.label  # never 类别（类别…）
    shown = category_kind(kind)
    assert shown.count("（") <= 1 and "））" not in shown
    notice = FindingNotice(
        event="opened", account_id="a", account_name="青溪发布", platform="weibo",
        unit_code="qx", kind=kind, kind_label=k.label, category=k.category,
        category_label=k.category_label, severity=k.severity.value, title="…", at=NOW,
    )  # fmt: skip
    message = category_shown(notice)  # what the messages say, from the same catalogue
    assert message.count("（") <= 1 and message.count(k.category_label) == 1, message


def test_a_government_sites_wall_is_its_firewall_not_a_platforms() -> None:
    for platform in ("website", "other"):
        assert kind_label("blocked", platform) == SITE_BLOCKED == "网站防火墙拦截了巡查"
        title = finding_title("被平台反爬拦截，暂时无法检查", "blocked", platform)
        assert title == "网站防火墙拦截了巡查，暂时无法检查"
    assert "平台反爬" in kind_label("blocked", "weibo")
    assert finding_title("被平台反爬拦截，暂时无法检查", "blocked", "weibo").startswith("被平台")


@pytest.mark.parametrize(
    ("late", "words"),
    [
        (timedelta(minutes=20), "已超期不足 1 小时"),
        (timedelta(hours=20, minutes=59), "已超期 20 小时"),
        (timedelta(days=1, hours=3), "已超期 1 天"),
        (timedelta(days=3), "已超期 3 天"),
    ],
)
def test_overdue_in_the_same_words_for_the_cli_and_the_console(late: timedelta, words: str) -> None:
    deadline = NOW - late
    assert deadline_text(deadline, NOW) == deadline_note(deadline, NOW) == words


def test_a_deadline_ahead_says_what_is_left() -> None:
    assert deadline_note(NOW + timedelta(hours=6, minutes=30), NOW) == "剩 6 小时"
    assert deadline_note(NOW + timedelta(minutes=5), NOW) == "剩不足 1 小时"
    assert deadline_text(NOW + timedelta(days=2), NOW) == "2026-12-09 09:11"  # the time itself


def test_channels_are_named_by_kind_never_by_address() -> None:
    assert channel_kind("dingtalk://SECRET@TOKEN") == "钉钉"
    assert channel_kind("wecombot://KEY") == "企业微信"
    assert channel_kind("feishu://TOKEN") == channel_kind("lark://TOKEN") == "飞书"
    assert channel_kind("mailtos://user:pass@mail.example.gov.cn") == "邮件"
    assert "SECRET" not in channel_kind("dingtalk://SECRET@TOKEN")
    assert channel_kind("@duty") == "其他渠道"  # unresolved: still no address


def test_the_explanations_addresses_become_links_and_the_sentence_stays() -> None:
    text = "https://www.example.gov.cn/a/1.html：身份证号未脱敏（见 http://x.example/p?id=2）。"
    pieces = linked(text)
    assert [u for _, u in pieces if u] == [
        "https://www.example.gov.cn/a/1.html",
        "http://x.example/p?id=2",
    ]
    assert "".join(t for t, _ in pieces) == text  # nothing lost


def test_lists_read_gravest_first_and_the_patrols_own_problems_last() -> None:
    order = sorted(
        [("fetch_failed", "warning"), ("stale_soon", "warning"), ("stale", "veto"),
         ("commercial_review", "info"), ("theft", "high")],
        key=lambda kv: urgency(*kv),
    )  # fmt: skip
    assert [k for k, _ in order] == [
        "stale", "theft", "stale_soon", "commercial_review", "fetch_failed",
    ]  # fmt: skip
