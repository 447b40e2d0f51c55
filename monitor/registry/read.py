"""Reading registry files into tables of trimmed text cells, with their row numbers.

Nothing here judges values; it only finds the tables, maps headers to fields and
reports what makes a file unusable. Every problem is collected, none raised early, so
one import run tells the person everything to fix.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.registry.columns import (
    COLUMNS,
    SHEET_NAMES,
    TABLE_LABELS,
    TableKind,
    header_index,
    norm,
)
from monitor.registry.guard import Merge, Refused, check_workbook

if TYPE_CHECKING:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing to fix, where the person will find it: ``file:row:column: reason``."""

    file: str
    row: int | None  # the spreadsheet's row number (header = 1); None for the whole file
    column: str | None  # the header as written in the file
    reason: str  # Chinese, for the person who fills in the sheet

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(str(self.row))
        if self.column:
            where.append(self.column)
        return f"{':'.join(where)}: {self.reason}"


#: problems kept to be shown; past these they are counted (a crafted sheet had 1.2 million)
MAX_PROBLEMS = 200


class Problems(list[Problem]):
    """Problems as they are found: the first :data:`MAX_PROBLEMS` kept, the rest counted
    (``more``), so a sheet wrong in every cell costs no more memory than one wrong in a few."""

    def __init__(self) -> None:
        super().__init__()
        self.more = 0

    def append(self, problem: Problem) -> None:
        if len(self) < MAX_PROBLEMS:
            super().append(problem)
        else:
            self.more += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.append(p)


class RegistryError(Exception):
    """The registry cannot be imported; ``problems`` lists the reasons in file order, the
    first :data:`MAX_PROBLEMS` of them (``more`` says how many others there are)."""

    def __init__(self, problems: Sequence[Problem], more: int = 0) -> None:
        self.problems = list(problems)
        self.more = more
        super().__init__("\n".join(self.lines()))

    @property
    def errors(self) -> list[Problem]:
        return self.problems

    @property
    def total(self) -> int:
        return len(self.problems) + self.more

    def lines(self) -> list[str]:
        """One ``file:row:column: reason`` line per problem, for the terminal; then how
        many more there are."""
        lines = [str(p) for p in self.problems]
        if self.more:
            lines.append(f"另有 {self.more} 处错误（先改正以上各处，再导入即可看到）")
        return lines


@dataclass(slots=True)
class Table:
    """One units or accounts table from one file (or sheet), cells still text."""

    kind: TableKind
    label: str  # file name as given, plus ``[sheet]`` for a workbook
    headers: dict[str, str]  # field -> header as written
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (row number, cells)


def clean(value: Any) -> str:
    """A cell as trimmed text; Excel numbers that are whole print without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, datetime | date | time):
        text = value.isoformat()
    else:
        text = str(value)
    # zero-width space and a stray BOM come with text pasted from web pages
    return text.strip().strip("\u200b\ufeff").strip()


def load_tables(paths: Sequence[Path]) -> tuple[list[Table], Problems]:
    """Every table in ``paths``; problems that make a file or column unusable."""
    tables: list[Table] = []
    problems = Problems()
    if not paths:
        problems.append(Problem("(无文件)", None, None, "没有给出登记表文件"))
    for path in paths:
        label = str(path)
        suffix = path.suffix.lower()
        if not path.is_file():
            problems.append(Problem(label, None, None, "文件不存在"))
        elif suffix in (".xlsx", ".xlsm"):
            _load_xlsx(path, tables, problems)
        elif suffix == ".csv":
            _load_csv(path, tables, problems)
        elif suffix == ".xls":
            reason = "不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 .csv"
            problems.append(Problem(label, None, None, reason))
        else:
            reason = f"不支持的文件类型 '{path.suffix}'，应为 .csv 或 .xlsx"
            problems.append(Problem(label, None, None, reason))
    return tables, problems


# --- CSV -------------------------------------------------------------------------------


def decode(data: bytes) -> str | None:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK).

    Excel in China saves "CSV" as GBK; a strict UTF-8 decode fails on GBK Chinese
    almost always, so trying UTF-8 first does not misread GBK.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _load_csv(path: Path, tables: list[Table], problems: list[Problem]) -> None:
    label = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(label, None, None, f"无法读取文件：{exc.strerror or exc}"))
        return
    if data.startswith(b"PK\x03\x04"):
        problems.append(Problem(label, None, None, "这是 XLSX 工作簿，扩展名却是 .csv"))
        return
    try:
        text = decode(data)
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        problems.append(Problem(label, None, None, "无法识别文件编码，应为 UTF-8 或 GBK 的 CSV"))
        return
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        # csv counts records, not lines: a quoted cell holding newlines is one row,
        # as in the spreadsheet the person is looking at
        rows = list(
            enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
        )
    except csv.Error as exc:
        problems.append(Problem(label, None, None, f"CSV 格式错误：{exc}"))
        return
    rows_iter = iter((n, [clean(c) for c in cells]) for n, cells in rows)
    found = _header(rows_iter)
    if found is None:
        reason = "文件是空的" if not text.strip() else "找不到表头行（至少两列有内容的一行）"
        problems.append(Problem(label, None, None, reason))
        return
    number, header = found
    kind = detect_kind(header)
    if kind is None:
        reason = "无法从表头判断是单位表还是账号表（应有 单位编码 或 账号编号 等列）"
        problems.append(Problem(label, number, None, reason))
        return
    tables.append(_table(label, kind, number, header, rows_iter, problems))


def _header(rows: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]] | None:
    """The first row with two or more filled cells; a row above it is a title.

    Chinese sheets often open with a title row ("XX市政务新媒体备案表"); every table
    here has at least two required columns, so a one-cell row is never the header.
    """
    for number, cells in rows:
        if sum(1 for c in cells if c) >= 2:
            return number, cells
    return None


def detect_kind(header: Sequence[str]) -> TableKind | None:
    """Which table a header row belongs to: the one whose own columns it names most."""
    keys = {norm(h) for h in header if h}
    units, accounts = header_index("units"), header_index("accounts")
    id_col = {norm(h) for h in COLUMNS["accounts"][0].headers}
    code_col = {norm(h) for h in COLUMNS["units"][0].headers}
    if keys & id_col:
        return "accounts"
    if keys & code_col:
        return "units"
    only_units = len({k for k in keys if k in units and k not in accounts})
    only_accounts = len({k for k in keys if k in accounts and k not in units})
    if only_units == only_accounts:
        return None
    return "units" if only_units > only_accounts else "accounts"


# --- XLSX ------------------------------------------------------------------------------


def _load_xlsx(path: Path, tables: list[Table], problems: list[Problem]) -> None:
    label = str(path)
    try:
        # a small file can unpack to gigabytes: its size, rows, cells and used range are
        # counted first, without openpyxl (which also gives no merged ranges read-only)
        merges = check_workbook(path)
    except Refused as exc:
        where = f"{label}[{exc.sheet}]" if exc.sheet else label
        problems.append(Problem(where, None, None, exc.reason))
        return
    try:
        # read-only: rows are streamed, never the whole workbook in memory (a crafted
        # sheet inside the limits took 1.1 GB loaded whole); its dimensions are reset, as
        # generators often state them wrong
        from openpyxl import load_workbook  # here: the patrol's processes never read workbooks

        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # whatever openpyxl, zipfile or the XML parser meet
        problems.append(Problem(label, None, None, f"无法读取 XLSX 工作簿：{_load_error(exc)}"))
        return
    try:
        by_name: dict[str, list[str]] = {}
        for title in wb.sheetnames:
            by_name.setdefault(norm(title), []).append(title)
        for kind, names in SHEET_NAMES.items():
            found = [t for n in names for t in by_name.get(norm(n), [])]
            if not found:
                wanted = " 或 ".join(f"'{n}'" for n in names)
                have = "、".join(wb.sheetnames)
                reason = f"缺少{TABLE_LABELS[kind]}工作表（名为 {wanted}；现有：{have}）"
                problems.append(Problem(label, None, None, reason))
                continue
            if len(found) > 1:
                reason = f"有多个{TABLE_LABELS[kind]}工作表：{'、'.join(found)}"
                problems.append(Problem(label, None, None, reason))
                continue
            ws = wb[found[0]]
            sheet_label = f"{label}[{ws.title}]"
            try:
                ws.reset_dimensions()
                rows = _sheet_rows(ws, merges.get(ws.title, []))
                _read_sheet(rows, kind, sheet_label, tables, problems)
            except Exception as exc:  # openpyxl meeting what it let through at load
                reason = f"无法读取工作表：{_load_error(exc)}"
                problems.append(Problem(sheet_label, None, None, reason))
    finally:
        wb.close()


def _read_sheet(
    rows: Iterator[tuple[int, list[str]]],
    kind: TableKind,
    label: str,
    tables: list[Table],
    problems: list[Problem],
) -> None:
    found = _header(rows)
    if found is None:
        tables.append(Table(kind, label, {}))
        reason = "工作表中找不到表头行（至少两列有内容的一行）"
        problems.append(Problem(label, None, None, reason))
        return
    number, header = found
    tables.append(_table(label, kind, number, header, rows, problems))


def _load_error(exc: Exception) -> str:
    """What went wrong inside openpyxl, for the person; the technical words in brackets."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, zipfile.BadZipFile | zlib.error | EOFError):
        return f"文件已损坏，无法解压（{detail}）"
    if isinstance(exc, KeyError):
        return f"缺少工作簿必需的部分，文件已损坏或不是 Excel 保存的（{detail}）"
    if isinstance(exc, SyntaxError):  # xml.etree's ParseError
        return f"文件已损坏，内部的 XML 有误（{detail}）"
    if isinstance(exc, MemoryError):
        return "工作簿太大，内存不足"
    if isinstance(exc, OSError):
        return f"无法读取文件：{exc.strerror or exc}"
    return f"内容不符合 XLSX 格式，请在 Excel 中打开后另存为 .xlsx 再导入（{detail}）"


def _sheet_rows(ws: ReadOnlyWorksheet, merges: list[Merge]) -> Iterator[tuple[int, list[str]]]:
    """Rows with their numbers; a vertically merged cell gives its value to every row.

    People merge the 主办单位 cell over all of a unit's accounts; Excel keeps the value in
    the top cell only. Horizontal merges (titles) are left alone. The top row comes first,
    so its value is taken as it streams past.
    """
    below: dict[int, list[tuple[int, int]]] = {}  # row -> (column, top row) it takes from
    for top, bottom, column in merges:
        for r in range(top + 1, bottom + 1):
            below.setdefault(r, []).append((column, top))
    tops = {(top, column) for top, _, column in merges}
    kept: dict[tuple[int, int], Any] = {}
    for n, row in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
        values = list(row)
        for column, top in below.get(n, ()):
            values.extend([None] * (column - len(values)))
            values[column - 1] = kept.get((top, column))
        if tops:
            for c, v in enumerate(values, start=1):
                if (n, c) in tops:
                    kept[(n, c)] = v
        yield n, [clean(v) for v in values]


# --- headers and rows ------------------------------------------------------------------


def _table(
    label: str,
    kind: TableKind,
    header_row: int,
    header: Sequence[str],
    rows: Iterable[tuple[int, Sequence[Any]]],
    problems: list[Problem],
) -> Table:
    """Map the header row to fields, then read the data rows below it."""
    index = header_index(kind)
    other = header_index("accounts" if kind == "units" else "units")
    table = Table(kind, label, {})
    positions: dict[str, int] = {}
    for pos, text in enumerate(header):
        if not text:
            continue
        col = index.get(norm(text))
        if col is None:
            problems.append(Problem(label, header_row, text, _unknown_column(kind, text, other)))
        elif col.field in table.headers:
            reason = f"与 '{table.headers[col.field]}' 是同一列，重复了"
            problems.append(Problem(label, header_row, text, reason))
        else:
            table.headers[col.field] = text
            positions[col.field] = pos
    for col in COLUMNS[kind]:
        if col.required and col.field not in table.headers:
            reason = f"缺少必填列 '{col.chinese}'（{col.english}）"
            problems.append(Problem(label, header_row, None, reason))
    known = set(range(len(header)))
    headerless = {pos for pos, text in enumerate(header) if not text}
    for number, raw in rows:
        cells = [clean(v) for v in raw]
        if not any(cells):
            continue
        problems.extend(_headerless_data(label, number, cells, headerless, known))
        values = {f: cells[p] if p < len(cells) else "" for f, p in positions.items()}
        table.rows.append((number, values))
    return table


def _headerless_data(
    label: str, number: int, cells: list[Any], headerless: set[int], known: set[int]
) -> Iterator[Problem]:
    """A row's data in columns without a header: said, never dropped silently."""
    from openpyxl.utils import get_column_letter

    for pos, text in enumerate(cells):
        if text and (pos in headerless or pos not in known):
            column = f"{get_column_letter(pos + 1)}列"
            yield Problem(label, number, column, "这一列没有表头，但有数据")


def _unknown_column(kind: TableKind, text: str, other: dict[str, Any]) -> str:
    """Name the column the person probably meant: a typo must not drop data silently."""
    key = norm(text)
    if key in other:
        return f"未知列：这是{TABLE_LABELS['units' if kind == 'accounts' else 'accounts']}的列"
    spellings = {norm(h): h for col in COLUMNS[kind] for h in col.headers}
    # a known header inside the unknown one ("平台类型" -> 平台) beats a fuzzy match
    inside = sorted((key.find(k), -len(k), k) for k in spellings if len(k) > 1 and k in key)
    close = [inside[0][2]] if inside else difflib.get_close_matches(key, spellings, 1, 0.5)
    if close:
        return f"未知列，是否应为 '{spellings[close[0]]}'？"
    allowed = "、".join(col.chinese for col in COLUMNS[kind])
    return f"未知列（可用列：{allowed}）"
