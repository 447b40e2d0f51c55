"""Words judged as an inspector would (issue 29): lists grounded in published references,
each entry with its source; the forms style guides and inspection reports cite again and
again; a quoted form that is being corrected; a longer right word; fixed orders and doubled
levels as patterns; a quote that reads cleanly; every hit named; 消费帮扶 only with a sale."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from probes.checks.commercial import judge_post
from probes.checks.content import judge_content, scan_wording
from probes.checks.lists import DATA, default_lists
from probes.model import Post

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DAY = date(2026, 11, 20)


def found(text: str) -> list[tuple[str, str]]:
    return [(f.rule, f.hit) for f in scan_wording(text)]


def test_every_shipped_entry_names_its_source_and_every_list_its_edition() -> None:
    lists = default_lists()
    assert lists.problems == []
    by_name = {f.name: f for f in lists.files}
    assert set(by_name) >= {"typos.txt", "expressions.txt", "taboo.txt", "entertainment.txt",
                            "doubled.txt", "orders.txt"}  # fmt: skip
    for f in lists.files:
        assert f.version, f.name
        assert f.entries, f.name
        for e in f.entries:
            assert len(e.source) >= 8 and "TODO" not in e.source, (f.name, e.wrong)
            assert e.where.startswith(f"content/{f.name}:"), e.where
    cited = {e.source for f in lists.files for e in f.entries}
    assert any("咬文嚼字" in s and "100个别字" in s for s in cited)
    assert any("新华社" in s and "2016年7月修订" in s for s in cited)
    assert any("宪法" in s for s in cited)
    # the honest ones say so: a list with no published source says it has none
    fun = by_name["entertainment.txt"]
    assert any("未找到" in e.source for e in fun.entries)
    assert (DATA / "content" / "context.txt").exists()


@pytest.mark.parametrize(
    ("text", "rule", "hit", "right"),
    [
        ("积极融入一路一带建设。", "wording.expression", "一路一带", "“一带一路”"),
        ("要认真贯切落实会议精神。", "wording.typo", "贯切", "贯彻"),
        ("截止目前，全县已完成秋播。", "wording.typo", "截止目前", "截至目前"),
        ("既使困难再多，也要确保群众温暖过冬。", "wording.typo", "既使", "即使"),
        ("南明区区委书记带队调研。", "wording.expression", "区区委", "区委"),
        ("某市市委常委会召开会议。", "wording.expression", "市市委", "市委"),
        ("各省、直辖市、自治区要抓好落实。", "wording.expression", "省、直辖市、自治区",
         "省、自治区、直辖市"),
        ("台湾总统候选人的言论遭到批评。", "wording.expression", "台湾总统", "台湾地区领导人"),
        ("工作人员为村民按装净水设备。", "wording.typo", "按装", "安装"),
        ("北朝鲜代表团到访。", "wording.taboo", "北朝鲜", "朝鲜"),
    ],
)  # fmt: skip
def test_the_forms_inspection_reports_cite(text: str, rule: str, hit: str, right: str) -> None:
    (f,) = scan_wording(text)
    assert (f.rule, f.hit) == (rule, hit) and right in f.suggestion and f.source


@pytest.mark.parametrize(
    "text",
    [
        # the honest twins: right forms, right levels, right orders, debated usage
        "积极融入“一带一路”建设。",
        "要认真贯彻落实会议精神。",
        "截至目前，全县已完成秋播。",
        "截止11月20日，全县已完成秋播面积12万亩。",  # 截止+date: debated, left alone
        "既使群众满意，又使企业放心，是我们的工作目标。",
        "南明区委书记带队调研。晋城市城区区委召开会议。阳泉市郊区区委书记调研。",
        "北京市市长出席开幕式。市市场监管局开展检查。县县长热线受理诉求。",
        "各省、自治区、直辖市要抓好落实。各省（自治区、直辖市）要加强统筹。",
        "省、市、县三级联动。",
        "台湾地区领导人选举结果公布。",
        "请按装修合同约定时间完成施工。面对严峻工作形势，干部坚守岗位。",
        "检查院内消防设施是否完好。受了区区委屈，他从不计较。",
    ],
)
def test_the_honest_twins_stay_clean(text: str) -> None:
    assert found(text) == []


def test_a_quoted_form_that_is_being_corrected_is_not_faulted() -> None:
    text = "“一路一带”“台湾总统”的说法是错误的，应写作“一带一路”“台湾地区领导人”。"
    assert found(text) == []
    assert found("提醒：“截止目前”是常见误用，应写作“截至目前”。") == []
    assert found("两学一作应为两学一做。") == []
    assert found("“yyds”等网络用语不宜出现在政务新媒体上。") == []
    # quoted but used, not corrected: still a finding; the correction does not reach the
    # next sentence
    assert found("深入开展“两学一作”学习教育。") == [("wording.expression", "两学一作")]
    assert found("“两学一作”的说法是错误的。本月继续推进两学一作。") == [
        ("wording.expression", "两学一作")
    ]


def test_a_fixed_order_is_judged_only_on_the_whole_list() -> None:
    assert found("树立政治意识、大局意识、看齐意识、核心意识。")[0][0] == "wording.expression"
    assert found("树立政治意识、大局意识、核心意识、看齐意识。") == []
    assert found("增强大局意识、政治意识。") == []  # part of the list: not judged
    assert found("践行富强、民主、和谐、文明。")[0][1] == "富强、民主、和谐、文明"


def test_the_quote_is_a_clean_window_and_the_title_is_said_once() -> None:
    """The issue's evidence: 不规范表述「深入开展两学一作学习教育 深入开展两学一」 — the title
    quoted twice, cut mid-word."""
    title = "深入开展两学一作学习教育"
    post = Post("p", NOW, title=title, text=f"{title}，全县各级党组织迅速行动、精心组织。")
    (f,) = judge_content(post, "", DAY).findings
    assert f.span.count("两学一作") == 1
    assert f.span == "深入开展两学一作学习教育，全县各级党组织迅速行动、精心组织。"
    long = (
        "各单位要"
        + "认真组织学习" * 9
        + "，并在深入开展两学一作学习教育中走在前列"
        + "，狠抓落实" * 9
    )
    (g,) = scan_wording(long)
    # whole clauses: it starts after a comma and ends before one, nothing cut mid-word
    assert g.span.startswith("并在深入开展两学一作") and "…" not in g.span
    assert g.span.endswith(("前列", "狠抓落实"))


def test_a_finding_names_every_hit_and_counts_past_fifty() -> None:
    text = "。".join(f"第{k}次要再接再励" for k in range(60))
    v = judge_content(Post("p", NOW, text=text), "", DAY)
    ev = v.evidence("wording").to_dict()  # as the finding stores it
    assert len(ev["findings"]) == 50 and ev["more"] == 10
    assert len(ev["marked"]["hits"]) == 60 and ev["findings"][0]["source"]


def test_a_welfare_word_needs_a_sale() -> None:
    notice = ("【通知】关于召开全县乡村振兴工作推进会的通知：会议将部署产业帮扶资金发放和"
              "脱贫人口小额信贷工作。")  # fmt: skip
    assert judge_post(Post("n", NOW, text=notice)).level is None
    priced = "消费帮扶产品：高山土豆3.5元/斤，10斤起售，欢迎各单位工会采购。"
    assert judge_post(Post("s", NOW, text=priced)).level == "review"
    ordered = "#乡村振兴# 助农好物上线，点击进入旗舰店下单。"
    assert judge_post(Post("o", NOW, text=ordered)).level == "review"
    assert (
        judge_post(Post("g", NOW, text="#乡村振兴# 通过政府购买服务方式开展培训。")).level is None
    )
