"""The kind registry holds every kind a detector can emit, and every detector is loaded.

Questions asked of the registry, not of the source: each detector registers the kinds it
emits (``register(name, kinds)``), :func:`probes.checks.evaluate` refuses a signal of a kind
its detector did not declare, and every module of ``probes/checks`` that declares kinds or
registers a detector must be one the registry loads — a test names the module that is not.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import probes.checks
from probes.checks import _FETCH_SIGNALS, DETECTOR_MODULES, DETECTORS, evaluate, kinds
from probes.checks import registry as detectors
from probes.checks.calendar import WorkCalendar
from probes.checks.kinds import CATEGORIES, KIND_MODULES, KINDS, FindingKind
from probes.checks.rules import BUILTIN_RULESETS
from probes.model import Observation, Outcome, Post, Severity, Signal

CHINESE = re.compile(r"[\u4e00-\u9fff]")
CODES = sorted(KINDS)


def every_checks_module() -> list[str]:
    """Every module of ``probes/checks``, imported (so each has declared and registered)."""
    names = [m.name for m in pkgutil.iter_modules(probes.checks.__path__, "probes.checks.")]
    for name in names:
        importlib.import_module(name)
    return names


def registered_modules() -> dict[str, set[str]]:
    """module -> the detectors it registered (the package's own registry, not a test's)."""
    out: dict[str, set[str]] = {}
    for name, fn in DETECTORS.items():
        if fn.__module__.startswith("probes.checks"):
            out.setdefault(fn.__module__, set()).add(name)
    return out


def test_every_module_that_registers_a_detector_is_loaded_by_evaluate() -> None:
    every_checks_module()
    loaded = {*DETECTOR_MODULES, "probes.checks"}  # the package registers staleness itself
    missing = sorted(set(registered_modules()) - loaded)
    assert missing == [], (
        "modules that register detectors but are not in DETECTOR_MODULES "
        f"(probes/checks/__init__.py), so evaluate() would skip them: {missing}"
    )
    assert set(DETECTOR_MODULES) <= set(registered_modules()), "a listed module registers nothing"


def test_every_module_that_declares_kinds_is_loaded_by_the_registry() -> None:
    every_checks_module()
    declaring = {kinds.declared_in(c) for c in KINDS}
    missing = sorted(
        m for m in declaring if m and m.startswith("probes.") and m not in KIND_MODULES
    )
    assert missing == [], (
        "modules that declare kinds but are not in KIND_MODULES "
        f"(probes/checks/kinds.py), so the console would not know their kinds: {missing}"
    )
    assert set(KIND_MODULES) <= declaring, "a listed module declares nothing"


def test_reading_the_kinds_loads_no_detector() -> None:
    """The console and the CLI name every kind without the lexicons, the word lists, the
    holiday calendar or the HTTP client a detector loads."""
    probe = (
        "import sys\n"
        "from probes.checks import kinds\n"
        "print(len(kinds.load()), sorted(m for m in sys.modules if m in {"
        + ", ".join(repr(m) for m in (*DETECTOR_MODULES, "httpx", "tldextract", "holidays"))
        + "}))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert r.stdout.split() == [str(len(KINDS)), "[]"], r.stdout + r.stderr


def test_every_registered_detector_declares_what_it_emits() -> None:
    every_checks_module()
    for name in DETECTORS:
        emits = detectors.EMITS.get(name, frozenset())
        assert emits, f"detector {name!r} declares no kind"
        assert emits <= KINDS.keys(), f"detector {name!r}: {sorted(emits - KINDS.keys())}"


def test_every_declared_kind_has_one_emitter() -> None:
    """A declared kind no detector emits is a typo or a leftover; the fetch kinds are
    evaluate()'s own, one per failed outcome."""
    every_checks_module()
    fetch = {kind: severity for kind, severity, _title in _FETCH_SIGNALS.values()}
    assert set(fetch) == {c for c in KINDS if kinds.declared_in(c) == "probes.checks"}
    for code, severity in fetch.items():
        assert KINDS[code].severity is severity, code
    emitters: dict[str, list[str]] = {code: [] for code in KINDS}
    for name, emits in detectors.EMITS.items():
        for code in emits:
            emitters[code].append(name)
    for code in KINDS:
        if code in fetch:
            assert emitters[code] == [], code
        else:
            assert len(emitters[code]) == 1, f"{code}: emitted by {emitters[code] or 'nobody'}"


@pytest.mark.parametrize("code", CODES)
def test_every_kind_is_said_in_words(code: str) -> None:
    k = KINDS[code]
    assert k.code == code
    assert k.label.strip() and CHINESE.search(k.label), f"{code}: label {k.label!r}"
    assert k.category in CATEGORIES, f"{code}: category {k.category!r}"
    assert CHINESE.search(CATEGORIES[k.category].label)
    assert CHINESE.search(k.remedy), f"{code}: remedy {k.remedy!r}"
    if k.audience == "unit":  # ops read one line for all the patrol's problems
        assert CHINESE.search(k.advice), f"{code} declares no advice"
    else:
        assert not k.counted and not k.review and not k.advice, code
    assert not k.supersedes or k.supersedes in KINDS, code


def test_every_problem_a_unit_must_fix_has_a_deadline() -> None:
    """整改期限 for every kind: staleness from its rule, the rest from their spec; our own
    fetch problems and a record kept for comparison have none."""
    for code, k in KINDS.items():
        if (k.timed and k.audience == "unit") or k.audience == "ops" or k.pins_signer:
            assert k.fix_hours is None, code
        else:
            assert k.fix_hours and k.fix_hours > 0, f"{code} has no 整改期限"


def test_the_kind_sets_monitor_reads_are_questions_asked_of_the_specs() -> None:
    from monitor.alerting.route import OPS_KINDS
    from monitor.record.judge import TIME_KINDS
    from monitor.report.problems import NOT_DEDUCTED
    from monitor.store.findings import FETCH_KINDS, SUPERSEDES

    assert OPS_KINDS == kinds.PATROL_KINDS == {"undated", "blocked", "fetch_failed", "unreadable"}
    assert {"gone", "blocked", "fetch_failed"} == FETCH_KINDS
    assert {"stale", "stale_soon", "infrequent", "undated"} == TIME_KINDS
    assert {"stale_soon", *kinds.PATROL_KINDS} == NOT_DEDUCTED
    assert SUPERSEDES == {"stale": "stale_soon", "infrequent": "stale_soon"}
    assert kinds.kinds_where(pins_signer=True) == {"app_signer_pinned"}


def test_a_signal_carries_its_spec() -> None:
    assert Signal("stale", Severity.veto, "已 15 天未更新").spec is KINDS["stale"]
    with pytest.raises(KeyError, match="made_up"):
        _ = Signal("made_up", Severity.high, "t").spec


@pytest.fixture
def careless() -> Iterator[None]:
    """A detector that emits a kind it never declared."""
    spec = FindingKind("careless_declared", "测试", "vetting", Severity.info, advice="测试")
    kinds.declare(__name__, spec)
    detectors.register("careless", [spec])(
        lambda obs, ctx: [Signal("careless_undeclared", Severity.high, "t")]
    )
    yield
    detectors.unregister("careless")
    kinds.withdraw(spec)


def test_a_signal_of_an_undeclared_kind_is_refused_naming_its_detector(careless: None) -> None:
    at = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    obs = Observation("a", "rss", "https://example.org/a", at, Outcome.ok,
                      posts=[Post("p", at, "t")])  # fmt: skip
    with pytest.raises(ValueError, match="'careless' emitted 'careless_undeclared'"):
        evaluate(obs, ruleset=BUILTIN_RULESETS["national"], calendar=WorkCalendar(), now=at)
