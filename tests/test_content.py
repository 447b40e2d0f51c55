"""Content detector (隐私泄露, 领导姓名职务, 错别字/规范表述, 娱乐化): rules, data files, the
labelled corpus (precision and recall per rule), memo and bounded cost."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "corpus"))

from content_cases import RULES, corpus_roster, load_content

from probes.checks import DETECTORS, content, evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.content import judge_content, load_wording, scan_wording
from probes.checks.kinds import KINDS
from probes.checks.personal import find_leaks, id_checksum_ok, luhn_ok, plausible_id
from probes.checks.roster import Roster, load_roster, read_terms
from probes.checks.rules import BUILTIN_RULESETS
from probes.model import Observation, Outcome, Post, Severity

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DAY = date(2026, 11, 20)
ROSTER = corpus_roster()


def rules(text: str, owner: str = "qx", on: date = DAY) -> set[str]:
    v = judge_content(Post("p", NOW, text=text), owner, on, roster=ROSTER)
    return {f.rule for f in v.findings}


def test_id_checksum_and_birth_date() -> None:
    assert id_checksum_ok("11010519491231002X")  # GB 11643's own example
    assert not id_checksum_ok("110105194912310021")
    assert plausible_id("11010519491231002X", DAY)
    assert not plausible_id("99010519491231002X", DAY)  # no province 99
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


def test_numbers_are_personal_only_unmasked_and_in_context() -> None:
    assert rules("户主张某，身份证号11010519491231002X") == {"privacy.id_card"}
    assert rules("户主张某，身份证号1101**********002X") == set()
    assert rules("订单号：11010519491231002X") == set()  # a label that says it is not an ID
    assert rules("户主张某，住址城关镇，电话13812345678") == {"privacy.mobile"}
    assert rules("咨询电话：13812345678") == set()
    assert rules("请拨打13812345678") == set()  # a number alone: a contact, not a person's
    assert rules("有困难找12345，或拨打0851-12345") == set()
    assert rules("户主张某，银行卡号4111 1111 1111 1111") == {"privacy.bank_card"}
    assert rules("户主张某，银行卡号4111 1111 1111 1112") == set()  # fails Luhn
    assert rules("捐款账户：4111111111111111，户名：县红十字会") == set()


def test_a_finding_names_post_span_rule_and_correction_and_masks_the_number() -> None:
    v = judge_content(
        Post("p1", NOW, text="低保公示：户主张某，身份证号11010519491231002X。"), "qx"
    )
    (f,) = v.findings
    assert f.rule == "privacy.id_card" and "110105********002X" in f.span
    assert "11010519491231002X" not in f.span + f.suggestion  # the alert must not re-leak it
    assert "脱敏" in f.suggestion
    v = judge_content(Post("p2", NOW, text="县长李明元主持会议"), "qx", DAY, roster=ROSTER)
    assert [(f.rule, f.suggestion) for f in v.findings] == [
        ("roster.name", "李明元 → 李明远（县长，据名册）")
    ]
    assert "县长李明元主持" in v.findings[0].span
    (f,) = judge_content(Post("p3", NOW, text="要再接再励"), "").findings
    assert (f.rule, f.suggestion) == ("wording.typo", "再接再励 → 再接再厉")


def test_roster_titles_by_date_and_history() -> None:
    assert rules("县长王建国主持会议") == {"roster.title"}  # 县长 until 2025-12-31
    assert rules("县长王建国主持会议", on=date(2025, 6, 1)) == set()
    assert rules("2019年时任县长王建国到乡里调研") == set()
    assert rules("2023年，县长王建国带队考察") == set()
    assert rules("县长王建国主持会议", owner="city") == set()  # another unit's roster
    v = judge_content(Post("p", NOW, text="县长王建国主持会议"), "qx", DAY, roster=ROSTER)
    assert "现任县委书记" in v.findings[0].suggestion and "李明远" in v.findings[0].suggestion


def test_roster_and_lexicons_are_data_files_users_extend(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(
        "# 名册\n单位编码,姓名,职务,任职起始,任职截止\nu1,欧阳明月,局长,2020-01-01,\n", "utf-8"
    )
    r = load_roster(tmp_path)
    assert len(r) == 1 and {x.rule for x in r.check("u1", "局长欧阳名月讲话", DAY)} == {
        "roster.name"
    }
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        read_terms("单位编码,姓名,职务,任职起始,任职截止\nu1,甲乙丙,局长,2020/1/1,\n")
    (tmp_path / "typos.txt").write_text(
        "# c\n@来源 本单位校对规范（2026年版）\n错字甲 正字甲 !错字甲乙\n", encoding="utf-8"
    )
    (tmp_path / "entertainment.txt").write_text("@来源 本单位\nOMG\n", encoding="utf-8")
    lex = load_wording(tmp_path)
    assert lex.words == 2
    # an entry must say where it comes from: without a source line it is refused, and said
    (tmp_path / "taboo.txt").write_text("某词 另词\n", encoding="utf-8")
    (bad,) = [f for f in load_wording(tmp_path).files if f.name == "taboo.txt"]
    assert not bad.entries and "来源" in bad.problems[0]
    got = [(f.rule, f.suggestion) for f in scan_wording("这是错字甲，omg，不是错字甲乙", lex)]
    assert got[0] == ("wording.typo", "错字甲 → 正字甲") and got[1][0] == "entertainment"
    assert scan_wording("错字甲乙", lex) == [] and scan_wording("zomgz", lex) == []


def test_the_shipped_demo_roster_loads() -> None:
    assert len(load_roster()) >= 1


def test_corpus_precision_and_recall_per_rule(capsys: pytest.CaptureFixture[str]) -> None:
    cases = load_content()
    assert len(cases) >= 150
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    clean_flagged = []
    for c in cases:
        v = judge_content(c.post, c.owner, c.post.published_at.date(), roster=ROSTER)  # type: ignore[union-attr]
        got = {f.rule for f in v.findings}
        for r in RULES:
            tp[r] += r in got and r in c.expect
            fp[r] += r in got and r not in c.expect
            fn[r] += r not in got and r in c.expect
        if not c.expect and got:
            clean_flagged.append((c.id, sorted(got)))
    clean = [c for c in cases if not c.expect]
    with capsys.disabled():
        print(f"\ncontent corpus: {len(cases)} posts, {len(clean)} clean")
        print(f"  {'rule':20s} {'precision':>9s} {'recall':>7s}   tp  fp  fn")
        for r in RULES:
            p = tp[r] / (tp[r] + fp[r]) if tp[r] + fp[r] else 1.0
            rec = tp[r] / (tp[r] + fn[r]) if tp[r] + fn[r] else 1.0
            print(f"  {r:20s} {p:9.3f} {rec:7.3f}  {tp[r]:3d} {fp[r]:3d} {fn[r]:3d}")
        print(f"  clean posts flagged: {len(clean_flagged)}/{len(clean)} {clean_flagged}")
    for r in ("privacy.id_card", "privacy.mobile", "privacy.bank_card", "roster.name",
              "roster.title"):  # fmt: skip
        assert tp[r] / (tp[r] + fn[r]) >= 0.95, r
    assert len(clean_flagged) / len(clean) <= 0.02, clean_flagged
    assert len(clean) >= 60  # traps and plain posts


def test_detector_signals_kinds_severities_and_labels() -> None:
    assert "content" in DETECTORS
    posts = [
        Post("a", NOW, text="户主张某，身份证号11010519491231002X"),
        Post("b", NOW, text="全县上下要再接再励"),
        Post("c", NOW, text="家人们，绝绝子！"),
        Post("d", NOW, text="县委书记王建图出席"),
    ]
    o = Observation("a", "weibo", "", NOW, Outcome.ok, posts=posts)
    sigs = evaluate(
        o, ruleset=BUILTIN_RULESETS["national"], calendar=WorkCalendar(), now=NOW,
        owner_code="yl-qx",  # the shipped demo roster: 王建国 县委书记 since 2026-01-05
    )  # fmt: skip
    got = {s.kind: s for s in sigs if s.kind in {"privacy", "wording", "entertainment_review",
                                                 "roster_error"}}  # fmt: skip
    assert {k: s.severity for k, s in got.items()} == {
        "privacy": Severity.high,
        "wording": Severity.warning,
        "entertainment_review": Severity.info,
        "roster_error": Severity.high,
    }
    for k, s in got.items():
        assert KINDS[k].severity is s.severity
        (ev,) = s.evidence["posts"]
        assert ev["post_id"] and ev["findings"][0]["span"] and ev["findings"][0]["suggestion"]
        assert ev["findings"][0]["rule"] and ev["findings"][0]["name"]
    assert KINDS["privacy"].category_label == "隐私泄露"
    assert KINDS["roster_error"].category_label == "审核把关不严"
    assert KINDS["no_interaction"].category_label == "互动服务不实"


def test_a_post_judged_once_is_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = content.judge_content

    def counting(*a, **kw):  # type: ignore[no-untyped-def]
        calls.append(a[0].id)
        return real(*a, **kw)

    monkeypatch.setattr(content, "judge_content", counting)
    monkeypatch.setattr(content, "_memo", type(content._memo)())
    p = Post("m1", NOW, text="身份证号11010519491231002X，户主张某")
    first = content.judged(p, "qx", DAY)
    again = content.judged(Post("m1", NOW, text=p.text), "qx", DAY)
    assert calls == ["m1"] and first and again and again.findings == first.findings
    content.judged(p, "other", DAY)  # another unit: another roster, judged again
    assert calls == ["m1", "m1"]


@pytest.mark.timeout(60)
def test_long_texts_stay_linear() -> None:
    """The worst shapes at 200,000 characters (ten times the cap an observation keeps);
    ``timeout`` is a hang guard, not a timing (bench/detectors.py times them)."""
    n = 200_000
    shapes = {
        "digits": ("1" * n, set()),
        "spaced ones": ("1 " * (n // 2), set()),
        "card groups": ("6228 " * (n // 5), set()),
        "titles": ("县长" * (n // 2), set()),
        "id run": ("身份证号" + "5" * (n - 10), set()),
        "many phones": (("户主张某 13812345678 " * 10_000)[:n], {"privacy.mobile"}),
        "slang": ("家人们" * (n // 3), {"entertainment"}),
        "found at the end": (
            "通知" * (n // 2) + "户主张某，身份证号11010519491231002X",
            {"privacy.id_card"},
        ),
    }
    for name, (text, want) in shapes.items():
        assert rules(text) == want, name


def test_find_leaks_order_and_masks() -> None:
    text = "姓名李某 身份证号11010519491231002X 手机13812345678 卡号4111111111111111"
    got = [(x.rule, x.masked) for x in find_leaks(text, DAY)]
    assert got == [
        ("privacy.id_card", "110105********002X"),
        ("privacy.mobile", "138****5678"),
        ("privacy.bank_card", "411111******1111"),
    ]
    assert isinstance(Roster([]).check("x", "县长", DAY), list)
