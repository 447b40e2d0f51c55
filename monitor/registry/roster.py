"""The leaders' roster (领导名册) carried by the registry workbook.

A workbook may hold a third sheet, ``领导名册`` (or ``名册``, ``roster``): one row per term of
office — 单位编码, 姓名, 职务, 任职起始, 任职截止 (docs/registry.md). ``xuncha registry import``
checks it with the rest (a unit that exists, dates as ``YYYY-MM-DD``; all or nothing) and
writes it to the user's own lists, ``<lists_dir>/roster/registry.csv``, replacing what the
last import wrote there; the content detector reads it with the other rosters
(:mod:`probes.checks.lists`), and an upgrade of the package never touches it. ``registry
export`` writes it back as the same sheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

from monitor.registry.columns import Column, norm
from monitor.registry.read import Problem, clean

SHEETS = ("领导名册", "名册", "roster")
SHEET = "领导名册"
FILE = "registry.csv"
ROSTER_COLUMNS: tuple[Column, ...] = (
    Column("unit", "unit", "单位编码", ("unit_code",), required=True),
    Column("name", "name", "姓名", required=True),
    Column("title", "title", "职务", required=True),
    Column("since", "from", "任职起始", ("since",)),
    Column("until", "until", "任职截止"),
)
_BY_HEADER = {norm(h): c for c in ROSTER_COLUMNS for h in c.headers}


def roster_path(lists_dir: Path) -> Path:
    return lists_dir / "roster" / FILE


def read_roster(
    paths: Sequence[Path], known_units: Collection[str]
) -> tuple[list[list[str]] | None, list[Problem]]:
    """The roster sheet's rows (None: no workbook has one) and the problems in it."""
    rows: list[list[str]] | None = None
    problems: list[Problem] = []
    for path in paths:
        if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
            continue
        from openpyxl import load_workbook  # only the import command reads workbooks

        wb = load_workbook(path, data_only=True, read_only=True)
        try:
            names = {norm(t): t for t in wb.sheetnames}
            title = next((names[norm(s)] for s in SHEETS if norm(s) in names), None)
            if title is None:
                continue
            got = _sheet(wb[title].iter_rows(values_only=True), f"{path}[{title}]",
                         set(known_units), problems)  # fmt: skip
            rows = [*(rows or []), *got]
        finally:
            wb.close()
    return rows, problems


def _sheet(
    cells: Iterable[tuple[object, ...]], label: str, units: set[str], problems: list[Problem]
) -> list[list[str]]:
    header: dict[int, Column] = {}
    out: list[list[str]] = []
    for number, values in enumerate(cells, 1):
        texts = [clean(v) for v in values]
        if not header:
            if sum(1 for t in texts if t) >= 2:  # a title row above the header is skipped
                header = {i: _BY_HEADER[norm(t)] for i, t in enumerate(texts)
                          if t and norm(t) in _BY_HEADER}  # fmt: skip
                missing = [c.chinese for c in ROSTER_COLUMNS
                           if c.required and c not in header.values()]  # fmt: skip
                if missing:
                    problems.append(Problem(label, number, None, f"缺少列：{'、'.join(missing)}"))
                    return []
            continue
        if not any(texts):
            continue
        row = {c.field: "" for c in ROSTER_COLUMNS}
        for i, col in header.items():
            value = values[i] if i < len(values) else None
            row[col.field] = _day(value) if col.field in ("since", "until") else clean(value)
        out.append(_check(row, label, number, units, problems))
    return out


def _day(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return clean(value)


def _check(row: dict[str, str], label: str, number: int, units: set[str],
           problems: list[Problem]) -> list[str]:  # fmt: skip
    for col in ROSTER_COLUMNS:
        value = row[col.field]
        if col.required and not value:
            problems.append(Problem(label, number, col.chinese, "不能为空"))
        elif col.field == "unit" and value not in units:
            problems.append(Problem(label, number, col.chinese, f"没有编码为 {value} 的单位"))
        elif col.field in ("since", "until") and value:
            try:
                date.fromisoformat(value)
            except ValueError:
                problems.append(Problem(label, number, col.chinese, "日期应写作 YYYY-MM-DD"))
    if row["since"] and row["until"] and row["until"] < row["since"]:
        problems.append(Problem(label, number, "任职截止", "早于任职起始"))
    return [row[c.field] for c in ROSTER_COLUMNS]


def write_roster(lists_dir: Path, rows: list[list[str]], source: str, on: date) -> Path:
    """Replace the roster the last import wrote; the file is the user's, outside the package."""
    target = roster_path(lists_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    buf.write(f"# 领导名册：由 xuncha registry import 于 {on.isoformat()} 从 {source} 写入；")
    buf.write("下次导入时整体替换，请改登记表而不是本文件\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.chinese for c in ROSTER_COLUMNS])
    writer.writerows(rows)
    tmp = target.with_suffix(".csv.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    tmp.replace(target)
    return target


def exported_rows(lists_dir: Path) -> list[list[str | int]] | None:
    """What the last import wrote, for ``registry export`` (None: nothing was)."""
    path = roster_path(lists_dir)
    if not path.is_file():
        return None
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    rows = list(csv.reader(lines))[1:]
    return [list(r) for r in rows if r]
