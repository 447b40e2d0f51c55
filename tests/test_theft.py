"""Stolen-account detector: each sign, the combined finding, pHash, and the corpus."""

from __future__ import annotations

import io
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))

from corpus_cases import load_accounts
from detectors import account_verdict

from probes.checks import Context, evaluate, merge_posts
from probes.checks.calendar import WorkCalendar
from probes.checks.identity import core, lcs, name_relation, name_similarity, places_of
from probes.checks.rules import BUILTIN_RULESETS
from probes.checks.theft import (
    AVATAR_DISTANCE,
    THRESHOLD,
    detect_theft,
    hash_distance,
    phash,
    province_of,
    theft_signs,
)
from probes.model import Observation, Outcome, Post, Profile, Severity, observation_from_facts

NOW = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 12:00 Asia/Shanghai
PREV_AT = NOW - timedelta(days=7)
CAL = WorkCalendar()
NATIONAL = BUILTIN_RULESETS["national"]
GOV = Profile(
    name="平安某县",
    bio="某县公安局官方微博",
    avatar_hash="c3a1b2d4e5f60718",
    verified=True,
    verified_type="1",
    verified_reason="某县公安局官方微博",
    ip_location="IP属地：贵州",
)


def history(n: int = 10, every_days: float = 2, last: datetime = PREV_AT) -> list[Post]:
    return [
        Post(
            id=f"h{k}",
            published_at=last - timedelta(days=every_days * k),
            text="【通知】工作动态",
            client="微博网页版",
        )
        for k in range(n)
    ]


def snapshot(profile: Profile, posts: list[Post], at: datetime = NOW) -> Observation:
    return Observation("a", "weibo", "", at, Outcome.ok, profile=profile, posts=posts)


def ctx_for(cur: Observation, prev: Observation | None, **kw: str) -> Context:
    return Context(
        ruleset=NATIONAL,
        calendar=CAL,
        now=cur.fetched_at,
        posts=merge_posts(cur.posts, prev.posts if prev else []),
        previous=prev,
        registered_name=kw.get("registered_name", "平安某县"),
        home_province=kw.get("home_province", "贵州"),
        account_status=kw.get("account_status", "active"),
        owner_name=kw.get("owner_name", ""),
    )


def codes(cur: Observation, prev: Observation | None, **kw: str) -> dict[str, float]:
    return {s.code: s.score for s in theft_signs(cur, ctx_for(cur, prev, **kw))}


def test_rename_against_registry_and_previous() -> None:
    prev = snapshot(GOV, history(), PREV_AT)
    cur = snapshot(replace(GOV, name="小美爱生活"), history())
    assert set(codes(cur, prev)) >= {"name_changed", "name_not_registered"}
    # the same rename filed in the registry: no sign at all
    proper = snapshot(replace(GOV, name="某县公安"), history())
    assert codes(proper, prev, registered_name="某县公安") == {}


def test_avatar_distance_tolerates_recompression() -> None:
    prev = snapshot(GOV, history(), PREV_AT)
    near = snapshot(replace(GOV, avatar_hash="c3a1b2d4e5f60719"), history())
    far = snapshot(replace(GOV, avatar_hash="3c5e4b2d1a0f9e87"), history())
    assert "avatar_changed" not in codes(near, prev)
    assert "avatar_changed" in codes(far, prev)


def test_verification_lost_alone_crosses_threshold() -> None:
    prev = snapshot(GOV, history(), PREV_AT)
    cur = snapshot(replace(GOV, verified=False, verified_type="-1", verified_reason=""), history())
    sigs = detect_theft(cur, ctx_for(cur, prev))
    assert [s.kind for s in sigs] == ["theft"]
    assert sigs[0].severity is Severity.high
    assert sigs[0].title.startswith("疑似被盗用")
    signs = {x["code"]: x for x in sigs[0].evidence["signs"]}
    assert signs["verification_lost"]["from_type"] == "1"
    assert sigs[0].evidence["score"] >= THRESHOLD


def test_ip_province_and_client() -> None:
    prev = snapshot(GOV, history(), PREV_AT)
    new = Post("n1", NOW - timedelta(hours=1), text="大家好", client="iPhone 15 Pro")
    cur = snapshot(replace(GOV, ip_location="IP属地：广东"), [new, *history()])
    got = codes(cur, prev)
    assert got["ip_outside_home"] == 1.5 and got["client_changed"] == 1.0
    assert province_of("IP属地：内蒙古") == "内蒙古"
    assert province_of("发布于 美国") == "美国"
    # the pipeline passes the owner unit's registry region as it is filed
    assert province_of("贵州省贵阳市") == "贵州"
    assert province_of("广西壮族自治区南宁市") == "广西"
    assert codes(cur, prev, home_province="贵州省贵阳市")["ip_outside_home"] == 1.5
    assert "ip_outside_home" not in codes(
        replace(cur, profile=replace(GOV, ip_location="IP属地：贵州")),
        prev,
        home_province="贵州省贵阳市",
    )


def test_dormancy_night_burst_and_spam() -> None:
    old = history(8, 7, NOW - timedelta(days=80))
    prev = snapshot(GOV, old, NOW - timedelta(days=5))
    night = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 02:30 local
    spam = [
        Post(f"s{k}", night + timedelta(minutes=5 * k), text="兼职刷单日结，加微信sd88888")
        for k in range(6)
    ]
    cur = snapshot(GOV, [*spam, *old])
    got = codes(cur, prev)
    assert got["dormant_then_active"] == 4.0  # 2 + burst + night
    assert {"burst", "night_posting", "spam_posts"} <= set(got)
    # a single daytime post after a long pause is not theft
    one = snapshot(GOV, [Post("d1", NOW - timedelta(hours=2), text="恢复更新"), *old])
    assert detect_theft(one, ctx_for(one, prev)) == []


@pytest.mark.timeout(60)  # counted over all pairs this shape took minutes: it must not hang
def test_burst_of_a_huge_feed_is_counted_and_the_window_is_24_hours() -> None:
    old = history(8, 7, NOW - timedelta(days=80))
    prev = snapshot(GOV, old, NOW - timedelta(days=5))
    at = NOW - timedelta(hours=3)
    flood = [Post(f"f{k}", at, text="通知") for k in range(26_000)]  # one second, one feed
    cur = snapshot(GOV, [*flood, *old])
    sign = {s.code: s for s in theft_signs(cur, ctx_for(cur, prev))}
    assert sign["burst"].evidence["burst_24h"] == 26_000
    # 5 posts, each exactly 24 hours after the one before: never two in the same 24 hours
    spread = [Post(f"d{k}", at - timedelta(hours=24 * k), text="通知") for k in range(5)]
    cur = snapshot(GOV, [*spread, *old])
    got = {s.code: s for s in theft_signs(cur, ctx_for(cur, prev))}
    assert got["dormant_then_active"].evidence["burst_24h"] == 1


def test_closed_account_posting_again() -> None:
    prev = snapshot(GOV, history(), PREV_AT)
    cur = snapshot(GOV, [Post("c1", NOW - timedelta(hours=1), text="你好"), *history()])
    sigs = detect_theft(cur, ctx_for(cur, prev, account_status="closed"))
    assert sigs and sigs[0].kind == "theft"
    assert "closed_account_active" in {x["code"] for x in sigs[0].evidence["signs"]}


def test_comments_off_is_a_separate_info_signal() -> None:
    prof = replace(GOV)
    prof.comments_disabled = True  # type: ignore[attr-defined]
    cur = snapshot(prof, history())
    sigs = detect_theft(cur, ctx_for(cur, snapshot(GOV, history(), PREV_AT)))
    assert [(s.kind, s.severity, s.title) for s in sigs] == [
        ("no_interaction", Severity.info, "未提供有效互动功能（评论已关闭）")
    ]


def test_evaluate_passes_theft_context() -> None:
    prev = snapshot(GOV, history(), PREV_AT)
    cur = snapshot(replace(GOV, name="鑫鑫商贸", verified=False), history())
    kinds = {
        s.kind
        for s in evaluate(
            cur,
            ruleset=NATIONAL,
            calendar=CAL,
            now=NOW,
            previous=prev,
            registered_name="平安某县",
            home_province="贵州",
        )
    }
    assert "theft" in kinds
    # without the registry and previous snapshot, identity drift cannot be judged
    assert "theft" not in {s.kind for s in evaluate(cur, ruleset=NATIONAL, calendar=CAL, now=NOW)}


def _png(draw: str, size: int = 180) -> bytes:
    im = Image.new("RGB", (180, 180), "white")
    d = ImageDraw.Draw(im)
    if draw == "circle":
        d.ellipse((30, 30, 150, 150), fill="red")
    else:
        d.rectangle((0, 0, 90, 180), fill="blue")
        d.line((0, 180, 180, 0), fill="black", width=12)
    buf = io.BytesIO()
    if size != 180:  # the same picture, shrunk and recompressed as platforms do
        im.resize((size, size)).save(buf, "JPEG", quality=70)
    else:
        im.save(buf, "PNG")
    return buf.getvalue()


def test_phash_is_robust_to_resize_and_separates_pictures() -> None:
    a = phash(_png("circle"))
    a_small = phash(_png("circle", 90))
    b = phash(_png("other"))
    assert len(a) == 16
    assert (hash_distance(a, a_small) or 0) <= AVATAR_DISTANCE
    assert (hash_distance(a, b) or 0) > AVATAR_DISTANCE
    assert hash_distance("abc", "abcd") is None


# holdout cases written after tuning that still fail, and why (see bench/detectors.py):
KNOWN_FAILURES = {
    # one e-commerce link, identity unchanged: the commercial detector fires; theft cannot
    # tell it from a unit posting an ad itself
    "stolen_h0_holdout_soft_ad_only",
    # Weibo type 1 (government) -> 3: DOMAIN §6 counts leaving the government type as a sign
    # worth a finding on its own; a real reclassification is a false alarm
    "clean_12_holdout_verified_type_reclassified",
}


def test_corpus_goals() -> None:
    cases = load_accounts()
    stolen = [c for c in cases if c.label == "stolen"]
    wrong = {c.id for c in cases if account_verdict(c, CAL)[0] != c.label}
    missed = [c for c in stolen if c.id in wrong]
    assert 1 - len(missed) / len(stolen) >= 0.95
    assert wrong <= KNOWN_FAILURES, wrong - KNOWN_FAILURES


def test_closed_account_gone_is_no_finding() -> None:
    gone = Observation("a", "weibo", "", NOW, Outcome.not_found, detail="该账号已注销")
    assert evaluate(gone, ruleset=NATIONAL, calendar=CAL, now=NOW, account_status="closed") == []
    assert [s.kind for s in evaluate(gone, ruleset=NATIONAL, calendar=CAL, now=NOW)] == ["gone"]


def test_douyin_government_flag_cleared() -> None:
    dy = replace(GOV, verified_type="gov_media_vip", verified_reason="某县融媒体中心")
    prev = snapshot(dy, history(), PREV_AT)
    cur = snapshot(replace(dy, verified_type="enterprise"), history())
    sigs = detect_theft(cur, ctx_for(cur, prev))
    assert sigs and "政府认证被取消" in sigs[0].detail


def test_previous_rebuilt_from_stored_facts() -> None:
    prev = snapshot(GOV, history(), PREV_AT)
    again = observation_from_facts(prev.facts())
    assert again.profile == prev.profile and again.posts == prev.posts
    cur = snapshot(replace(GOV, verified=False), history())
    assert detect_theft(cur, ctx_for(cur, again))[0].kind == "theft"


# -- judged against the registry, the first check included (issue 18) -----------------------


def away_posts(prov: str, n: int = 5) -> list[Post]:
    posts = []
    for k in range(n):
        p = Post(f"p{k}", NOW - timedelta(days=k, hours=3), text="【通知】工作动态")
        p.ip_location = f"发布于 {prov}"  # type: ignore[attr-defined]
        posts.append(p)
    return posts


def test_name_similarity_in_chinese() -> None:
    places = places_of("贵州省贵阳市")
    assert {"贵州省", "贵州", "贵阳市", "贵阳"} <= set(places)
    # generic affixes and the unit's place name are stripped from either end
    assert core("贵州平安某县官方微博", places) == "平安某县"
    assert core("平安某县发布", places) == "平安某县"
    assert core("发布", places) == "发布"  # never emptied
    assert lcs("平安某县", "某县平安") == 2
    assert name_similarity("平安某县", "某县平安") == 1.0  # same characters, reordered
    assert name_similarity("平安某县", "小美爱生活") == 0.0
    for name in ("平安某县", "平安某县发布", "贵阳平安某县", "平安某县政务", "平安某县头条号"):
        assert name_relation(name, "平安某县", places)[0] in ("same", "variant"), name
    assert name_relation("平安某县服务号", "平安某县", places)[0] == "related"
    assert name_relation("某县平安", "平安某县", places)[0] == "related"
    for name in ("小美爱生活", "鑫鑫商贸", "快乐每一天"):
        assert name_relation(name, "平安某县", places)[0] == "unrelated", name


def test_first_seen_unrelated_name_is_theft_and_the_detail_explains_the_score() -> None:
    stolen = replace(GOV, name="小美爱生活", bio="每天分享好物", verified=False, verified_reason="")
    cur = snapshot(stolen, history())
    sigs = detect_theft(cur, ctx_for(cur, None))  # no previous snapshot at all
    assert [s.kind for s in sigs] == ["theft"]
    assert sigs[0].evidence["signs"][0]["code"] == "name_not_registered"
    assert sigs[0].detail.startswith(
        "名称与备案不一致（备案：平安某县，现为：小美爱生活）+3.0；合计 3.0 ≥ 阈值 3.0"
    )
    # the clean twins: a registered rename, an added suffix or place name, seen first too
    for name, registered in [
        ("某县公安", "某县公安"),
        ("平安某县发布", "平安某县"),
        ("平安某县官方微博", "平安某县"),
        ("贵州平安某县", "平安某县"),
    ]:
        twin = snapshot(replace(GOV, name=name), history())
        assert detect_theft(twin, ctx_for(twin, None, registered_name=registered)) == [], name
    # a name only partly like the registered one is a weak sign: it needs company
    tweak = snapshot(replace(GOV, name="平安某县服务号"), history())
    assert codes(tweak, None) == {"name_differs_from_registry": 1.0}
    # renamed to a variant since the last look: weak, not the 2 points of a real rename
    prev = snapshot(GOV, history(), PREV_AT)
    assert codes(snapshot(replace(GOV, name="平安某县发布"), history()), prev) == {
        "name_changed": 1.0
    }


def test_certification_naming_a_company_is_theft_on_its_own() -> None:
    cur = snapshot(replace(GOV, verified_type="2", verified_reason="杭州星耀文化传媒有限公司"), [])
    sigs = detect_theft(cur, ctx_for(cur, None, owner_name="某县公安局"))
    assert [s.kind for s in sigs] == ["theft"]
    assert "认证主体为企业（杭州星耀文化传媒有限公司）+3.0" in sigs[0].detail
    # with a rename as well, both are listed with their points and the sum
    both = snapshot(replace(cur.profile, name="小美爱生活"), [])
    detail = detect_theft(both, ctx_for(both, None, owner_name="某县公安局"))[0].detail
    assert detail.startswith(
        "名称与备案不一致（备案：平安某县，现为：小美爱生活）+3.0；"
        "认证主体为企业（杭州星耀文化传媒有限公司）+3.0；合计 6.0 ≥ 阈值 3.0"
    )
    # a company of this very place is a company all the same; without the unit's name the
    # registered name is compared
    local = snapshot(replace(GOV, verified_reason="某县鑫鑫商贸有限公司"), [])
    assert codes(local, None, owner_name="某县公安局") == {"certified_as_company": 3.0}
    assert codes(local, None) == {"certified_as_company": 3.0}
    # the clean twins: the unit itself, its superior, its place's government, its own
    # state-owned media company
    for reason, owner in [
        ("某县公安局官方微博", "某县公安局"),
        ("贵州省公安厅", "某县公安局"),
        ("某市公安局", "某县公安局"),
        ("某县人民政府", "某县公安局"),
        ("某县融媒文化传媒有限公司", "某县融媒体中心"),
        ("某日报传媒集团官方微博", "某日报社"),
    ]:
        twin = snapshot(replace(GOV, verified_reason=reason), [])
        assert codes(twin, None, owner_name=owner) == {}, reason
    # another place's organ, not a company: a sign that needs company
    other = snapshot(replace(GOV, verified_reason="某市教育局"), [])
    assert codes(other, None, owner_name="某县公安局") == {"certified_as_other": 2.0}
    assert detect_theft(other, ctx_for(other, None, owner_name="某县公安局")) == []


def test_county_account_posting_only_from_another_province() -> None:
    away = snapshot(replace(GOV, ip_location="IP属地：广东"), away_posts("广东"))
    sigs = detect_theft(away, ctx_for(away, None, home_province="贵州省某县"))
    assert [s.kind for s in sigs] == ["theft"]
    sign = sigs[0].evidence["signs"][0]
    assert (sign["code"], sign["score"], sign["posts"]) == ("posts_ip_outside_home", 3.0, 5)
    assert "近期 5 条内容 IP属地均为广东（本单位在贵州）" in sigs[0].detail
    # the clean twin: posts from its own province
    home = snapshot(GOV, away_posts("贵州"))
    assert codes(home, None, home_province="贵州省某县") == {}
    # two posts from a trip among posts from home, or too few to speak for the account
    mixed = snapshot(GOV, [*away_posts("北京", 2), *away_posts("贵州", 5)[2:]])
    assert "posts_ip_outside_home" not in codes(mixed, None, home_province="贵州省某县")
    few = snapshot(GOV, away_posts("广东", 2))
    assert codes(few, None, home_province="贵州省某县") == {"ip_outside_home": 1.5}


def test_province_changing_between_two_checks() -> None:
    prev = snapshot(replace(GOV, ip_location="IP属地：广东"), history(), PREV_AT)
    moved = snapshot(replace(GOV, ip_location="IP属地：浙江"), history())
    # the unit's region unknown: the change is all there is to see
    assert codes(moved, prev, home_province="") == {"ip_province_changed": 1.5}
    # both away from home: it roams, and is not where it belongs
    sigs = detect_theft(moved, ctx_for(moved, prev))
    assert sigs and {x["code"] for x in sigs[0].evidence["signs"]} == {
        "ip_province_changed",
        "ip_outside_home",
    }
    # the clean twin: the province stable between checks
    stable = snapshot(replace(GOV, ip_location="IP属地：广东"), history())
    assert codes(stable, prev, home_province="") == {}
    # from home to a meeting elsewhere: one weak sign (a trip), said once
    trip = snapshot(replace(GOV, ip_location="IP属地：北京"), history())
    got = codes(trip, snapshot(GOV, history(), PREV_AT))
    assert got == {"ip_outside_home": 1.5}
    # a changed client stays weak: alone it is no finding
    phone = [Post("n1", NOW - timedelta(hours=1), text="通知", client="iPhone"), *history()]
    alone = snapshot(GOV, phone)
    assert codes(alone, snapshot(GOV, history(), PREV_AT)) == {"client_changed": 1.0}
    assert detect_theft(alone, ctx_for(alone, snapshot(GOV, history(), PREV_AT))) == []


def test_evaluate_passes_the_owner_unit() -> None:
    cur = snapshot(replace(GOV, verified_reason="杭州星耀文化传媒有限公司"), history())
    got = evaluate(
        cur,
        ruleset=NATIONAL,
        calendar=CAL,
        now=NOW,
        registered_name="平安某县",
        home_province="贵州",
        owner_name="某县公安局",
    )
    assert "theft" in {s.kind for s in got}


def test_a_feeds_title_unlike_the_registered_name_is_a_weak_sign_only() -> None:
    """A feed's or a site's title is its CMS template's wording, not a screen name: unlike
    the registered name it counts for little, and alone opens nothing; the same name on a
    platform account is a finding."""
    page = replace(GOV, name="政务公开-最新动态", verified=None, verified_reason=None)
    feed = Observation("a", "rss", "", NOW, Outcome.ok, profile=page, posts=history())
    got = codes(feed, None)
    assert got == {"name_differs_from_registry": 1.0}
    assert detect_theft(feed, ctx_for(feed, None)) == []
    account = snapshot(page, history())  # the weibo reader: the platform's screen name
    assert codes(account, None)["name_not_registered"] == 3.0
    assert detect_theft(account, ctx_for(account, None))[0].kind == "theft"


def test_province_drift_between_checks_is_a_sign_on_its_own() -> None:
    """Issue 29's regression: the profile and the posts since the last check both moved from
    the unit's province (贵州) to 广东 — that alone opens a finding (it scored 1.5 of 3.0)."""
    prev = snapshot(GOV, history(), PREV_AT)
    sent = [
        Post(f"n{k}", NOW - timedelta(hours=2 + k), text="通知", ip_location="发布于 广东")
        for k in range(2)
    ]
    moved = snapshot(replace(GOV, ip_location="IP属地：广东"), [*sent, *history()])
    sigs = detect_theft(moved, ctx_for(moved, prev))
    assert [s.kind for s in sigs] == ["theft"]
    (sign,) = sigs[0].evidence["signs"]
    assert (sign["code"], sign["score"]) == ("province_drift", 3.0)
    assert "IP属地由贵州变为广东，其后新发内容也都来自广东（本单位在贵州）" in sigs[0].detail
    # the unit's region unknown: the drift is all there is to see, and enough
    assert codes(moved, prev, home_province="") == {"province_drift": 3.0}
    # the twins: a trip moves the profile only; posts still sent from home; moving back home
    trip = snapshot(replace(GOV, ip_location="IP属地：广东"), history())
    assert codes(trip, prev) == {"ip_outside_home": 1.5}
    home_posts = [replace(p, ip_location="发布于 贵州") for p in sent]
    mixed = snapshot(replace(GOV, ip_location="IP属地：广东"), [*home_posts, *history()])
    assert codes(mixed, prev) == {"ip_outside_home": 1.5}
    back = snapshot(GOV, [replace(p, ip_location="发布于 贵州") for p in sent])
    assert codes(back, snapshot(replace(GOV, ip_location="IP属地：广东"), history(), PREV_AT)) == {}
