"""Roles and what each may do (等保 2.0 访问控制: 三权分立).

Three roles read the patrol's data, each cut to its units: ``admin`` (every unit),
``supervisor`` (a unit and every unit below), ``duty`` (one unit); they acknowledge findings
and say 已整改; ``admin`` and ``supervisor`` also 复核 (confirm, or dismiss as 误报).
Three administrators have separated rights and see no unit's data: ``system`` (系统管理员:
configuration, registry, channels — the 系统 page), ``security`` (安全管理员: users, roles,
sessions — the 安全 page) and ``audit`` (审计管理员: reads the audit log, nothing else). A user
has one role, so nobody holds two of the three. ``admin`` keeps what it always had and is none
of the three (docs/console.md).
"""

from __future__ import annotations

ROLES = {
    "admin": "管理员",
    "supervisor": "主管单位",
    "duty": "值班员",
    "system": "系统管理员",
    "security": "安全管理员",
    "audit": "审计管理员",
}
ADMIN_ROLES = ("system", "security", "audit")  # no unit, no data: one right each
DATA = "data"  # the pages and API of accounts, findings, snapshots, reports
ACK = "ack"  # acknowledge a finding
RECTIFY = "rectify"  # say 已整改 for a finding of one's units (it is rechecked at once)
REVIEW = "review"  # 复核: confirm a judgement kind's finding, or dismiss it as 误报
RIGHTS: dict[str, frozenset[str]] = {
    "admin": frozenset({DATA, ACK, RECTIFY, REVIEW}),
    "supervisor": frozenset({DATA, ACK, RECTIFY, REVIEW}),
    "duty": frozenset({DATA, ACK, RECTIFY}),
    "system": frozenset({"system"}),
    "security": frozenset({"security"}),
    "audit": frozenset({"audit"}),
}
HOME = {"system": "/system", "security": "/security", "audit": "/audit"}  # others: "/"


def role_names() -> str:
    """The roles as the CLI's messages list them: admin、supervisor、…"""
    return "、".join(ROLES)


def rights_of(role: str) -> frozenset[str]:
    return RIGHTS.get(role, frozenset())


def home_of(role: str) -> str:
    return HOME.get(role, "/")
