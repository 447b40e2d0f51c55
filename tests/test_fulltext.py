"""Full text for the detectors (issue 29): what a reader can have of a post's body, the
detectors judge — a WeChat article's ``#js_content``, an RSS item's ``content:encoded``, a
site's detail page — within a bound per check; and the finding names every hit.

The pages are served from 127.0.0.1 in the shapes the platforms send:

- WeChat article: ``div#js_content.rich_media_content`` (hidden until its script runs),
  ``var ct = "<unix s>"`` in a ``script[nonce]``, ``#js_name``, ``#activity-name``,
  ``provinceName`` — as DIYgod/RSSHub ``lib/utils/wechat-mp.ts`` (``fetchArticle``,
  ``ExtractMetadata``) reads them; the list is an RSS bridge that gives titles and links
  only (RSSHub ``lib/routes/wechat/wechat2rss.ts`` maps a Wechat2RSS feed to title, pubDate,
  link and fetches each article for its body).
- RSS with ``content:encoded`` (RSS 2.0 content module), the body while ``description`` is a
  summary.
- A TRS-CMS government column: the list ``.common_ul li`` with a date ``span`` and the body
  on each item's page in ``.TRS_Editor`` (RSSHub's 国家海洋局东海分局 通知公告 route reads
  ``.left_top .common_ul li`` and ``$('.TRS_Editor').html()`` of each detail page).
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
from localserver import LocalServer, Reply
from sqlmodel import select

from monitor.patrol.pipeline import check
from monitor.store.engine import session_scope
from monitor.store.models import Finding
from monitor.web.auth import add_user
from probes.checks.content import judge_content
from probes.fetch import Tools
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Target
from probes.platforms import observe
from probes.platforms.fulltext import CHECK_BUDGET, SUMMARY_CHARS, full_text
from tests.conftest import add_account, add_unit, make_settings, open_app
from tests.test_web import NOW as WEB_NOW
from tests.test_web import client_for, login

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
FAST = HttpSettings(timeout_seconds=3.0, connect_timeout_seconds=1.0, retries=0)
ID = "11010519491231002X"  # GB 11643's own example: a valid check character
PHONES = [f"1381234{k:04d}" for k in range(1, 11)]
INTRO = "根据《公益性岗位开发管理办法》有关规定，经个人申请、资格审查、统一考试、考察等程序，" * 8
ARTICLE_URL = "https://mp.weixin.qq.com/s/QxRsGw1"
RSS, HTML = "application/rss+xml", "text/html; charset=utf-8"


def article(rows: list[str], ident: str) -> str:
    table = "".join(
        f"<tr><td><span>{k}</span></td><td>张某{k}</td><td>{p}</td></tr>"
        for k, p in enumerate(rows, 1)
    )
    ct = int((NOW - timedelta(hours=3)).timestamp())
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>公示</title></head><body>
<h1 class="rich_media_title" id="activity-name">青溪县2026年公益性岗位拟聘用人员公示</h1>
<a id="js_name">青溪人社</a>
<div class="rich_media_content" id="js_content" style="visibility: hidden;">
<section><p>{INTRO}</p></section>
<section><table><tr><td>序号</td><td>姓名</td><td>联系电话</td></tr>{table}</table></section>
<p>另：补录人员李某，身份证号{ident}，公示期5天。</p>
</div>
<script nonce="123" type="text/javascript">var ct = "{ct}"; var real_item_show_type = "0";
var item_show_type = "0";
window.ip_wording = {{ countryName: '中国', provinceName: '贵州' }};</script>
</body></html>"""


def bridge(link: str) -> str:
    when = (NOW - timedelta(hours=3)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>青溪人社</title><link>https://wechat2rss.xlab.app/posts/list/</link>
<item><title>青溪县2026年公益性岗位拟聘用人员公示</title><link>{link}</link>
<pubDate>{when}</pubDate></item></channel></rss>"""


def test_full_text_keeps_rows_and_joins_inline_words() -> None:
    html = (
        "<p>户主<strong>张某</strong>，住址<span>城关镇</span></p>"
        "<table><tr><td>1</td><td>李某</td></tr></table>"
    )
    assert full_text(html) == "户主张某，住址城关镇\n1 李某"
    assert full_text("纯文本") == "纯文本" and full_text("") == ""


def _wechat_check(tmp: Path, page: str) -> tuple:  # type: ignore[type-arg]
    routes = {
        "/feed": Reply(body=bridge(ARTICLE_URL), headers={"Content-Type": RSS}),
        "/s/QxRsGw1": Reply(body=page, headers={"Content-Type": HTML}),
    }
    with LocalServer(routes) as srv:
        settings = make_settings(tmp, platforms={"wechat": {"origins": {"mp": srv.base}}},
                                 patrol={"writer": "thread"})  # fmt: skip
        app = open_app(settings)
        add_unit(app, "qx-rs", "青溪县人力资源和社会保障局")
        add_account(app, "wx-rs", "qx-rs", "", platform="wechat", reader="wechat",
                    name="青溪人社", options={"list_url": srv.url("/feed")})  # fmt: skip

        async def go():  # type: ignore[no-untyped-def]
            async with app.probing() as tools:
                return await check(app, tools, "wx-rs", now=NOW)

        result = anyio.run(go)
    return app, result


def test_wechat_article_body_is_judged_and_every_row_is_named(tmp_path: Path) -> None:
    """The bridge gives a title; the article's body holds a table of ten mobiles under a
    姓名/联系电话 header and an ID past the first 500 characters. Every one is named."""
    app, result = _wechat_check(tmp_path, article(PHONES, ID))
    try:
        (sig,) = [s for s in result.signals if s.kind == "privacy"]
        (post,) = sig.evidence["posts"]
        hits = [f["hit"] for f in post["findings"]]
        assert hits == [f"138****{k:04d}" for k in range(1, 11)] + ["110105********002X"]
        assert all(ID not in f["span"] and "13812340001" not in f["span"] for f in post["findings"])
        assert "同类共 10 处" in sig.detail and "138****0010" in sig.detail  # every row named
        assert len(post["marked"]["hits"]) == 11 and ID not in post["marked"]["text"]
        # the finding page shows the post with the eleven hits marked
        with client_for(app) as client:
            with session_scope(app.engine) as s:
                add_user(s, "admin", "admin", None, "correct horse 42", WEB_NOW)
                fid = s.exec(select(Finding.id).where(Finding.kind == "privacy")).one()
            page = login(client, "admin").get(f"/findings/{fid}").text
        marks = re.findall(r'<mark title="([^"]+)">([^<]+)</mark>', page)
        assert len(marks) == 11 and ("个人手机号未脱敏", "138****0010") in marks
        assert ("身份证号未脱敏", "110105********002X") in marks and ID not in page
    finally:
        app.close()


def test_the_twin_article_with_masked_numbers_opens_nothing(tmp_path: Path) -> None:
    masked = [p[:3] + "****" + p[-4:] for p in PHONES]
    app, result = _wechat_check(tmp_path, article(masked, "110105********002X"))
    try:
        assert result.snapshot.outcome == "ok"
        assert not [s for s in result.signals if s.kind == "privacy"]
    finally:
        app.close()


def _observe(t: Target) -> Observation:
    async def main() -> Observation:
        async with Fetcher(FAST) as f:
            return await observe(t, Tools(f), now=NOW)

    return asyncio.run(main())


def _rss(items: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<item><title>{title}</title><link>https://www.qx.gov.cn/art/{k}.html</link>"
        f"<pubDate>{(NOW - timedelta(hours=k + 1)).strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate>"
        f"<description>{title}……</description>"
        f"<content:encoded><![CDATA[{html}]]></content:encoded></item>"
        for k, (title, html) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>青溪县人民政府</title><link>https://www.qx.gov.cn/</link>{body}"
        "</channel></rss>"
    )


def test_rss_content_encoded_is_the_text_within_a_bound_per_check() -> None:
    notice = f"<p>{INTRO * 2}</p><p>低保对象：户主张某，身份证号{ID}。</p>"  # past 500 chars
    long_items = [(f"通知{k}", "<p>" + "政策解读" * 5000 + "</p>") for k in range(1, 30)]
    feed = _rss([("低保公示", notice), *long_items])
    with LocalServer(
        {"/f": Reply(body=feed, headers={"Content-Type": "application/rss+xml"})}
    ) as srv:
        obs = _observe(Target("a", "website", "rss", url=srv.url("/f")))
    assert obs.outcome is Outcome.ok
    first = next(p for p in obs.posts if p.title == "低保公示")
    assert ID in first.text and len(first.text) > 500  # the body, not the summary
    v = judge_content(first, "", NOW.date())
    assert [f.rule for f in v.findings] == ["privacy.id_card"]
    total = sum(len(p.text) for p in obs.posts)
    assert total <= CHECK_BUDGET + SUMMARY_CHARS * len(obs.posts)
    assert len(max(obs.posts, key=lambda p: p.published_at).text) == len(first.text)


def _column(n: int) -> str:
    items = "".join(
        f'<li><p><a href="/art/{k}.html" title="通知{k}">通知{k}</a></p>'
        f"<span>{(NOW - timedelta(days=k)).date().isoformat()}</span></li>"
        for k in range(n)
    )
    return (
        f'<html><body><div class="left_top"><ul class="common_ul">{items}</ul></div></body></html>'
    )


def _detail(k: int) -> str:
    body = (
        f"<p>关于临时救助对象的公示</p><p>户主王某，身份证号{ID}。</p>"
        if k == 0
        else "<p>工作动态。</p>"
    )
    return f'<html><body><h1>通知{k}</h1><div class="TRS_Editor">{body}</div></body></html>'


def test_webpage_detail_pages_when_configured_at_most_details_a_check() -> None:
    routes = {"/list": Reply(body=_column(8), headers={"Content-Type": "text/html; charset=utf-8"})}
    routes |= {f"/art/{k}.html": Reply(body=_detail(k), headers={"Content-Type": "text/html"})
               for k in range(8)}  # fmt: skip
    opts = {"item": ".common_ul li", "date": "span", "link": "a"}
    with LocalServer(routes) as srv:
        plain = _observe(Target("a", "website", "webpage", url=srv.url("/list"), options=opts))
        assert not any(srv.hits.get(f"/art/{k}.html") for k in range(8))  # not configured
        full = _observe(Target("a", "website", "webpage", url=srv.url("/list"),
                               options={**opts, "detail": ".TRS_Editor"}))  # fmt: skip
        opened = sorted(k for k in range(8) if srv.hits.get(f"/art/{k}.html"))
    assert opened == [0, 1, 2]  # the newest three (details, default 3)
    assert ID not in plain.posts[0].text
    newest = next(p for p in full.posts if p.url.endswith("/art/0.html"))
    assert ID in newest.text and "户主王某" in newest.text
    assert [f.rule for f in judge_content(newest, "", NOW.date()).findings] == ["privacy.id_card"]
    assert [a.kind for a in full.artifacts].count("page") == 4  # the list and three pages
