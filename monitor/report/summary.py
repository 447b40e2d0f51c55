"""The 通报's findings in words: 一、总体情况 and 二、存在问题, as supervisors write them.

Shared by the DOCX and the HTML page. 总体情况 gives the totals, the check ratio and pass
rate, the change from the previous period, the platforms by pass rate and the places with
the lowest; 存在问题 takes each 问题类别 (most single vetoes first, then most accounts) with
its counts and a few named cases: "如：青溪县人民政府办公室主办的微信公众号“青溪县人民政府”
检查时已 15 天未更新". Figures are the report's own; nothing here counts anew.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from monitor.report.model import GroupRow, ProblemRow, Report
from monitor.report.tables import pct
from probes.checks.kinds import CATEGORIES, KINDS

CN_NUMBERS = "一二三四五六七八九十"
_TRAILING_NOTE = re.compile(r"（[^（）]*）$")
# 公文 put no space between a figure and the Chinese around it (our own "已 15 天" has one)
_TIGHT = re.compile(r"(?<=[\u4e00-\u9fff]) (?=\d)|(?<=[\d%]) (?=[\u4e00-\u9fff])")


def cn_number(n: int) -> str:
    """1 -> 一, 12 -> 十二 (up to 99: enough for sections and annexes)."""
    if n <= 10:
        return CN_NUMBERS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CN_NUMBERS[tens - 1]
    return head + "十" + (CN_NUMBERS[ones - 1] if ones else "")


@dataclass
class Paragraph:
    """A paragraph with an optional lead (（一）更新不及时。) set in the sub-heading face."""

    text: str
    lead: str = ""


def _change(cur: float | None, prev: float | None) -> str:
    if cur is None or prev is None:
        return ""
    d = (cur - prev) * 100
    if abs(d) < 0.005:
        return "持平"
    return f"{'上升' if d > 0 else '下降'}{abs(d):.2f}个百分点"


def overview(report: Report, unjudged_annex: str = "") -> list[Paragraph]:
    """一、总体情况. ``unjudged_annex``: where the 无法判定 list is (附件3), if it is one."""
    t, p = report.totals, report.previous
    label, prev_label = report.period.label, report.period.previous().label
    where = report.area
    if not t.accounts:
        return [Paragraph(f"{label}，{where}政务新媒体无巡查记录，本期不作统计。")]
    text = (
        f"{label}，{where}纳入检查的政务新媒体共{t.accounts}个，实际完成检查{t.checked}"
        f"个，检查率{pct(t.check_ratio)}。其中合格{t.qualified}个，不合格（单项否决）"
        f"{t.unqualified}个，合格率{pct(t.pass_rate)}；另有{t.deducted}个账号存在扣分问题。"
    )
    if t.unjudged:
        see = f"，见{unjudged_annex}" if unjudged_annex else ""
        text += (
            f"此外，{t.unjudged}个账号本期无法判定（{_unjudged_why(report)}），"
            f"既不计为合格也不计为不合格，不计入合格率{see}。"
        )
    out = [Paragraph(text)]
    if p.checked:
        more = t.checked - p.checked
        count = "持平" if more == 0 else f"{'增加' if more > 0 else '减少'}{abs(more)}个"
        rate = _change(t.pass_rate, p.pass_rate)
        out.append(
            Paragraph(
                f"与{prev_label}相比，检查账号数{count}，合格率{rate}"
                f"（{prev_label}为{pct(p.pass_rate)}）。"
            )
        )
    else:
        out.append(Paragraph(f"{prev_label}无检查记录，本期不作比较。"))
    out.extend(_by_platform(report.by_platform))
    out.extend(_by_unit(report.by_unit))
    for note in report.notes:
        out.append(Paragraph(note))
    return out


_WHY = ("平台未向巡查展示内容或无法读取", "读不出内容的发布时间", "被平台拦截", "抓取失败")


def _unjudged_why(report: Report) -> str:
    """The kinds of reason the 无法判定 list gives, most accounts first, in a few words."""
    kinds: dict[str, int] = defaultdict(int)
    for r in report.unjudged:
        if r.reason.startswith(("无法判断更新时间", "未看到带发布时间")):
            kinds[_WHY[1]] += 1
        elif r.reason.startswith("被平台拦截"):
            kinds[_WHY[2]] += 1
        elif r.reason.startswith("抓取失败"):
            kinds[_WHY[3]] += 1
        else:
            kinds[_WHY[0]] += 1
    return "、".join(sorted(kinds, key=lambda k: (-kinds[k], _WHY.index(k))))


def _rate_key(g: GroupRow) -> tuple[float, str]:
    return (-(g.totals.pass_rate or 0.0), g.key)


def _platform_key(g: GroupRow) -> tuple[float, float, str]:
    """By pass rate; at the same rate, the platform whose accounts carry fewer deductions
    (严重 or 预警 problems: an app that cannot be installed) first — 100 % with every app
    broken is not the best of the platforms."""
    t = g.totals
    return (-(t.pass_rate or 0.0), t.deducted / t.checked if t.checked else 1.0, g.key)


def _platform_said(g: GroupRow) -> str:
    t = g.totals
    extra = f"，其中{t.deducted}个存在扣分问题" if t.deducted else ""
    return f"{g.label}{pct(t.pass_rate)}（检查{t.checked}个{extra}）"


def _by_platform(groups: list[GroupRow]) -> list[Paragraph]:
    checked = sorted((g for g in groups if g.totals.checked), key=_platform_key)
    unchecked = [g.label for g in groups if g.totals.accounts and not g.totals.checked]
    if not checked:
        return []
    listed = "、".join(_platform_said(g) for g in checked)
    text = f"分平台看，合格率由高到低依次为：{listed}。"
    if unchecked:
        text += f"{'、'.join(unchecked)}账号本期无法判定，不计入合格率。"
    return [Paragraph(text)]


def _by_unit(groups: list[GroupRow]) -> list[Paragraph]:
    checked = [g for g in groups if g.totals.checked]
    if len(checked) < 2:
        return []
    perfect = [g.label for g in checked if not g.totals.unqualified]
    # the lowest pass rates first
    failing = sorted(
        (g for g in checked if g.totals.unqualified),
        key=lambda g: (g.totals.pass_rate or 0.0, g.key),
    )
    parts = []
    if failing:
        shown = "、".join(
            f"{g.label}{pct(g.totals.pass_rate)}（不合格{g.totals.unqualified}个）"
            for g in failing[:5]
        )
        more = f"等{len(failing)}个" if len(failing) > 5 else ""
        parts.append(f"存在不合格账号的有{shown}{more}")
    if perfect:
        if len(perfect) > 5:
            parts.append(f"{'、'.join(perfect[:5])}等{len(perfect)}个地区（部门）检查全部合格")
        else:
            parts.append(f"{'、'.join(perfect)}检查全部合格")
    return [Paragraph("分地区（部门）看，" + "；".join(parts) + "。")]


def case(r: ProblemRow) -> str:
    """青溪县人民政府办公室主办的微信公众号“青溪县人民政府”检查时已 15 天未更新: the
    problem without its trailing note (（严重）, （超过 14 天，单项否决）)."""
    problem = _TIGHT.sub("", _TRAILING_NOTE.sub("", r.problem))
    return f"{r.owner_name}主办的{r.platform_label}“{r.account_name}”{problem}"


def problems(report: Report, examples: int = 3) -> list[Paragraph]:
    """二、存在问题: one paragraph per 问题类别."""
    rows = report.vetoes + report.deductions
    if not rows:
        return [Paragraph("本期检查未发现单项否决或扣分问题。")]
    by_category: dict[str, list[ProblemRow]] = defaultdict(list)
    for r in rows:
        by_category[r.category].append(r)
    order = {c.label: i for i, c in enumerate(CATEGORIES.values())}

    def weight(item: tuple[str, list[ProblemRow]]) -> tuple[int, int, int]:
        name, rs = item
        vetoes = sum(r.severity == "veto" for r in rs)
        return (-vetoes, -len({r.account_id for r in rs}), order.get(name, len(order)))

    out = []
    for i, (name, rs) in enumerate(sorted(by_category.items(), key=weight), 1):
        accounts = len({r.account_id for r in rs})
        vetoes = len({r.account_id for r in rs if r.severity == "veto"})
        codes = list(KINDS)
        kinds = sorted({r.kind for r in rs}, key=lambda k: codes.index(k) if k in codes else 99)
        what = "、".join(KINDS[k].label if k in KINDS else k for k in kinds)
        text = f"共{accounts}个账号存在此类问题（{what}）"
        text += f"，其中单项否决{vetoes}个。" if vetoes else "。"
        picked = _examples(rs, examples)
        if picked:
            text += "如：" + "；".join(case(r) for r in picked)
            text += "等。" if len(picked) < len(rs) else "。"
        out.append(Paragraph(text, lead=f"（{cn_number(i)}）{name}。"))
    return out


def _examples(rows: list[ProblemRow], n: int) -> list[ProblemRow]:
    """Up to ``n`` cases, vetoes first, one per account, different units where possible."""
    ranked = sorted(rows, key=lambda r: (r.severity != "veto", r.owner_code, r.account_id))
    picked: list[ProblemRow] = []
    for r in ranked:  # first pass: one per unit
        if len(picked) < n and all(p.owner_code != r.owner_code for p in picked):
            picked.append(r)
    for r in ranked:  # then fill up, one per account
        if len(picked) < n and all(p.account_id != r.account_id for p in picked):
            picked.append(r)
    return picked


@dataclass
class Requirement:
    """A 工作要求 paragraph: its lead sentence (抓好问题整改。) and the rest."""

    lead: str
    rest: str


def requirements(texts: list[str]) -> list[Requirement]:
    """``[report] requirements`` split at a short first sentence, which is set as a lead."""
    out = []
    for t in texts:
        head, dot, rest = t.partition("。")
        if dot and len(head) <= 20:
            out.append(Requirement(head + dot, rest))
        else:
            out.append(Requirement("", t))
    return out
