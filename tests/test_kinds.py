"""The finding-kind catalogue covers every kind a detector can emit, read from the code itself.

A detector's ``Signal(kind, severity, ...)`` is found by an ``ast`` scan of ``probes/``, so a new
kind fails here until ``probes/checks/kinds.py`` names it; a kind built at run time fails too
(the scan could not vouch for it), unless it is one of the fetch kinds read from
``_FETCH_SIGNALS``.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import probes
from probes.checks import _FETCH_SIGNALS, DETECTORS
from probes.checks.kinds import CATEGORIES, KINDS
from probes.model import Severity

PROBES = Path(probes.__file__).resolve().parent
CHINESE = re.compile(r"[\u4e00-\u9fff]")
#: Signal(...) calls whose kind is not a literal, and why that is fine: "module:function".
DYNAMIC = {"probes.checks:evaluate": "fetch kinds, read from _FETCH_SIGNALS below"}


@dataclass
class Scan:
    kinds: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # -> modules
    severities: dict[str, set[Severity]] = field(default_factory=lambda: defaultdict(set))
    dynamic: set[str] = field(default_factory=set)  # "module:function" of non-literal kinds


def _module(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"``: a kind may be a named constant."""
    out = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            out.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return out


def _arg(call: ast.Call, pos: int, name: str) -> ast.expr | None:
    if len(call.args) > pos:
        return call.args[pos]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_signal(call: ast.Call) -> bool:
    f = call.func
    return (isinstance(f, ast.Name) and f.id == "Signal") or (
        isinstance(f, ast.Attribute) and f.attr == "Signal"
    )


def scan(root: Path = PROBES) -> Scan:
    found = Scan()
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        module, consts = _module(path, root), _constants(tree)
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for call in ast.walk(fn):
                if not (isinstance(call, ast.Call) and _is_signal(call)):
                    continue
                kind = _arg(call, 0, "kind")
                if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                    code = kind.value
                elif isinstance(kind, ast.Name) and kind.id in consts:
                    code = consts[kind.id]
                else:
                    found.dynamic.add(f"{module}:{fn.name}")
                    continue
                found.kinds[code].add(module)
                sev = _arg(call, 1, "severity")
                if (
                    isinstance(sev, ast.Attribute)
                    and isinstance(sev.value, ast.Name)
                    and sev.value.id == "Severity"
                ):
                    found.severities[code].add(Severity[sev.attr])
    for kind, severity, _title in _FETCH_SIGNALS.values():
        found.kinds[kind].add("probes.checks")
        found.severities[kind].add(severity)
    return found


SCAN = scan()


def test_the_scan_finds_the_known_detectors_kinds() -> None:
    """So that a scan gone blind (renamed Signal, moved package) cannot pass by finding nothing."""
    assert {"stale", "stale_soon"} <= SCAN.kinds.keys()  # staleness
    assert {"gone", "blocked", "fetch_failed"} <= SCAN.kinds.keys()  # the fetch itself
    assert {"commercial", "commercial_review"} <= SCAN.kinds.keys()
    assert {"theft", "no_interaction"} <= SCAN.kinds.keys()
    assert {"app_download_unreachable", "app_signer_changed", "app_store_missing"} <= set(
        SCAN.kinds
    )
    assert SCAN.severities["commercial"] == {Severity.high}
    assert SCAN.severities["app_tls"] == {Severity.high, Severity.warning}
    # every registered detector's module is one the scan saw emit something
    seen = {m for mods in SCAN.kinds.values() for m in mods}
    for name, fn in DETECTORS.items():
        module = "probes.checks.staleness" if name == "staleness" else fn.__module__
        assert module in seen, f"detector {name!r} ({module}): the scan found no Signal(...)"


def test_the_scan_sees_a_new_kind_and_a_dynamic_one(tmp_path: Path) -> None:
    """The scan itself: literal, keyword, constant and run-time kinds, as a detector writes them."""
    pkg = tmp_path / "probes"
    pkg.mkdir()
    (pkg / "fake.py").write_text(
        "NEW = 'spam_new'\n"
        "def detect(obs, ctx):\n"
        "    kind = 'x' + 'y'\n"
        "    return [Signal('made_up', Severity.high, 't'), Signal(kind=NEW,"
        " severity=Severity.info, title='t'), Signal(kind, Severity.info, 't')]\n",
        encoding="utf-8",
    )
    s = scan(pkg)
    assert {"made_up", "spam_new"} <= s.kinds.keys()
    assert s.severities["made_up"] == {Severity.high} and s.severities["spam_new"] == {
        Severity.info
    }
    assert s.dynamic == {"probes.fake:detect"}
    assert "made_up" not in KINDS  # what test_every_emitted_kind_is_catalogued would catch


def test_no_detector_builds_its_kind_at_run_time() -> None:
    assert SCAN.dynamic <= DYNAMIC.keys(), (
        f"Signal kinds the scan cannot read: {sorted(SCAN.dynamic - DYNAMIC.keys())}; "
        "use a string literal or a module-level constant"
    )


@pytest.mark.parametrize("code", sorted(SCAN.kinds))
def test_every_emitted_kind_is_catalogued(code: str) -> None:
    where = ", ".join(sorted(SCAN.kinds[code]))
    assert code in KINDS, f"{code!r} (emitted in {where}) is missing from probes/checks/kinds.py"
    k = KINDS[code]
    assert k.code == code
    assert k.label.strip() and CHINESE.search(k.label), f"{code}: label {k.label!r}"
    assert k.category in CATEGORIES, f"{code}: category {k.category!r}"
    assert CHINESE.search(CATEGORIES[k.category].label)
    assert CHINESE.search(k.remedy), f"{code}: remedy {k.remedy!r}"


@pytest.mark.parametrize("code", sorted(c for c in SCAN.kinds if SCAN.severities[c]))
def test_catalogue_severity_is_one_its_detector_uses(code: str) -> None:
    """Where the scan sees the severities a kind is emitted with, the catalogue's is among them."""
    used = SCAN.severities[code]
    assert KINDS[code].severity in used, (
        f"{code}: catalogue says {KINDS[code].severity.value}, "
        f"detector uses {sorted(s.value for s in used)}"
    )


def test_the_catalogue_lists_no_kind_nothing_emits() -> None:
    """A catalogue entry no detector emits is a typo or a leftover."""
    assert set(KINDS) - SCAN.kinds.keys() == set()


def test_every_problem_a_unit_must_fix_has_a_deadline() -> None:
    """整改期限 for every kind: staleness from its rule, the rest from the catalogue; our own
    fetch problems and a record kept for comparison have none."""
    ruled = {"stale", "stale_soon", "infrequent"}  # the detector sets the deadline
    for code, k in KINDS.items():
        if code in ruled or k.category == "patrol" or code == "app_signer_pinned":
            assert k.fix_hours is None, code
        else:
            assert k.fix_hours and k.fix_hours > 0, f"{code} has no 整改期限"
