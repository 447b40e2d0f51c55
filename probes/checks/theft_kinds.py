"""The kinds :mod:`probes.checks.theft` emits: declared apart from it so that naming them (the
console, the CLI) does not load the commercial detector's lexicons it reuses."""

from __future__ import annotations

from probes.checks.kinds import FindingKind, declare
from probes.model import Severity

FINDING_KINDS = declare(
    __name__,
    FindingKind(
        "theft", "疑似被盗用", "theft", Severity.high, fix_hours=24, review=True,
        advice="立即核实账号控制权：修改密码，检查绑定手机和登录设备，删除非本单位发布的内容；"
        "确认被盗的，联系平台冻结账号并报告主管单位",
    ),
    FindingKind(
        "no_interaction", "未提供有效互动功能", "interaction", Severity.info, fix_hours=168,
        advice="开启评论或留言功能，或在简介中提供其他有效的互动渠道",
    ),
)  # fmt: skip
