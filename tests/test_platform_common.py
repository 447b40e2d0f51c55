"""Helpers shared by the platform readers."""

from __future__ import annotations

from datetime import UTC, datetime

from probes.model import Target
from probes.platforms.browsing import dig
from probes.platforms.common import as_int, from_unix, origin, strip_ip_prefix, unwrap_link
from probes.platforms.xiaohongshu import unref


def test_origin_from_target_with_real_default() -> None:
    t = Target("a", "weibo", "weibo", origins={"m": "http://127.0.0.1:8000/"})
    assert origin(t, "m", "https://m.weibo.cn") == "http://127.0.0.1:8000"
    assert origin(t, "www", "https://weibo.com") == "https://weibo.com"
    catch_all = Target("a", "weibo", "weibo", origins={"origin": "http://mirror"})
    assert origin(catch_all, "www", "https://weibo.com") == "http://mirror"


def test_unix_seconds_and_milliseconds() -> None:
    when = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)
    assert from_unix(int(when.timestamp())) == when
    assert from_unix(str(int(when.timestamp() * 1000))) == when
    assert from_unix(None) is None and from_unix("x") is None and from_unix(0) is None


def test_counts_and_ip_and_links() -> None:
    assert [as_int(v) for v in (12, "3,400", "12.3万", "1亿", None, True, "?")] == [
        12, 3400, 123000, 100_000_000, None, None, None,
    ]  # fmt: skip
    assert strip_ip_prefix("IP属地：北京") == "北京"
    assert strip_ip_prefix("发布于 山东") == "山东" and strip_ip_prefix("") is None
    wrapped = "https://weibo.cn/sinaurl?u=https%3A%2F%2Fs.click.taobao.com%2Fx"
    assert unwrap_link(wrapped) == "https://s.click.taobao.com/x"
    assert unwrap_link("https://www.gov.cn/") == "https://www.gov.cn/"


def test_dig_and_unref() -> None:
    data = {"a": [{"b": 1}]}
    assert dig(data, "a", 0, "b") == 1
    assert dig(data, "a", 1, "b") is None and dig(data, "x", "y") is None
    assert unref({"_rawValue": {"n": {"_value": [1, {"_rawValue": 2}]}}}) == {"n": [1, 2]}
