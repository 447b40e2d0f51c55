"""The kinds :mod:`probes.checks.interaction` emits: declared apart from it so that naming them
(the console, the CLI) does not load the holiday calendar it counts working days with."""

from __future__ import annotations

from probes.checks.kinds import FindingKind, declare
from probes.model import Severity

FINDING_KINDS = declare(
    __name__,
    FindingKind(
        "interaction_unanswered", "公众留言提问未按时回复", "interaction", Severity.warning,
        "回复", fix_hours=24,
        advice="逐条回复所列公众提问（在该条评论下回复或点名回复提问人），"
        "并明确专人按时回复公众留言",
    ),
    FindingKind(
        "interaction_late", "公众留言提问回复超时", "interaction", Severity.info, fix_hours=168,
        advice="所列提问已回复但超过时限：明确专人值守评论区，按时回复公众留言",
    ),
)  # fmt: skip
