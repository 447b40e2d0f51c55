"""Applying a validated registry to the database, and exporting the database as one.

``apply_registry`` works inside the caller's session and never commits: the caller's
commit makes the import all-or-nothing. Accounts are never deleted, because snapshots
and findings refer to them; an account the registry no longer lists can be closed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from monitor.registry.columns import ACCOUNT_COLUMNS, UNIT_COLUMNS, Column
from monitor.registry.read import Problem, RegistryError
from monitor.registry.validate import (
    AccountRow,
    Registry,
    UnitRow,
    format_options,
    parents_first,
)
from monitor.store.models import Account, Unit, utcnow

UNIT_FIELDS = (
    "name",
    "parent_code",
    "level",
    "region",
    "channels",
    "it_channels",
    "duty_mobiles",
    "leader_mobiles",
)
ACCOUNT_FIELDS = (
    "platform",
    "name",
    "handle",
    "url",
    "reader",
    "owner_code",
    "kind",
    "ruleset",
    "status",
    "operator",
    "is_lead",
    "interval_minutes",
    "options",
)

# sheet names export writes; read accepts these and the English ones
UNITS_SHEET = "单位"
ACCOUNTS_SHEET = "账号"


@dataclass(slots=True)
class Changes:
    """What an import did to one table."""

    added: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)  # key -> changed fields
    unchanged: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ImportSummary:
    """Counts and keys of what ``apply_registry`` changed, for the CLI and the audit log."""

    units: Changes = field(default_factory=Changes)
    accounts: Changes = field(default_factory=Changes)
    missing: list[str] = field(default_factory=list)  # accounts in the DB, not in the files
    closed: list[str] = field(default_factory=list)  # of those, the ones prune closed

    @property
    def changed(self) -> bool:
        return bool(
            self.units.added
            or self.units.updated
            or self.accounts.added
            or self.accounts.updated
            or self.closed
        )

    @property
    def added(self) -> int:
        return len(self.units.added) + len(self.accounts.added)

    @property
    def updated(self) -> int:
        return len(self.units.updated) + len(self.accounts.updated)

    @property
    def unchanged(self) -> int:
        return len(self.units.unchanged) + len(self.accounts.unchanged)

    def describe(self) -> str:
        """One line in Chinese: counts per table, and accounts the files no longer list."""
        return str(self)

    def __str__(self) -> str:
        def part(what: str, c: Changes) -> str:
            return f"{what}：新增 {len(c.added)}，更新 {len(c.updated)}，未变 {len(c.unchanged)}"

        text = f"{part('单位', self.units)}；{part('账号', self.accounts)}"
        if self.missing:
            text += f"；登记表中没有的账号 {len(self.missing)} 个"
            if self.closed:
                text += f"（已关闭 {len(self.closed)} 个）"
        return text


def existing_units(session: Session) -> dict[str, str]:
    """``{code: name}`` of the units in the database, for ``read_registry``."""
    return {u.code: u.name for u in session.exec(select(Unit))}


def apply_registry(
    session: Session, registry: Registry, *, prune: bool = False, now: datetime | None = None
) -> ImportSummary:
    """Upsert units (parents first), then accounts; flush, but leave the commit to the caller.

    Accounts in the database that the registry does not list are reported in
    ``missing``; with ``prune`` they are set to closed (never deleted: snapshots and
    findings refer to them). References are checked again against the database,
    since ``read_registry`` may have been given no existing units.
    """
    now = now or utcnow()
    summary = ImportSummary()
    units = {u.code: u for u in session.exec(select(Unit))}
    _check_references(registry, units)

    for row in parents_first(registry.units):
        unit = units.get(row.code)
        if unit is None:
            unit = Unit(code=row.code, **_values(row, UNIT_FIELDS), updated_at=now)
            session.add(unit)
            units[row.code] = unit
            summary.units.added.append(row.code)
        else:
            _update(unit, row, UNIT_FIELDS, now, row.code, summary.units)
    session.flush()  # parents exist before accounts point at them

    accounts = {a.id: a for a in session.exec(select(Account))}
    added: list[Account] = []
    for arow in registry.accounts:
        account = accounts.get(arow.id)
        if account is None:
            account = Account(id=arow.id, **_values(arow, ACCOUNT_FIELDS), updated_at=now)
            session.add(account)
            summary.accounts.added.append(arow.id)
            added.append(account)
        else:
            _update(account, arow, ACCOUNT_FIELDS, now, arow.id, summary.accounts)
        _date_closure(account, now)
        if len(added) >= _BATCH:  # written, and let go: a province's new registry is
            _let_go(session, added)  # 100 000 rows, which the session need not hold
    _let_go(session, added)

    if registry.has_accounts:
        listed = {a.id for a in registry.accounts}
        for account_id in sorted(set(accounts) - listed):
            account = accounts[account_id]
            summary.missing.append(account_id)
            if prune and account.status != "closed":
                account.status = "closed"
                account.updated_at = now
                _date_closure(account, now)
                summary.closed.append(account_id)
    session.flush()
    return summary


_BATCH = 2000


def _let_go(session: Session, added: list[Account]) -> None:
    """Write the accounts added so far and drop them from the session (nothing reads them
    again in this import; the transaction still holds them for a dry run's rollback)."""
    if added:
        session.flush()
        for account in added:
            session.expunge(account)
        added.clear()


def _date_closure(account: Account, now: datetime) -> None:
    """``closed_at`` follows ``status``: set when it turns closed, cleared when reopened
    (the reports judge a period by whether the account was open in it)."""
    if account.status == "closed":
        account.closed_at = account.closed_at or now
    else:
        account.closed_at = None


def _values(row: UnitRow | AccountRow, fields: Sequence[str]) -> dict[str, Any]:
    # copies, so the ORM never shares a mutable list/dict with the registry rows
    return {f: _copy(getattr(row, f)) for f in fields}


def _copy(value: Any) -> Any:
    return (
        list(value)
        if isinstance(value, list)
        else dict(value)
        if isinstance(value, dict)
        else value
    )


def _update(
    obj: Unit | Account,
    row: UnitRow | AccountRow,
    fields: Sequence[str],
    now: datetime,
    key: str,
    changes: Changes,
) -> None:
    changed = [f for f in fields if getattr(obj, f) != getattr(row, f)]
    if not changed:
        changes.unchanged.append(key)
        return
    for f in changed:
        # a new object, so the JSON column sees the assignment as a change
        setattr(obj, f, _copy(getattr(row, f)))
    obj.updated_at = now
    changes.updated[key] = changed


def _check_references(registry: Registry, db_units: dict[str, Unit]) -> None:
    """Owners and parents exist, and the merged parent graph has no loop."""
    problems: list[Problem] = []
    parent = {code: u.parent_code for code, u in db_units.items()}
    parent.update({u.code: u.parent_code for u in registry.units})
    for u in registry.units:
        if u.parent_code and u.parent_code not in parent:
            problems.append(_at(u, "parent_code", f"单位 '{u.parent_code}' 不存在"))
    for a in registry.accounts:
        if a.owner_code not in parent:
            problems.append(_at(a, "owner_code", f"单位 '{a.owner_code}' 不存在"))
    for u in registry.units:
        seen = [u.code]
        node = parent.get(u.code)
        while node is not None and node not in seen:
            seen.append(node)
            node = parent.get(node)
        if node is not None:
            shown = " → ".join([*seen[seen.index(node) :], node])
            problems.append(_at(u, "parent_code", f"主管单位形成循环：{shown}"))
    if problems:
        raise RegistryError(problems)


def _at(row: UnitRow | AccountRow, field: str, reason: str) -> Problem:
    """Where the row came from; rows built in code have no file, so name the row."""
    if row.origin:
        return row.origin.problem(field, reason)
    key = row.code if isinstance(row, UnitRow) else row.id
    column = next(c.chinese for c in (*UNIT_COLUMNS, *ACCOUNT_COLUMNS) if c.field == field)
    return Problem(f"({key})", None, column, reason)


# --- export ------------------------------------------------------------------------------


def export_registry(
    session: Session, path: Path, *, roster: list[list[str | int]] | None = None
) -> list[Path]:
    """Write the registry as ``.xlsx`` (one workbook) or ``.csv`` (two files); return them.

    Headers are Chinese; values keep the English codes (``weibo``, ``publish``,
    ``active``) so the file re-imports unchanged. ``roster`` (the rows the last import
    wrote, ``monitor.registry.roster``) is a third sheet of a workbook, 领导名册.
    """
    units = parents_first([_unit_row(u) for u in session.exec(select(Unit).order_by(Unit.code))])
    accounts = session.exec(select(Account).order_by(Account.owner_code, Account.id)).all()
    unit_rows = [_cells(UNIT_COLUMNS, u) for u in units]
    account_rows = [_cells(ACCOUNT_COLUMNS, a) for a in accounts]
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        sheets = [
            (UNITS_SHEET, UNIT_COLUMNS, unit_rows),
            (ACCOUNTS_SHEET, ACCOUNT_COLUMNS, account_rows),
        ]
        if roster is not None:
            from monitor.registry.roster import ROSTER_COLUMNS, SHEET

            sheets.append((SHEET, ROSTER_COLUMNS, roster))
        _write_xlsx(path, sheets)
        return [path]
    if suffix == ".csv":
        out = [
            path.with_name(f"{path.stem}-units.csv"),
            path.with_name(f"{path.stem}-accounts.csv"),
        ]
        _write_csv(out[0], UNIT_COLUMNS, unit_rows)
        _write_csv(out[1], ACCOUNT_COLUMNS, account_rows)
        return out
    reason = f"不支持导出为 '{path.suffix}'，应为 .csv 或 .xlsx"
    raise RegistryError([Problem(str(path), None, None, reason)])


def _unit_row(u: Unit) -> UnitRow:
    return UnitRow(
        u.code,
        u.name,
        u.parent_code,
        u.level,
        u.region,
        list(u.channels),
        list(u.it_channels),
        list(u.duty_mobiles),
        list(u.leader_mobiles),
    )


def _cells(columns: Sequence[Column], obj: Any) -> list[str | int]:
    """One row as the cells a person reads and the reader accepts back."""
    out: list[str | int] = []
    for col in columns:
        value = getattr(obj, col.field)
        if col.field in ("channels", "it_channels"):
            out.append("\n".join(value))
        elif col.field in ("duty_mobiles", "leader_mobiles"):
            out.append("、".join(value))
        elif col.field == "options":
            out.append(format_options(value))
        elif col.field == "is_lead":
            out.append("是" if value else "")
        elif value is None:
            out.append("")
        else:
            out.append(value)
    return out


def _write_csv(path: Path, columns: Sequence[Column], rows: Iterable[list[str | int]]) -> None:
    # BOM: without it Excel in China opens UTF-8 as GBK and shows mojibake
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([c.chinese for c in columns])
        writer.writerows(rows)


def _write_xlsx(
    path: Path, sheets: Sequence[tuple[str, Sequence[Column], list[list[str | int]]]]
) -> None:
    # openpyxl here, not at the top: the patrol's processes import this module, never write
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for title, columns, rows in sheets:
        ws = wb.create_sheet(title)
        ws.append([c.chinese for c in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                if value == "":
                    continue
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    # text stays text: no formula from a leading "=", no lost leading
                    # zeros or rounded 16-digit ids when someone edits the sheet
                    cell.data_type = "s"
                    cell.number_format = "@"
                    if "\n" in value:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
        for c, col in enumerate(columns, start=1):
            width = max([len(col.chinese) * 2, *(len(str(row[c - 1])) for row in rows[:200])])
            ws.column_dimensions[get_column_letter(c)].width = min(max(width, 8) + 2, 60)
        ws.freeze_panes = "A2"
    wb.save(path)
