"""Registry workbooks made to hurt: zip bombs, entity tricks, broken zips and sheets.

Each is built here byte by byte with zipfile (openpyxl would not write them), and each
must be refused with a line the person can act on, before openpyxl loads it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from monitor.registry import RegistryError, read_registry
from monitor.registry.guard import MAX_SHEET_CELLS, MAX_SHEET_ROWS, MAX_UNPACKED_MB

FIXTURES = Path(__file__).parent / "fixtures" / "registry"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
ACCOUNT_HEADER = ("账号编号", "平台", "账号名称", "主办单位")


def row(*values: str) -> bytes:
    cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)
    return f"<row>{cells}</row>".encode()


def sheet(rows: bytes, *, prolog: str = "", after: str = "") -> bytes:
    # the stated dimension is small whatever the rows: generators get it wrong, and so
    # does whoever builds a bomb
    return (
        (
            f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{MAIN}">'
            f'<dimension ref="A1:D3"/><sheetData>'
        ).encode()
        + rows
        + f"</sheetData>{after}</worksheet>".encode()
    )


def workbook(
    path: Path,
    accounts: bytes | None = None,
    units: bytes | None = None,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """A two-sheet XLSX (单位, 账号) written part by part, deflated."""
    units = units or sheet(row("单位编码", "单位名称") + row("u1", "青溪县人民政府办公室"))
    accounts = accounts or sheet(row(*ACCOUNT_HEADER) + row("a1", "微博", "青溪发布", "u1"))
    sheet_type = f"{CT}.worksheet+xml"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
            'formats-package.relationships+xml"/><Default Extension="xml" ContentType='
            f'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="{CT}'
            '.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
            f'"{sheet_type}"/><Override PartName="/xl/worksheets/sheet2.xml" '
            f'ContentType="{sheet_type}"/></Types>'
        ).encode(),
        "_rels/.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            '<sheet name="单位" sheetId="1" r:id="rId1"/>'
            '<sheet name="账号" sheetId="2" r:id="rId2"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}/worksheet" Target="worksheets/sheet2.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/worksheets/sheet1.xml": units,
        "xl/worksheets/sheet2.xml": accounts,
        **(extra or {}),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def problems(*paths: Path) -> list[str]:
    with pytest.raises(RegistryError) as exc:
        read_registry(list(paths), known_rulesets={"national"}, known_readers={"rss"})
    return [str(p).replace(f"{p.file.rsplit('/', 1)[0]}/", "") for p in exc.value.problems]


# --- through the CLI, as the issue met it ------------------------------------------------


# the CLI runs under a small launcher that reports its child's peak memory: measured
# from pytest itself, a child forked from it would count pytest's own pages, and
# RUSAGE_CHILDREN there is the largest child of the whole session (a browser, say)
LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(str(peak))\n"
    "sys.exit(code)\n"
)


def xuncha(cfg: Path, *args: str) -> tuple[int, str, str, int]:
    """Run the CLI; exit code, stdout, stderr and its peak memory in MB."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
    peak = cfg.parent / "peak.txt"
    cli = [sys.executable, "-m", "monitor", "--config", str(cfg), *args]
    r = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(peak), *cli],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return r.returncode, r.stdout, r.stderr, int(peak.read_text()) // 1024  # KB on Linux


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    c = tmp_path / "xuncha.toml"
    c.write_text(
        f'data_dir = "{tmp_path}"\n[logging]\nlevel = "warning"\n'
        '[channels]\ngz-duty = "json://127.0.0.1:9/x"\ngy-duty = "json://127.0.0.1:9/y"\n',
        encoding="utf-8",
    )
    assert xuncha(c, "init")[0] == 0
    return c


def test_three_million_rows_under_a_megabyte_are_refused_unread(cfg: Path, tmp_path: Path) -> None:
    code, _, err, _ = xuncha(
        cfg, "registry", "import", str(FIXTURES / "units-zh.csv"), str(FIXTURES / "accounts-zh.csv")
    )
    assert code == 0, err
    before = xuncha(cfg, "accounts", "--json")[1]
    assert json.loads(before)

    tiny = b"<row><c><v>1</v></c></row>"
    bomb = workbook(tmp_path / "bomb.xlsx", sheet(row(*ACCOUNT_HEADER) + tiny * 3_000_000))
    assert bomb.stat().st_size < 1024 * 1024
    with zipfile.ZipFile(bomb) as zf:
        assert zf.getinfo("xl/worksheets/sheet2.xml").file_size > 70 * 1024 * 1024

    for args in (["import"], ["import", "--dry-run"]):
        code, _out, err, peak_mb = xuncha(cfg, "registry", *args, str(bomb))
        assert code == 2, err
        assert "Traceback" not in err
        lines = err.replace(f"{tmp_path}/", "").splitlines()
        assert lines[0] == f"bomb.xlsx[账号]: 超过 {MAX_SHEET_ROWS} 行"
        assert "登记表有 1 处错误，未导入任何内容。" in err
        # openpyxl took 2.7 GB for this file; the CLI alone takes about 115 MB
        assert peak_mb < 200, peak_mb
    assert xuncha(cfg, "accounts", "--json")[1] == before


# --- sizes ---------------------------------------------------------------------------------


def test_rows_are_counted_not_taken_from_the_dimension(tmp_path: Path) -> None:
    at_limit = sheet(row(*ACCOUNT_HEADER) + b"<row/>" * (MAX_SHEET_ROWS - 1))
    over = sheet(row(*ACCOUNT_HEADER) + b"<row/>" * MAX_SHEET_ROWS)
    numbered = sheet(row(*ACCOUNT_HEADER) + f'<row r="{MAX_SHEET_ROWS + 1}"/>'.encode())
    cell_ref = sheet(row(*ACCOUNT_HEADER) + f'<row><c r="B{10**6}"><v>1</v></c></row>'.encode())
    files = {
        name: workbook(tmp_path / f"{name}.xlsx", data)
        for name, data in [("over", over), ("numbered", numbered), ("cell", cell_ref)]
    }
    assert problems(*files.values()) == [
        f"{name}.xlsx[账号]: 超过 {MAX_SHEET_ROWS} 行" for name in files
    ]
    from monitor.registry.guard import check_workbook

    check_workbook(workbook(tmp_path / "at-limit.xlsx", at_limit))  # not refused


def test_cells_and_merged_areas_are_counted(tmp_path: Path) -> None:
    # openpyxl makes one object per merged cell: this range alone is 17 billion
    merge = '<mergeCells count="1"><mergeCell ref="A2:XFD1048576"/></mergeCells>'
    merged = sheet(row(*ACCOUNT_HEADER), after=merge)
    wide = sheet(b"<row>" + b"<c/>" * (MAX_SHEET_CELLS + 1) + b"</row>")
    # one far cell makes openpyxl read every cell between: 16384 columns × 1000 rows
    far = sheet(row(*ACCOUNT_HEADER) + b'<row r="1000"><c r="XFD1000"><v>1</v></c></row>')
    assert problems(
        workbook(tmp_path / "merged.xlsx", merged),
        workbook(tmp_path / "wide.xlsx", wide),
        workbook(tmp_path / "far.xlsx", far),
    ) == [
        f"merged.xlsx[账号]: 超过 {MAX_SHEET_CELLS} 个单元格（含合并单元格）",
        f"wide.xlsx[账号]: 超过 {MAX_SHEET_CELLS} 个单元格（含合并单元格）",
        f"far.xlsx[账号]: 工作表占用 1000 行 × 16384 列，超过 {MAX_SHEET_CELLS} 个单元格；"
        "请删去表格外远处的内容",
    ]


def test_unpacked_size_and_ratio(tmp_path: Path) -> None:
    big = workbook(tmp_path / "big.xlsx")
    with zipfile.ZipFile(big, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("xl/media/a.bin", "w") as f:
        for _ in range(MAX_UNPACKED_MB + 1):
            f.write(bytes(1024 * 1024))
    spaces = b'<?xml version="1.0"?><Properties>' + b" " * (6 * 1024 * 1024) + b"</Properties>"
    dense = workbook(tmp_path / "dense.xlsx", extra={"docProps/custom.xml": spaces})
    found = problems(big, dense)
    assert found[0] == f"big.xlsx: 解压后 {MAX_UNPACKED_MB + 2} MB（上限 {MAX_UNPACKED_MB} MB）"
    assert re.fullmatch(
        r"dense\.xlsx: 解压后 7 MB，是压缩时的 \d+ 倍（上限 100 倍），不像 Excel 保存的文件",
        found[1],
    ), found[1]


# --- XML tricks ----------------------------------------------------------------------------

LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + "]>"
)


@pytest.mark.parametrize(
    ("prolog", "text"),
    [
        ('<!DOCTYPE x [<!ENTITY a "expanded">]>', "&a;"),  # openpyxl would expand this one
        ('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
        (LAUGHS, "&lol9;"),
    ],
    ids=["internal", "external", "billion-laughs"],
)
def test_entities_are_refused_before_openpyxl(tmp_path: Path, prolog: str, text: str) -> None:
    units = sheet(row("单位编码", "单位名称") + row("u1", text), prolog=prolog)
    path = workbook(tmp_path / "dtd.xlsx", units=units)
    assert problems(path) == [
        "dtd.xlsx[单位]: 含有 DTD 声明（<!DOCTYPE>，在 xl/worksheets/sheet1.xml），"
        "Excel 不会写出这样的文件"
    ]


# --- broken files --------------------------------------------------------------------------


def test_broken_zips_and_sheets_are_named_not_raised(tmp_path: Path) -> None:
    good = workbook(tmp_path / "good.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(good[: len(good) // 2])
    data = bytearray(good)
    with zipfile.ZipFile(tmp_path / "good.xlsx") as zf:
        info = zf.getinfo("xl/worksheets/sheet2.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + 4
    data[start : start + 16] = bytes(16)  # the deflated sheet, overwritten
    (tmp_path / "crc.xlsx").write_bytes(bytes(data))
    workbook(tmp_path / "badxml.xlsx", sheet(row(*ACCOUNT_HEADER))[:-20])
    workbook(tmp_path / "nons.xlsx", b"<worksheet><sheetData><row>")  # left to openpyxl
    # well-formed XML that openpyxl rejects: a number cell that holds no number
    workbook(tmp_path / "nan.xlsx", sheet(row(*ACCOUNT_HEADER) + b"<row><c><v>x</v></c></row>"))
    with zipfile.ZipFile(tmp_path / "nobook.xlsx", "w") as zf:
        zf.writestr("hello.txt", "hi")
    names = ("cut", "crc", "badxml", "nons", "nan", "nobook")
    found = problems(*(tmp_path / f"{n}.xlsx" for n in names))
    expected = [
        "cut.xlsx: 不是有效的 XLSX 工作簿（文件已损坏，或设置了打开密码）",
        "crc.xlsx: 文件已损坏，无法解压（",
        "badxml.xlsx[账号]: 文件已损坏：xl/worksheets/sheet2.xml 不是有效的 XML（unclosed token",
        "nons.xlsx: 无法读取 XLSX 工作簿：文件已损坏，内部的 XML 有误（",
        # (rows are streamed: the sheet that holds the bad cell is named)
        "nan.xlsx[账号]: 无法读取工作表：内容不符合 XLSX 格式，请在 Excel 中打开后另存为 .xlsx",
        "nobook.xlsx: 无法读取 XLSX 工作簿：缺少工作簿必需的部分，文件已损坏或不是 Excel 保存的",
    ]
    assert len(found) == len(expected), found
    for line, start in zip(found, expected, strict=True):
        assert line.startswith(start), (start, found)
