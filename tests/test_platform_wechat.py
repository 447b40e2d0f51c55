"""WeChat reader: article pages (ct, nickname, 阅读原文, body links, IP) and list sources."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from localserver import LocalServer
from simulator import NOW, Simulator

from probes.fetch import Tools
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Target
from probes.platforms import observe

FAST = HttpSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, retries=0)
ARTICLE = "https://mp.weixin.qq.com/s/AbCdEf123"


def run(url: str = "", **options: str) -> Observation:
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
                return await observe(t, Tools(f), now=NOW)

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


def test_album_page_list_with_selectors() -> None:
    obs = run(
        "",
        list_url="BASE/wx/album",
        item="li.album__list-item",
        date=".js_article_create_time",
        title=".album__item-title",
        articles="2",
    )
    assert obs.outcome is Outcome.ok, obs.detail
    assert len(obs.posts) == 2
    assert all(p.published_at is not None for p in obs.posts)
    assert obs.posts[0].published_at == NOW - timedelta(hours=5)
    assert [a.kind for a in obs.artifacts] == ["page", "page", "page"]


def test_notice_words_inside_an_article_body_do_not_count() -> None:
    from probes.platforms.wechat import _judge

    obs = Observation("a", "wechat", "", NOW, Outcome.ok)
    body = '<div id="js_content">监测发现水质环境异常，该内容已被发布者删除的谣言不实</div>'
    assert not _judge(obs, body) and obs.outcome is Outcome.ok
