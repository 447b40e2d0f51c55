"""The kinds :mod:`probes.checks.commercial` emits: declared apart from it so that naming them
(the console, the CLI) does not load its lexicons, domain lists and suffix list."""

from __future__ import annotations

from probes.checks.kinds import FindingKind, declare
from probes.model import Severity

FINDING_KINDS = declare(
    __name__,
    FindingKind(
        "commercial", "发布或链接商业广告", "ads", Severity.high, fix_hours=72, review=True,
        advice="删除或修改所列内容，撤下指向电商、广告的链接",
    ),
    FindingKind(
        "commercial_review", "含商品销售或小程序，需人工复核", "ads", Severity.info,
        fix_hours=72, review=True,
        advice="复核所列内容：属商业推广的删除或修改；属公益或政务服务的，确认后在控制台注明",
    ),
)  # fmt: skip
