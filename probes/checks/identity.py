"""An account's identity judged against the registry — the baseline inspectors use.

"名称与备案不一致" and "认证主体不是主办单位" are read off the page and the registry alone, so
they are judged on every check, the first one included: a stolen account seen for the first
time shows them as plainly as one watched for months. The theft detector
(:mod:`probes.checks.theft`) adds these signs to the ones it finds against the previous look.

Names are compared as Chinese names are written: an account's name is its registered name
with or without a generic affix (发布, 微博, 官方, 政务, 在线, 头条号 …) or the unit's place name
(贵州, 贵阳市 …); what is left (the *core*) is compared by its longest common subsequence and
its common characters, so "某县平安" is related to "平安某县" and "小美爱生活" is not.
A certification is related to the owner unit when, places and generic words left aside, they
share two consecutive characters ("某县融媒文化传媒有限公司" — "某县融媒体中心": 融媒), or when an
organ (not a company) of the unit's own place certifies it: its government, its superior.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from probes.checks.registry import Context
from probes.model import Profile

PROVINCES = [
    *("北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江"),
    *("安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州"),
    *("云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港"),
    "澳门",
]

#: affixes a unit adds to its registered name without it becoming another account
NAME_AFFIXES = (
    *("官方微博", "官方账号", "政务微博", "发布厅", "头条号", "抖音号", "公众号", "视频号"),
    *("发布", "微博", "官微", "官方", "政务", "在线", "头条", "抖音"),
)
#: words in a certification that name no one (发布 of "某县发布" says nothing of the owner)
GENERIC_WORDS = (
    *("官方微博", "官方账号", "官方", "微博", "账号", "认证", "政务", "发布", "新闻", "运营"),
    *("有限责任公司", "股份有限公司", "有限公司", "公司", "集团", "工作室", "传媒", "文化"),
    *("传播", "科技", "网络", "信息", "技术", "商贸", "电子商务", "中心", "服务", "发展"),
    *("管理", "人民政府", "政府", "委员会", "中国", "中共", "工作", "办公室", "主办"),
)
#: a certification naming a company: the account is certified as someone's business
COMPANY = re.compile(
    r"有限责任公司|股份有限公司|有限公司|公司|集团|工作室|传媒(?!局)|科技(?![局厅委部处])"
    r"|商贸|商行|电子商务|文化传播"
)
#: a certification naming an organisation at all (not "知名博主", not "官方账号")
ORGAN = re.compile(
    r"局|厅|委|办|政府|中心|院|所|队|站|部|处|馆|台|社|协会|学会|基金会|医院|学校|大学|法院"
)
_LEVEL = "省|自治区|特别行政区|自治州|自治县|市|地区|盟|县|区|旗"
_PLACE = re.compile(rf"(.{{2,8}}?(?:{_LEVEL}))")  # each level of a region: 贵州省, 贵阳市
_LEAD_PLACE = re.compile(rf"^(.{{1,7}}?(?:{_LEVEL}|镇|乡))")  # 某县 of 某县公安局
_LEVEL_END = re.compile(rf"(?:{_LEVEL})$")
NAME_CHARS = 64  # names and certifications longer than this are compared on their start


@dataclass
class Sign:
    code: str
    title: str  # Chinese, for the finding's list
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "score": self.score, **self.evidence}


def norm(name: str | None) -> str:
    return re.sub(r"[\s·•．.、\-_()（）【】\[\]「」“”\"'|｜]", "", name or "").lower()[:NAME_CHARS]


def province_of(location: str | None) -> str:
    """'IP属地：贵州' / '发布于 广东' / '美国' -> the province (or the foreign place as given)."""
    if not location:
        return ""
    text = re.sub(r"^(?:IP属地|ip属地|发布于|来自)[:：\s]*", "", location.strip())
    for p in PROVINCES:
        if text.startswith(p) or p in text:
            return p
    return text.split()[0] if text.split() else ""


def places_of(region: str, *orgs: str) -> list[str]:
    """The place names a unit's name may carry: each level of its region ("贵州省贵阳市" ->
    贵州省, 贵州, 贵阳市, 贵阳) and the place an organisation's name starts with ("某县公安局"
    -> 某县), longest first."""
    out: set[str] = set()
    text = norm(region)
    if p := province_of(text):
        out.add(p)
    for m in _PLACE.finditer(text):
        out.add(m.group(1))
    if text and not out:
        out.add(text)
    for org in orgs:
        if m := _LEAD_PLACE.match(norm(org)):
            out.add(m.group(1))
    stems = {_LEVEL_END.sub("", p) for p in out}
    out |= {s for s in stems if len(s) >= 2}
    return sorted(out, key=len, reverse=True)


def core(name: str, places: list[str]) -> str:
    """``name`` without the generic affixes and place names at either end (never emptied)."""
    s = norm(name)
    cut = sorted({*NAME_AFFIXES, *places}, key=len, reverse=True)
    changed = True
    while changed:
        changed = False
        for a in cut:
            if len(s) > len(a) and s.startswith(a):
                s, changed = s[len(a) :], True
                break
            if len(s) > len(a) and s.endswith(a):
                s, changed = s[: -len(a)], True
                break
    return s


def lcs(a: str, b: str) -> int:
    """Length of the longest common subsequence (names are short: O(len a * len b))."""
    a, b = a[:NAME_CHARS], b[:NAME_CHARS]
    row = [0] * (len(b) + 1)
    for ch in a:
        prev_diag = 0
        for j, other in enumerate(b, 1):
            keep = row[j]
            row[j] = prev_diag + 1 if ch == other else max(row[j], row[j - 1])
            prev_diag = keep
    return row[-1]


def name_similarity(a: str, b: str) -> float:
    """0..1: the better of the common subsequence and the common characters, over the
    shorter of the two."""
    if not a or not b:
        return 0.0
    seq = lcs(a, b) / min(len(a), len(b))
    chars = len(set(a) & set(b)) / min(len(set(a)), len(set(b)))
    return max(seq, chars if len(set(a) & set(b)) >= 2 else 0.0)


def name_relation(name: str, registered: str, places: list[str]) -> tuple[str, float]:
    """How an account's name stands to its registered name: ``same``; ``variant`` (the same
    core: an affix or the place name added or left out); ``related`` (one core holds the
    other, or they are similar); ``unrelated``. With the cores' similarity."""
    n, r = norm(name), norm(registered)
    if n == r:
        return "same", 1.0
    cn, cr = core(n, places), core(r, places)
    if cn == cr:
        return "variant", 1.0
    sim = name_similarity(cn, cr)
    if any(min(len(x), len(y)) >= 2 and (x in y or y in x) for x, y in ((n, r), (cn, cr))):
        return "related", sim
    if lcs(cn, cr) >= 2 and sim >= 0.5:
        return "related", sim
    return "unrelated", sim


def _bigrams(text: str, places: list[str]) -> set[str]:
    s = norm(text)
    for w in (*places, *sorted(GENERIC_WORDS, key=len, reverse=True)):
        s = s.replace(w, "|")
    return {s[i : i + 2] for i in range(len(s) - 1) if "|" not in s[i : i + 2]}


def org_related(subject: str, owners: list[str], places: list[str]) -> bool:
    """Whether a certification's subject names one of ``owners`` (the unit, the account's
    registered name): two consecutive characters in common once places and generic words
    are left aside."""
    mine = _bigrams(subject, places)
    return any(mine & _bigrams(o, places) for o in owners if o)


# readers whose "name" is a feed's or a site's title, written by its CMS template ("某县人民
# 政府门户网站 - 最新动态"), not a screen name the platform shows: an unrelated title is a
# weak sign there, never a finding on its own
TITLE_READERS = frozenset({"rss", "webpage"})


def name_signs(
    cur: Profile, prev: Profile | None, ctx: Context, *, screen_name: bool = True
) -> list[Sign]:
    """The name against the registry (every check) and against the previous look;
    ``screen_name`` False for a feed's or page's title (:data:`TITLE_READERS`)."""
    signs: list[Sign] = []
    reg = ctx.registered_name
    places = places_of(ctx.home_province, ctx.owner_name)
    relation = name_relation(cur.name, reg, places) if reg and cur.name else None
    if relation is not None and relation[0] in ("related", "unrelated"):
        kind, sim = relation
        strong = kind == "unrelated" and screen_name
        how = "不一致" if strong else "不完全一致"
        signs.append(
            Sign(
                "name_not_registered" if strong else "name_differs_from_registry",
                f"名称与备案{how}（备案：{reg}，现为：{cur.name}）",
                3.0 if strong else 1.0,
                {"name": cur.name, "registered_name": reg, "similarity": round(sim, 2)},
            )
        )
    if prev is not None and prev.name and cur.name and norm(prev.name) != norm(cur.name):
        if relation is not None and relation[0] == "same":
            return signs  # renamed through the registry: the proper procedure, no sign
        variant = relation is not None and relation[0] == "variant"
        signs.append(
            Sign(
                "name_changed",
                f"名称由“{prev.name}”改为“{cur.name}”" + ("（仍与备案相符）" if variant else ""),
                1.0 if variant else 2.0,
                {"from": prev.name, "to": cur.name},
            )
        )
    return signs


def certification_signs(cur: Profile, ctx: Context) -> list[Sign]:
    """Who the platform certified the account for (``verified_reason``) against the owner
    unit: a company is a strong sign on its own, another organisation a weaker one."""
    reason = (cur.verified_reason or "").strip()
    if not reason or cur.verified is False:
        return []
    owners = [ctx.owner_name, ctx.registered_name]
    if not any(owners):
        return []  # no registry to compare with
    places = places_of(ctx.home_province, ctx.owner_name, reason)
    if org_related(reason, owners, places):
        return []
    evidence = {"verified_reason": reason, "owner": ctx.owner_name or ctx.registered_name}
    if COMPANY.search(reason):
        return [Sign("certified_as_company", f"认证主体为企业（{reason}）", 3.0, evidence)]
    # an organ of the unit's own place (its government, its superior) may certify it
    same_place = any(p in norm(reason) for p in places_of(ctx.home_province, ctx.owner_name))
    if ctx.owner_name and ORGAN.search(reason) and not same_place:
        return [
            Sign(
                "certified_as_other",
                f"认证主体不是主办单位（认证：{reason}，主办单位：{ctx.owner_name}）",
                2.0,
                evidence,
            )
        ]
    return []
