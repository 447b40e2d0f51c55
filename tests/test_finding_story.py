"""A finding's page tells its whole story (issue 30): the post with the hit marked, the page as
the patrol saw it, the deadline in words, the 说明 with its link as a link, and every event
in order — opened, who was told by which channel and when, the duty officer's
acknowledgement with its note, the escalation to the city, and what later steps say.

The story is made the way it happens: 贵阳's site publishes a notice with an unmasked ID
number, a real check finds it (real page on 127.0.0.1, real detector, the page's picture
drawn by Chromium), the dispatcher tells the county's DingTalk robot and, an hour later, the
city's WeCom robot (both on 127.0.0.1), and the duty officer acknowledges on the console.
Events other parts of xuncha write (已整改, 复查, 升级提醒) and one it does not know yet are
added as their writers store them. The page's text is a golden file
(``XUNCHA_UPDATE_GOLDEN=1`` rewrites it; read the diff).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from sqlmodel import Session, select

from monitor.app import App
from monitor.store.engine import session_scope
from monitor.store.models import Finding, FindingEvent
from monitor.web import auth
from monitor.web.auth import add_user
from tests.conftest import add_account, add_unit, make_settings, open_app
from tests.robots import DingTalkRobot, WeComRobot
from tests.screenshot_site import NOW, OPTIONS, PAGE, government_site, news_page, page_reply
from tests.test_alerting import Clock, tick
from tests.test_screenshots_shown import draw_due
from tests.test_unchanged import patrol
from tests.test_web import FAST_HASHER, PASSWORD, client_for, csrf_of, login
from tests.test_web_browser import SHOTS, browser, serving, shoot, sign_in  # noqa: F401

GOLDEN = Path(__file__).parent / "golden" / "web" / "finding-story.txt"
NOTE = "已联系民政科，今天下午撤下原文并重新发布脱敏版本"
LEAK = "低保公示：户主张某，身份证号11010519491231002X"


@dataclass
class Story:
    app: App
    finding: int
    robots: dict[str, object]
    fix: Callable[[], None]  # the unit takes the post down; the next check sees it gone


def tell(app: App, clock: Clock, minutes: int) -> None:
    for _ in range(minutes):
        tick(app, clock)
        clock.advance(minutes=1)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    clock = Clock(NOW)
    with (
        government_site() as (server, tracker),
        DingTalkRobot(clock=clock) as county,
        WeComRobot(clock=clock) as city,
    ):
        settings = make_settings(
            tmp_path_factory.mktemp("story"),
            channels={"gy_duty": county.apprise_url()},
            alerts={
                "origins": {"dingtalk": county.origin, "wecombot": city.origin},
                "escalate_after_minutes": 60,
                "escalate_immediately": [],
            },
        )
        app = open_app(settings)
        add_unit(app, "GZ", "贵州省人民政府办公厅", channels=[city.apprise_url()])
        add_unit(app, "GZ-GY", "贵阳市人民政府办公厅", parent="GZ", channels=["@gy_duty"])
        add_account(app, "gy-site", "GZ-GY", server.url(PAGE), name="贵阳市人民政府门户网站",
                    platform="website", reader="webpage", options=OPTIONS)  # fmt: skip
        server[PAGE] = page_reply(news_page(server.base, tracker.url, (LEAK, "2026-11-24")))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(auth, "_hasher", FAST_HASHER)
            with session_scope(app.engine) as s:
                add_user(s, "duty_gy", "duty", "GZ-GY", PASSWORD, NOW)
                add_user(s, "duty_other", "duty", "GZ", PASSWORD, NOW)
        result = patrol(app, "gy-site", NOW)
        draw_due(app)
        with Session(app.engine) as s:
            f = s.exec(select(Finding).where(Finding.kind == "privacy")).one()
            assert f.id is not None and result.snapshot is not None
        tell(app, clock, 90)  # the county at once, the city after an hour unacknowledged

        def fix() -> None:
            server[PAGE] = page_reply(news_page(server.base, tracker.url))
            clock.now = NOW + timedelta(hours=6, minutes=30)
            patrol(app, "gy-site", clock.now)
            tell(app, clock, 3)

        yield Story(app, f.id, {"county": county, "city": city}, fix)
        app.close()


def acknowledge_and_later(story: Story) -> None:
    """The duty officer acknowledges on the console; then what other parts of xuncha write."""
    fid = story.finding
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", FAST_HASHER)
        c = login(client_for(story.app), "duty_gy")
        page = c.get(f"/findings/{fid}")
        # while open: the deadline in words (privacy: 24 hours; the console's clock is 4 h on)
        assert "须在 2026-11-25 10:00 前整改，还剩 20 小时" in page.text
        r = c.post(
            f"/findings/{fid}/ack",
            data={"csrf": csrf_of(page.text), "note": NOTE, "back": f"/findings/{fid}"},
        )
        assert r.status_code == 303, r.text
    later = NOW + timedelta(hours=6)  # after the acknowledgement (the console's clock)
    with session_scope(story.app.engine) as s:
        for i, (event, detail) in enumerate([
            ("rectified", {"by": "duty_gy", "note": "原文已撤下，脱敏版本已重新发布"}),
            ("recheck_failed", {"why": "复查时原文仍可访问"}),
            # as monitor/alerting/ladder.py writes it
            ("ladder_step", {"step": 2, "after": "2h", "to": "duty_sms", "sent": True,
                             "who": "值班手机（短信）", "channel": "@sms", "phones": 2}),
            ("future_thing", {"what": "一种以后才有的事件"}),
        ]):  # fmt: skip
            s.add(FindingEvent(finding_id=fid, event=event, at=later + timedelta(minutes=i),
                               detail=detail))  # fmt: skip
    story.fix()


def main_text(html: str) -> str:
    """The page's main part as a reader reads it, one block a line; the site's port, the
    browser's version and the picture's hashes (which change from run to run) written as
    placeholders."""
    tree = HTMLParser(html)
    main = tree.css_first("main")
    assert main is not None
    for node in main.css("details, form"):
        node.decompose()
    lines = []
    for node in main.css("h1, h2, dt, dd, p, li, pre.marked"):
        text = " ".join(node.text(separator=" ").split())
        if text:
            lines.append(f"{node.tag}: {text}")
    out = "\n".join(lines) + "\n"
    out = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", out)
    out = re.sub(r"Chromium [\d.]+", "Chromium VERSION", out)
    return re.sub(r"\b[0-9a-f]{64}\b", "HASH", out)


def test_the_finding_page_tells_the_whole_story(story: Story) -> None:
    acknowledge_and_later(story)
    c = login(client_for(story.app), "duty_gy")
    r = c.get(f"/findings/{story.finding}")
    assert r.status_code == 200
    html = r.text
    tree = HTMLParser(html)
    # the post with the hit marked: the ID number masked and marked, never shown whole
    mark = tree.css_first("pre.marked mark")
    assert mark is not None and mark.text() == "110105********002X"
    assert "11010519491231002X" not in html
    # the page as the patrol saw it, inline
    img = tree.css_first("figure.page-shot img.shot")
    assert img is not None and "/screenshots/0" in (img.attributes.get("src") or "")
    # the 说明 is prose with the post's address as a link, not a monospace line
    prose = tree.css_first("p.prose")
    assert prose is not None and prose.css_first("a") is not None
    assert (prose.css_first("a").attributes.get("href") or "").endswith("/zwdt/new0.html")
    # the story: in order, who was told by which channel, the note in the officer's words
    steps = [" ".join(li.text(separator=" ").split()) for li in tree.css("ol.timeline li")]
    joined = "\n".join(steps)
    assert steps[0].endswith("发现问题 级别：严重")
    assert "通知问题 贵阳市人民政府办公厅（钉钉）：已发送" in joined
    assert "升级上报 上报贵州省人民政府办公厅" in joined
    assert "上报 贵州省人民政府办公厅（企业微信）：已发送" in joined
    assert f"已确认 确认人：duty_gy {NOTE}" in joined
    assert "单位已整改 操作人：duty_gy 原文已撤下，脱敏版本已重新发布" in joined
    assert "复查未通过 复查时原文仍可访问" in joined
    assert "升级提醒 第 2 级（问题出现 2 小时后）：已通知值班手机（短信），经 @sms" in joined
    assert "future_thing what：一种以后才有的事件" in joined  # unknown: by its name
    times = [t.text() for t in tree.css("ol.timeline li time")]
    assert times == sorted(times) and len(times) == len(steps)  # oldest first
    assert "问题解决 快照 #2 已不再显示此问题" in joined  # the next check saw it gone
    assert "通知问题已解决 贵阳市人民政府办公厅（钉钉）：已发送" in joined
    told = [m for r in story.robots.values() for m in r.accepted]  # type: ignore[attr-defined]
    # what the page says was sent is what the robots received: the county's opening and
    # resolution, the city's escalation and, since it was told, the resolution too
    assert "通知问题已解决 贵州省人民政府办公厅（企业微信）：已发送" in joined
    assert len(told) == 4 == len(tree.css("ol.timeline li.message"))
    assert "dingtalk://" not in html and "wecombot://" not in html  # never an address
    # resolved: no deadline to count down any more; the note beside the acknowledgement
    assert "已解决" in main_text(html) and "还剩" not in main_text(html)
    assert tree.css_first("dl.facts blockquote.note").text() == NOTE
    if os.environ.get("XUNCHA_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(main_text(html), encoding="utf-8")
    assert main_text(html) == GOLDEN.read_text(encoding="utf-8")


def test_the_story_on_a_desktop_and_a_phone(story: Story, browser: Any) -> None:  # noqa: F811
    """The same page in Chromium at 1280 and 390 px: nothing wider than the screen, the
    picture inside it, the story's lines readable. ``finding-story-1280.png`` and
    ``finding-story-390.png`` for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serving(story.app, NOW + timedelta(hours=7)) as base:
        for width in (1280, 390):
            ctx = browser.new_context(
                base_url=base, viewport={"width": width, "height": 900}, locale="zh-CN"
            )
            page = ctx.new_page()
            try:
                sign_in_as(page, "duty_gy")
                page.goto(f"/findings/{story.finding}")
                assert page.get_by_role("heading", name="经过").is_visible()
                scroll = page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, f"the finding page at {width} px scrolls sideways"
                shot = page.locator("figure.page-shot img.shot").bounding_box()
                assert shot is not None and shot["x"] + shot["width"] <= width
                assert page.locator("ol.timeline li").count() >= 9
                shoot(page, f"finding-story-{width}")
            finally:
                ctx.close()


def sign_in_as(page: Any, name: str) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", FAST_HASHER)
        sign_in(page, name)
