"""What the unit should do about a finding, said in one line.

The kind's own line is declared with the kind (``FindingKind.advice``, beside its detector)
and travels on the notice, since this package imports no ``probes``; a notice without one (a
kind that declares none, a notice stored before notices carried it) falls back to its
category's line, then to a plain "核实情况并整改". The patrol's own problems read one line, to
ops. ``tests/test_kinds.py`` holds that every kind a unit hears of declares its own line.
"""

from __future__ import annotations

from alerts.notice import FindingNotice

# our own fetch problems: nothing the unit did wrong, nothing it must fix — told to ops only
# (``alerts.routing.plan``), so said to them: what to look at, and that the unit was not told
PATROL = (
    "运维排查：检查该账号的地址、读取方式和登录会话，核实平台是否改版或限制访问；"
    "账号已停用、改名或更换了地址的，更新登记表。未通知主办单位，主办单位无需整改"
)

BY_CATEGORY = {
    "update": "发布新内容",
    "ads": "删除或修改含广告的内容",
    "interaction": "提供有效的互动功能",
    "vetting": "更正所列内容",
    "entertainment": "复核所列表述",
    "privacy": "删除或修改所列内容，脱敏后再发布",
    "theft": "立即核实账号控制权",
    "install": "检查并修复客户端的下载",
    "access": "核实账号是否仍可访问",
    "patrol": PATROL,
}


def advice(n: FindingNotice) -> str:
    """What the owner unit should do (for a supervisor, ``supervisor_advice``)."""
    if n.category == "patrol":
        return PATROL
    return n.advice or BY_CATEGORY.get(n.category) or "核实情况并整改"


def supervisor_advice(n: FindingNotice) -> str:
    unit = n.unit_name or n.unit_code or "主办单位"
    return f"督促{unit}整改：{advice(n)}"
