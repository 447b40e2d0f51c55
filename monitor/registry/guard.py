"""Checking a workbook before openpyxl opens it: size, rows, cells, DTDs.

An XLSX is a zip of XML, and a file of a few hundred KB can unpack to gigabytes: a 191 KB
workbook with 3 million tiny rows took over a minute and 2.7 GB in openpyxl before it gave
up with a traceback. Here only the zip's directory is read and each XML part streamed
through expat, counting as it goes and stopping at the first limit, so refusing such a
file costs well under a second and a few MB. Nothing here trusts what the file says about
itself: ``<dimension>`` is written by the generator and often wrong, so rows, cells and
columns are counted. What openpyxl's read-only mode does not give (``read._load_xlsx``
streams the rows) is collected on the way: each sheet's vertically merged ranges.

Only the standard library: the patrol's processes import the registry package too, and
must not load openpyxl.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from posixpath import join, normpath
from typing import Any
from xml.parsers import expat

# A province's registry is tens of thousands of accounts; these limits are ten times
# that and more, yet keep an import under about 500 MB (bench/registry_limits.py).
MAX_SHEET_ROWS = 200_000  # rows of one sheet, counted (or numbered) in its XML
MAX_SHEET_CELLS = 3_000_000  # cells of one sheet, merged areas included: 200 000 × 15
MAX_UNPACKED_MB = 100  # all parts of the zip together, as they unpack
# Excel's sheets deflate 5 to 20 times; far more is a file made to unpack big
MAX_RATIO = 100
RATIO_FROM_MB = 5  # small files may compress as they like
MAX_PARTS = 10_000  # zip members; Excel writes a few dozen

_MB = 1024 * 1024
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# expat's names, namespace and tag: openpyxl reads rows and cells in this namespace only
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_WORKSHEET, _ROW, _CELL = (f"{_MAIN}}}{tag}" for tag in ("worksheet", "row", "c"))
_LETTERS = "$ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


#: a vertically merged range: first row, last row, column (1-based, as the sheet numbers them)
Merge = tuple[int, int, int]


class Refused(Exception):
    """The workbook must not be opened; ``sheet`` is the sheet's name when one is at fault."""

    def __init__(self, reason: str, sheet: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sheet = sheet


Handler = Callable[[str, dict[str, str]], None]


class _Done(Exception):
    """Stops a parse early: all that was needed has been seen."""


def check_workbook(path: Path) -> dict[str, list[Merge]]:
    """Raise ``Refused`` with a reason in the user's terms when ``path`` is unsafe to open;
    else each sheet's vertically merged ranges, by the sheet's name."""
    try:
        with zipfile.ZipFile(path) as zf:
            return _check_zip(zf)
    except Refused:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, OSError) as exc:
        raise _unreadable(exc) from None


def _check_zip(zf: zipfile.ZipFile) -> dict[str, list[Merge]]:
    merges: dict[str, list[Merge]] = {}
    _check_sizes(zf)
    names = _sheet_names(zf)
    # rows before the ratio: "超过 200000 行" says what is wrong in the person's
    # terms; reading stops at the limit, and the sizes are already bounded
    for info in zf.infolist():
        if _is_xml(zf, info):
            name = names.get(info.filename)
            found = _check_part(zf, info, name)
            if found:
                merges[name or info.filename] = found
    _check_ratio(zf)
    return merges


def _unreadable(exc: Exception) -> Refused:
    """Why a file that could not be unpacked is refused, in the person's terms."""
    if isinstance(exc, zipfile.BadZipFile):
        if "zip file" in str(exc):  # "File is not a zip file"
            return Refused("不是有效的 XLSX 工作簿（文件已损坏，或设置了打开密码）")
        return Refused(f"文件已损坏，无法解压（{exc}）")
    if isinstance(exc, (zlib.error, EOFError)):
        return Refused(f"文件已损坏，无法解压（{exc}）")
    if isinstance(exc, NotImplementedError):
        return Refused("工作簿使用了不支持的压缩方式，请在 Excel 中另存为 .xlsx")
    if isinstance(exc, RuntimeError):  # zipfile: "File ... is encrypted, password required"
        return Refused("工作簿设置了密码，请先取消密码再导入")
    assert isinstance(exc, OSError)
    return Refused(f"无法读取文件：{exc.strerror or exc}")


def _check_sizes(zf: zipfile.ZipFile) -> None:
    """What the zip's directory says: how many parts, how big they unpack."""
    infos = zf.infolist()
    if len(infos) > MAX_PARTS:
        raise Refused(f"工作簿内含 {len(infos)} 个部件（上限 {MAX_PARTS}），不像 Excel 保存的文件")
    # zipfile never unpacks a part past its stated size (it stops and reports a bad
    # CRC), so the stated sizes bound what openpyxl can be made to read
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_UNPACKED_MB * _MB:
        raise Refused(f"解压后 {_mb(unpacked)} MB（上限 {MAX_UNPACKED_MB} MB）")


def _check_ratio(zf: zipfile.ZipFile) -> None:
    """How far the parts unpack, against what they take in the file."""
    infos = zf.infolist()
    unpacked = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if unpacked > RATIO_FROM_MB * _MB and unpacked > MAX_RATIO * max(packed, 1):
        ratio = unpacked // max(packed, 1)
        raise Refused(
            f"解压后 {_mb(unpacked)} MB，是压缩时的 {ratio} 倍（上限 {MAX_RATIO} 倍），"
            "不像 Excel 保存的文件"
        )


def _sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Zip part -> sheet name as the person sees it on the tab; best effort, for messages."""
    rels = _relationships(zf, "xl/_rels/workbook.xml.rels", "xl")
    names: dict[str, str] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "sheet":
            rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
            if rid in rels and "name" in attrs:
                names[rels[rid]] = attrs["name"]

    if "xl/workbook.xml" in zf.namelist():
        _parse(zf, zf.getinfo("xl/workbook.xml"), lambda _parser: start)
    return names


def _relationships(zf: zipfile.ZipFile, part: str, base: str) -> dict[str, str]:
    targets: dict[str, str] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "Relationship" and "Id" in attrs and "Target" in attrs:
            target = attrs["Target"]
            full = target.lstrip("/") if target.startswith("/") else join(base, target)
            targets[attrs["Id"]] = normpath(full)

    if part in zf.namelist():
        _parse(zf, zf.getinfo(part), lambda _parser: start)
    return targets


def _is_xml(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """By its first bytes, not its name: a sheet may be stored under any name."""
    if info.is_dir():
        return False
    with zf.open(info) as stream:
        head = stream.read(64)
    for bom in _BOMS:
        head = head.removeprefix(bom)
    return head.replace(b"\x00", b"").lstrip().startswith(b"<")


class _Sheet:
    """A worksheet's counts as it is read: rows, cells and the used range (rows × the
    widest row's columns) up to the limits, and its vertical merges."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.rows = self.cells = self.column = self.width = 0
        self.merges: list[Merge] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:  # once per element: kept lean
        if name == _CELL:
            self._cell(attrs.get("r", ""))
        elif name == _ROW:
            self._row(attrs.get("r", ""))
        elif name.endswith("mergeCell"):  # openpyxl takes these in any namespace
            self._merge(attrs.get("ref", ""))

    def _cell(self, ref: str) -> None:
        self.cells += 1
        if self.cells > MAX_SHEET_CELLS:
            raise Refused(f"超过 {MAX_SHEET_CELLS} 个单元格（含合并单元格）", self.where)
        # a cell's own reference sets its row and column, whatever its <row> said
        digits = ref.lstrip(_LETTERS)
        if len(digits) > 5 and digits.isdigit() and int(digits) > MAX_SHEET_ROWS:
            raise Refused(f"超过 {MAX_SHEET_ROWS} 行", self.where)
        letters = ref[: len(ref) - len(digits)].lstrip("$")
        self.column = _column(letters) if letters.isalpha() else self.column + 1
        if self.column > self.width:
            self.width = self.column
            _used(self.rows, self.width, self.where)

    def _row(self, number: str) -> None:
        self.rows = max(self.rows + 1, int(number) if number.isdigit() else 0)
        self.column = 0
        if self.rows > MAX_SHEET_ROWS:
            raise Refused(f"超过 {MAX_SHEET_ROWS} 行", self.where)
        _used(self.rows, self.width, self.where)

    def _merge(self, ref: str) -> None:
        self.cells += _area(ref)
        if self.cells > MAX_SHEET_CELLS:
            raise Refused(f"超过 {MAX_SHEET_CELLS} 个单元格（含合并单元格）", self.where)
        if (span := _vertical(ref)) is not None:
            self.merges.append(span)


def _check_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: str | None) -> list[Merge]:
    """Every XML part: no DTD. A worksheet: counted up to the limits (``_Sheet``); its
    vertical merges returned."""
    counts = _Sheet(sheet or info.filename)

    def root(parser: expat.XMLParserType) -> Handler:
        def first(name: str, attrs: dict[str, str]) -> None:
            if name != _WORKSHEET:
                raise _Done  # not a sheet: its prolog (where a DTD would be) has been read
            parser.StartElementHandler = counts.start

        return first

    try:
        with contextlib.suppress(_Done):
            _parse(zf, info, root)
    except Refused as exc:
        exc.sheet = exc.sheet or sheet
        raise
    return counts.merges


def _used(rows: int, columns: int, where: str) -> None:
    """Every row of the used range is as wide as its widest: openpyxl fills it in."""
    if rows * columns > MAX_SHEET_CELLS:
        raise Refused(
            f"工作表占用 {rows} 行 × {columns} 列，超过 {MAX_SHEET_CELLS} 个单元格；"
            "请删去表格外远处的内容",
            where,
        )


def _vertical(ref: str) -> Merge | None:
    """A merged range one column wide and more than one row tall, as (top, bottom, col)."""
    ends = [_CELL_REF.fullmatch(p) for p in ref.split(":")]
    if len(ends) != 2 or not all(ends):
        return None
    (c1, r1), (c2, r2) = ((_column(m[1]), int(m[2])) for m in ends if m)
    if c1 != c2 or r1 == r2:
        return None
    return min(r1, r2), max(r1, r2), c1


def _area(ref: str) -> int:
    """How many cells a merged range like ``A1:C40`` covers (openpyxl makes each one)."""
    ends = [_CELL_REF.fullmatch(p) for p in ref.split(":")]
    if len(ends) != 2 or not all(ends):
        return 1
    (c1, r1), (c2, r2) = ((_column(m[1]), int(m[2])) for m in ends if m)
    return (abs(c2 - c1) + 1) * (abs(r2 - r1) + 1)


def _column(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _parse(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, handler: Callable[[expat.XMLParserType], Handler]
) -> None:
    """Stream one part through expat, refusing any DTD: Excel never writes one, and a DTD
    is what entity tricks (billion laughs, external entities) need."""
    parser = expat.ParserCreate(namespace_separator="}")

    def on_doctype(*_args: Any) -> None:
        raise Refused(f"含有 DTD 声明（<!DOCTYPE>，在 {info.filename}），Excel 不会写出这样的文件")

    parser.StartElementHandler = handler(parser)
    parser.StartDoctypeDeclHandler = on_doctype
    parser.EntityDeclHandler = on_doctype
    try:
        with zf.open(info) as stream:
            while chunk := stream.read(1 << 16):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise Refused(f"文件已损坏：{info.filename} 不是有效的 XML（{exc}）") from None


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _mb(size: int) -> int:
    return -(-size // _MB)  # rounded up: 100.2 MB is over 100
