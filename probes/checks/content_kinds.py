"""The kinds :mod:`probes.checks.content` emits: declared apart from it so that naming them (the
console, the CLI) does not load its word lists and rosters."""

from __future__ import annotations

from probes.checks.kinds import FindingKind, declare
from probes.model import Severity

FINDING_KINDS = declare(
    __name__,
    FindingKind(
        "privacy", "发布内容泄露身份证号、手机号或银行卡号", "privacy", Severity.high,
        fix_hours=24, review=True,
        advice="立即删除或修改所列内容，将身份证号、手机号、银行卡号脱敏后再发布",
    ),
    FindingKind(
        "roster_error", "领导姓名或职务表述错误", "vetting", Severity.high, fix_hours=24,
        review=True, advice="核对领导姓名和职务，更正所列内容",
    ),
    FindingKind(
        "wording", "错别字或不规范表述", "vetting", Severity.warning, fix_hours=72, review=True,
        advice="更正所列错别字或不规范表述",
    ),
    FindingKind(
        "entertainment_review", "含网络流行语或娱乐化表述，需人工复核", "entertainment",
        Severity.info, fix_hours=72, review=True, advice="复核所列表述，不妥的改用规范书面语",
    ),
)  # fmt: skip
