"""How serious a judgement is: a value of its own, so that the kind registry
(``probes.checks.kinds``) and the value types (``probes.model``, which re-exports it, and whose
``Signal.spec`` looks a kind up) each import it without importing the other."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    info = "info"
    warning = "warning"
    high = "high"
    veto = "veto"  # 单项否决: fails an inspection outright


SEVERITY_RANK = {Severity.info: 0, Severity.warning: 1, Severity.high: 2, Severity.veto: 3}
