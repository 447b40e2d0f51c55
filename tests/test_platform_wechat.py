"""WeChat reader: article pages (ct, nickname, 阅读原文, body links, IP) and list sources."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from localserver import LocalServer
from simulator import NOW, Simulator

from probes.checks import evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.rules import BUILTIN_RULESETS
from probes.fetch import Tools
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Target
from probes.platforms import observe

FAST = HttpSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, retries=0)
ARTICLE = "https://mp.weixin.qq.com/s/AbCdEf123"
CAL = WorkCalendar()


def run(url: str = "", at: datetime = NOW, **options: str) -> Observation:
    with LocalServer(Simulator().routes()) as srv:
        opts = {k: v.replace("BASE", srv.base) for k, v in options.items()}
        t = Target(
            account_id="wx-1",
            platform="wechat",
            reader="wechat",
            url=url,
            options=opts,
            origins={"mp": srv.base},
        )

        async def main() -> Observation:
            async with Fetcher(FAST) as f:
                return await observe(t, Tools(f), now=at)

        return asyncio.run(main())


def test_article_page_fields() -> None:
    obs = run(ARTICLE)
    assert obs.outcome is Outcome.ok, obs.detail
    assert obs.profile.name == "平安示例" and obs.profile.ip_location == "山东"
    (post,) = obs.posts
    assert post.url == ARTICLE and post.title == "冬季防火提示"
    assert post.published_at == NOW - timedelta(hours=5)
    assert post.links[0] == "https://www.example-shop.com/promo?from=wx"  # 阅读原文 first
    assert "https://u.jd.com/abcdef" in post.links
    assert "https://www.gov.cn/zhengce/2026-11/20/content_1.htm" in post.links
    assert obs.artifacts[0].kind == "page"


def test_deleted_article_is_not_found_and_env_check_is_blocked() -> None:
    obs = run("https://mp.weixin.qq.com/s/deleted")
    assert obs.outcome is Outcome.not_found and "已被发布者删除" in obs.detail
    obs = run("https://mp.weixin.qq.com/s/env")
    assert obs.outcome is Outcome.blocked and "环境异常" in obs.detail


def test_rss_bridge_list_then_newest_article_page() -> None:
    obs = run("", list_url="BASE/wx/feed.xml")
    assert obs.outcome is Outcome.ok, obs.detail
    assert obs.reader == "wechat" and obs.profile.name == "平安示例"
    posts = {p.url: p for p in obs.posts}
    fresh = posts[ARTICLE]
    assert fresh.published_at == NOW - timedelta(hours=5)  # exact time from ct, not the day
    assert "https://u.jd.com/abcdef" in fresh.links
    assert obs.profile.ip_location == "山东"
    old = posts["https://mp.weixin.qq.com/s/Old456"]
    assert old.published_at is not None and "https://u.jd.com/abcdef" not in old.links
    assert [a.kind for a in obs.artifacts] == ["feed", "page"]


ALBUM = (
    "https://mp.weixin.qq.com/mp/appmsgalbum?__biz=MzA3MDM3NjE5NQ==&action=getalbum"
    "&album_id=1375870284640911361"
)


def kinds(obs: Observation) -> list[str]:
    sigs = evaluate(obs, ruleset=BUILTIN_RULESETS["national"], calendar=CAL, now=obs.fetched_at)
    return [s.kind for s in sigs]


def test_album_page_is_read_without_selectors_and_dated_in_unix_seconds() -> None:
    """tests/fixtures/platforms/wechat/album.html: times in ``.js_article_create_time``
    (unix seconds), one only in the inline ``cgiData``; links in ``data-link``."""
    obs = run("", list_url=ALBUM, articles="1")
    assert obs.outcome is Outcome.ok and obs.detail == "", obs.detail
    assert obs.profile.name == "平安示例"
    dated = {p.title: p.published_at for p in obs.posts}
    assert dated == {
        "冬季防火提示": NOW - timedelta(hours=5),
        "旧文章": NOW - timedelta(days=9),  # its span is empty: cgiData's create_time
        "秋季征兵公告": NOW - timedelta(days=30),
    }
    fresh = obs.posts[0]
    assert fresh.url == (
        "https://mp.weixin.qq.com/s?__biz=MzA3MDM3NjE5NQ==&mid=2247485001&idx=1"
        "&sn=6f1c0d001a9e2b#rd"
    )
    assert "https://u.jd.com/abcdef" in fresh.links  # its article page was opened
    assert [a.kind for a in obs.artifacts] == ["page", "page"]
    assert "stale" not in kinds(obs) and "undated" not in kinds(obs)


def test_an_album_whose_newest_article_is_old_is_stale() -> None:
    """The honest twin: the same page read 20 days later (its newest article 20 days old)."""
    obs = run("", at=NOW + timedelta(days=20), list_url=ALBUM, articles="0")
    assert obs.outcome is Outcome.ok
    assert max(p.published_at for p in obs.posts if p.published_at) == NOW - timedelta(hours=5)
    assert "stale" in kinds(obs)


def test_album_page_elsewhere_with_selectors() -> None:
    """The same page at another address, read with the operator's selectors: the item's
    ``data-link``/``data-title`` and its unix-seconds time are read as well."""
    obs = run("", list_url="BASE/wx/album", item="li.album__list-item",
              date=".js_article_create_time", articles="0")  # fmt: skip
    assert obs.outcome is Outcome.ok, obs.detail
    assert [p.title for p in obs.posts] == ["冬季防火提示", "旧文章", "秋季征兵公告"]
    assert obs.posts[0].published_at == NOW - timedelta(hours=5)
    assert obs.posts[0].url.startswith("http://mp.weixin.qq.com/s?__biz=")


def test_notice_words_inside_an_article_body_do_not_count() -> None:
    from probes.platforms.wechat import _judge

    obs = Observation("a", "wechat", "", NOW, Outcome.ok)
    body = '<div id="js_content">监测发现水质环境异常，该内容已被发布者删除的谣言不实</div>'
    assert not _judge(obs, body) and obs.outcome is Outcome.ok
