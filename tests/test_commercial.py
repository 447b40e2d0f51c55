"""Commercial-content detector: rules, evidence, data files and the labelled corpus."""

from __future__ import annotations

import dataclasses
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "corpus"))

from corpus_cases import load_posts

from probes.checks import DETECTORS, evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.commercial import (
    _extractor,
    classify_link,
    judge_post,
    load_lexicons,
    registrable_domain,
    scan_words,
)
from probes.checks.rules import BUILTIN_RULESETS
from probes.model import Observation, Outcome, Post, Severity

NOW = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)


def level(text: str, **kw: object) -> str | None:
    return judge_post(Post(id="p", published_at=NOW, text=text, **kw)).level  # type: ignore[arg-type]


def test_registered_and_in_evaluate() -> None:
    assert "commercial" in DETECTORS
    o = Observation(
        "a",
        "weibo",
        "",
        NOW,
        Outcome.ok,
        posts=[Post(id="x1", published_at=NOW, text="宝妈兼职刷单日结，加微信jz12345")],
    )
    sigs = evaluate(
        o, ruleset=BUILTIN_RULESETS["national"], calendar=WorkCalendar(), now=NOW
    )  # old call shape still works
    com = [s for s in sigs if s.kind == "commercial"]
    assert com and com[0].severity is Severity.high
    ev = com[0].evidence["posts"][0]
    assert ev["post_id"] == "x1"
    assert {w["word"] for w in ev["words"]} >= {"兼职", "刷单"}
    assert any("刷单" in w["context"] for w in ev["words"])
    assert ev["contact"] == ["加微信jz12345"]


def test_tldextract_uses_bundled_list_only() -> None:
    ex = _extractor()
    assert tuple(ex.suffix_list_urls) == ()
    assert registrable_domain("a.b.news.sina.com.cn") == "sina.com.cn"
    assert registrable_domain("www.beijing.gov.cn") == "beijing.gov.cn"


@pytest.mark.parametrize(
    ("url", "verdict"),
    [
        ("https://www.gov.cn/zhengce/", "allow"),
        ("http://www.gz.gov.cn/a", "allow"),
        ("https://s.click.taobao.com/t?e=1", "deny"),
        ("https://item.taobao.com/item.htm", "deny"),
        ("https://m.tb.cn/h.abc", "deny"),
        ("https://union-click.jd.com/x", "deny"),
        ("https://mobile.yangkeduo.com/g", "deny"),
        ("https://www.gov.cn.jd-mall.com/login", "unknown"),  # judged by host, not by text
        ("https://example.org/", "unknown"),
    ],
)
def test_classify_by_final_host(url: str, verdict: str) -> None:
    assert classify_link(url)[0] == verdict


def test_lookalike_gov_host_and_disguised_anchor_accuse() -> None:
    assert level('入口 <a href="https://www.gov.cn.jd-mall.com/">www.gov.cn</a>') == "commercial"
    assert level('<a href="https://evil.example/">http://www.beijing.gov.cn</a>') == "commercial"
    assert level('<a href="https://www.beijing.gov.cn/x">www.beijing.gov.cn</a>') is None


def test_taokouling_and_contact_baits() -> None:
    assert level("￥Ab12Cd34Ef5￥ 复制这段描述，打开淘宝") == "commercial"
    assert level("网贷口子下款快，QQ：3012345678") == "commercial"
    assert level("兼职日结 V：abc12345") == "commercial"


def test_single_ambiguous_word_does_not_accuse() -> None:
    assert level("2026年度住房公积金贷款额度上限调整为80万元") is None
    assert level("有奖竞答，抽奖送出精美礼品") is None
    assert level("请拨打咨询电话13812345678") is None  # a phone number alone is not an ad


def test_fraud_news_quoting_spam_words_does_not_fire() -> None:
    text = "【反诈提醒】“刷单返利”“无视征信秒下款”都是诈骗，骗子会要求加微信abc12345，切勿相信！"
    assert level(text) is None
    # a polite opening word is not a fraud warning: spam starts with 温馨提醒 too
    assert level("温馨提醒：兼职刷单日结，加微信sd12345") == "commercial"
    # ... but a deny-listed link in such a post is still judged by where it leads
    assert level(text + " https://item.taobao.com/item.htm?id=1") == "commercial"


def test_welfare_sales_and_official_miniprograms_go_to_review() -> None:
    assert level("消费帮扶产品限时包邮，欢迎选购") == "review"
    assert level("助农直播 https://mall.jd.com/index-1.html 点击下单") == "review"
    card = '<mp-miniprogram data-miniprogram-appid="wx1" data-miniprogram-nickname="交管12123">'
    assert level(card) == "review"
    # hard spam words are never softened by a welfare word
    assert level("助农！网贷秒批无视征信，加微信dk12345") == "commercial"


def test_review_signal_is_info() -> None:
    o = Observation(
        "a", "wechat", "", NOW, Outcome.ok, posts=[Post("w1", NOW, text="消费帮扶好物，欢迎选购")]
    )
    sigs = DETECTORS["commercial"](o, None)  # type: ignore[arg-type]
    assert [(s.kind, s.severity) for s in sigs] == [("commercial_review", Severity.info)]


def test_lexicons_are_data_files_users_extend(tmp_path: Path) -> None:
    (tmp_path / "gambling.txt").write_text("# c\n新赌词 2\nABC\n", encoding="utf-8")
    lex = load_lexicons(tmp_path)
    assert lex.words == 2
    hits = scan_words("这里有新赌词和abc", lex)
    assert {(h.category, h.word, h.weight) for h in hits} == {
        ("gambling", "新赌词", 2.0),
        ("gambling", "abc", 1.0),
    }


def test_corpus_goals() -> None:
    cases = load_posts()
    assert len(cases) >= 100
    pos = [c for c in cases if c.label == "commercial"]
    clean = [c for c in cases if c.label == "clean"]
    review = [c for c in cases if c.label == "review"]
    found = [c for c in pos if judge_post(c.post).level == "commercial"]
    flagged = [c.id for c in clean if judge_post(c.post).level is not None]
    assert len(found) / len(pos) >= 0.95
    assert len(flagged) / len(clean) <= 0.02, flagged
    assert all(judge_post(c.post).level == "review" for c in review)


def test_a_post_judged_once_is_looked_up_not_judged_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A news list that gained one item: the 99 others are not scanned again, and the
    verdicts are the ones a full judgement gives, naming the posts of this check."""
    from probes.checks import commercial

    posts = [c.post for c in load_posts()]
    expected = [(v.post.id, v.level, v.reasons) for v in map(judge_post, posts) if v.level]
    assert [(v.post.id, v.level, v.reasons) for v in commercial.judge_posts(posts)] == expected

    def judged_again(post: Post, *_: object) -> None:
        raise AssertionError(f"{post.id} judged again")

    monkeypatch.setattr(commercial, "judge_post", judged_again)
    # the same posts read again from a new fetch: equal content, new objects, new pin state
    again = [dataclasses.replace(p, pinned=not p.pinned) for p in posts]
    verdicts = commercial.judge_posts(again)
    assert [(v.post.id, v.level, v.reasons) for v in verdicts] == expected
    assert all(any(v.post is p for p in again) for v in verdicts)
    # a post whose text changed under the same id is judged afresh
    edited = Post(id=posts[0].id, published_at=NOW, text=posts[0].text + "，加微信abc12345")
    with pytest.raises(AssertionError, match="judged again"):
        commercial.judge_posts([edited])
