"""The registry: units and accounts as filed in the national 政务新媒体 system.

CSV or XLSX, Chinese or English headers. ``read_registry`` validates everything and
raises one ``RegistryError`` listing every problem as ``file:row:column: reason``;
``apply_registry`` upserts inside the caller's transaction; ``export_registry`` writes
a file that re-imports with no changes.

    with Session(engine) as session:
        registry = read_registry(paths, known_rulesets=..., known_readers=...,
                                 existing_unit_codes=existing_units(session))
        summary = apply_registry(session, registry, prune=False)
        session.commit()
"""

from monitor.registry.read import Problem, RegistryError
from monitor.registry.validate import AccountRow, Origin, Registry, UnitRow, read_registry
from monitor.registry.write import (
    Changes,
    ImportSummary,
    apply_registry,
    existing_units,
    export_registry,
)

__all__ = [
    "AccountRow",
    "Changes",
    "ImportSummary",
    "Origin",
    "Problem",
    "Registry",
    "RegistryError",
    "UnitRow",
    "apply_registry",
    "existing_units",
    "export_registry",
    "read_registry",
]
