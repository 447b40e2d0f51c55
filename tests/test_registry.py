"""Registry import/export: real files (CSV in UTF-8 and GBK, XLSX), real SQLite."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine, select

from monitor.registry import (
    AccountRow,
    ImportSummary,
    Registry,
    RegistryError,
    apply_registry,
    existing_units,
    export_registry,
    read_registry,
)
from monitor.store.models import Account, Unit

FIXTURES = Path(__file__).parent / "fixtures" / "registry"
UNITS = FIXTURES / "units-zh.csv"
ACCOUNTS = FIXTURES / "accounts-zh.csv"
RULESETS = {"national", "service", "guizhou_city"}
READERS = {"rss", "webpage", "weibo", "wechat", "douyin", "toutiao", "bilibili", "app"}

ACCOUNT_HEADER = (
    "账号编号,平台,账号名称,平台账号ID,地址,读取方式,主办单位,类型,更新规则,状态,"
    "代运营机构,主账号,巡查间隔（分钟）,参数"
)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = create_engine(f"sqlite:///{tmp_path / 'xuncha.db'}")
    # as in production (monitor.store.engine): foreign keys enforced, so insert order matters
    event.listen(eng, "connect", lambda conn, _rec: conn.execute("PRAGMA foreign_keys=ON"))
    SQLModel.metadata.create_all(eng)
    return eng


def read(paths: list[Path], **kw: Any) -> Registry:
    return read_registry(paths, known_rulesets=RULESETS, known_readers=READERS, **kw)


def import_files(engine: Engine, paths: list[Path], *, prune: bool = False) -> ImportSummary:
    """What ``xuncha registry import`` does: read, apply, commit -- or change nothing."""
    with Session(engine) as session:
        registry = read(paths, existing_unit_codes=existing_units(session))
        summary = apply_registry(session, registry, prune=prune)
        session.commit()
    return summary


def dump(engine: Engine) -> dict[str, dict[str, Any]]:
    with Session(engine) as s:
        rows = [*s.exec(select(Unit)), *s.exec(select(Account))]
        return {
            # when it was imported or closed, not what the registry says
            f"{type(r).__name__}:{r.code if isinstance(r, Unit) else r.id}": r.model_dump(
                exclude={"updated_at", "closed_at"}
            )
            for r in rows
        }


def errors(exc: pytest.ExceptionInfo[RegistryError], base: Path = FIXTURES) -> list[str]:
    """Problems as the person reads them, with the directories cut off."""
    return [str(p).replace(f"{base}/", "").replace(f"{FIXTURES}/", "") for p in exc.value.problems]


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def accounts_csv(tmp_path: Path, *rows: str, name: str = "accounts.csv") -> Path:
    return write_csv(tmp_path / name, "\n".join([ACCOUNT_HEADER, *rows]) + "\n")


# --- good files ------------------------------------------------------------------------


def test_chinese_csv_imports_everything(engine: Engine) -> None:
    summary = import_files(engine, [UNITS, ACCOUNTS])

    assert sorted(summary.units.added) == ["gz", "gz-edu", "gz-gy", "gz-gy-yy"]
    assert len(summary.accounts.added) == 6
    assert summary.added == 10
    with Session(engine) as s:
        gy = s.get(Unit, "gz-gy")
        assert gy is not None
        assert gy.parent_code == "gz"
        assert gy.channels == ["@gy-duty", "dingtalk://token123/secret456"]  # multi-line cell
        yy = s.get(Unit, "gz-gy-yy")
        assert yy is not None and yy.parent_code == "gz-gy"  # parent given by its name

        def acc(i: str) -> Account:
            a = s.get(Account, i)
            assert a is not None
            return a

        assert (acc("gz-wb").platform, acc("gz-wb").is_lead) == ("weibo", True)
        assert (acc("gz-wx").platform, acc("gz-wx").reader) == ("wechat", "rss")
        assert acc("gz-wx").interval_minutes == 120
        web = acc("gy-web")
        assert (web.platform, web.reader, web.ruleset) == ("website", "webpage", "guizhou_city")
        assert web.options == {"item": ".news li", "date": ".date", "link": "a"}
        assert acc("gy-dy").operator == "贵州某某文化传媒有限公司"
        app = acc("gy-app")
        assert (app.platform, app.kind, app.owner_code) == ("app", "service", "gz-gy")  # by name
        assert (acc("yy-tt").status, acc("yy-tt").kind) == ("closed", "publish")

    again = import_files(engine, [UNITS, ACCOUNTS])
    assert not again.changed
    assert len(again.units.unchanged) == 4 and len(again.accounts.unchanged) == 6
    assert again.describe() == "单位：新增 0，更新 0，未变 4；账号：新增 0，更新 0，未变 6"


def test_gbk_csv_reads_like_utf8() -> None:
    gbk = FIXTURES / "accounts-gbk.csv"
    assert b"\xb9\xf3\xd6\xdd" in gbk.read_bytes()  # 贵州 in GBK: the fixture really is GBK
    utf8 = read([UNITS, ACCOUNTS])
    from_gbk = read([FIXTURES / "units-gbk.csv", gbk])
    assert from_gbk.units == utf8.units
    assert from_gbk.accounts == utf8.accounts


def test_xlsx_with_english_headers(engine: Engine, tmp_path: Path) -> None:
    wb = Workbook()
    units = wb.active
    units.title = "Units"
    units.append([" Code ", "NAME", "Parent", "level", "region", "channels"])
    units.append(["gz", "贵州省人民政府办公厅", None, "省", "贵州省", "@gz-duty  @ops"])
    units.append(["520100", "贵阳市人民政府办公厅", "gz", "市", "贵州省贵阳市", None])
    accounts = wb.create_sheet("accounts")
    accounts.append(["id", "Platform", "name", "handle", "URL", "reader", "owner", "kind"])
    accounts["J1"] = "Interval"
    accounts["K1"] = "lead"
    accounts["L1"] = "options"
    accounts["M1"] = "status"
    accounts["N1"] = "ruleset"
    accounts["O1"] = "operator"
    accounts.append(["gz-wb", "Weibo", "贵州发布", 2418724427, None, None, "gz", "publish"])
    accounts.append(["gy-bili", "B站", "贵阳发布", "", "", "", 520100, "发布类"])
    accounts["J3"] = 60
    accounts["K3"] = True
    accounts["L3"] = "mid=12345"
    accounts["M3"] = "active"
    wb.create_sheet("说明")  # other sheets are ignored
    path = tmp_path / "registry.xlsx"
    wb.save(path)

    summary = import_files(engine, [path])

    assert summary.units.added == ["gz", "520100"]
    assert summary.accounts.added == ["gz-wb", "gy-bili"]
    with Session(engine) as s:
        gz = s.get(Unit, "gz")
        assert gz is not None and gz.channels == ["@gz-duty", "@ops"]
        wb_ = s.get(Account, "gz-wb")
        assert wb_ is not None and wb_.handle == "2418724427"  # a number cell, read as text
        bili = s.get(Account, "gy-bili")
        assert bili is not None
        assert (bili.platform, bili.owner_code, bili.interval_minutes) == ("bilibili", "520100", 60)
        assert (bili.is_lead, bili.options) == (True, {"mid": "12345"})


def test_xlsx_title_row_and_merged_owner_cells(tmp_path: Path) -> None:
    """As hand-made Chinese sheets look: a merged title row, 主办单位 merged down."""
    wb = Workbook()
    units = wb.active
    units.title = "单位"
    units.append(["code", "name"])
    units.append(["gz", "贵州省人民政府办公厅"])
    ws = wb.create_sheet("账号")
    ws.append(["贵州省政务新媒体备案表（2025 年第二季度）"])
    ws.merge_cells("A1:D1")
    ws.append(["账号编号", "平台", "账号名称", "主办单位"])
    ws.append(["gz-wb", "微博", "贵州发布", "gz"])
    ws.append(["gz-wx", "微信", "贵州发布", None])
    ws.append(["gz-dy", "抖音", "贵州发布", None])
    ws.merge_cells("D3:D5")
    path = tmp_path / "r.xlsx"
    wb.save(path)

    registry = read([path])

    assert [(a.id, a.owner_code) for a in registry.accounts] == [
        ("gz-wb", "gz"),
        ("gz-wx", "gz"),
        ("gz-dy", "gz"),
    ]
    assert [a.origin.row for a in registry.accounts if a.origin] == [3, 4, 5]


def test_header_matching_is_tolerant(tmp_path: Path) -> None:
    header = "*账号编号, 平台 ,账号名称,平台账号id,主办单位,巡查间隔 (分钟),Owner_Code"
    path = write_csv(tmp_path / "a.csv", f"{header}\ngz-wb,微博,贵州发布,1,gz,15,\n")
    with pytest.raises(RegistryError) as exc:
        read([UNITS, path])
    # 主办单位 and Owner_Code are the same column: named, not silently merged
    assert errors(exc, tmp_path) == ["a.csv:1:Owner_Code: 与 '主办单位' 是同一列，重复了"]

    path.write_text(f"{header.rsplit(',', 1)[0]}\ngz-wb,微博,贵州发布,1,gz,15\n")
    (account,) = read([UNITS, path]).accounts
    assert (account.id, account.handle, account.interval_minutes) == ("gz-wb", "1", 15)


# --- all-or-nothing, every problem named --------------------------------------------------


def test_three_bad_rows_import_nothing(engine: Engine) -> None:
    import_files(engine, [UNITS, ACCOUNTS])
    before = dump(engine)

    with pytest.raises(RegistryError) as exc:
        import_files(engine, [UNITS, FIXTURES / "accounts-bad.csv"], prune=True)

    assert [(p.file.rsplit("/", 1)[-1], p.row, p.column) for p in exc.value.problems] == [
        ("accounts-bad.csv", 3, "平台"),
        ("accounts-bad.csv", 5, "主办单位"),
        ("accounts-bad.csv", 6, "巡查间隔（分钟）"),
    ]
    assert errors(exc)[1] == "accounts-bad.csv:5:主办单位: 单位 'gz-999' 不存在"
    assert str(exc.value).splitlines() == exc.value.lines()
    assert "未知平台 '微视'" in errors(exc)[0]
    assert "'每天'" in errors(exc)[2]
    assert dump(engine) == before


def test_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    path = accounts_csv(
        tmp_path,
        "gz-wb,微博,贵州发布,,,,gz,,,,,,,",
        "gz-wx,微信,贵州发布,,,,gz,,,,,,,",
        "gz-wb,微博,贵州发布（备用）,,,,gz,,,,,,,",
    )
    with pytest.raises(RegistryError) as exc:
        read([UNITS, path])
    assert errors(exc, tmp_path) == [
        "accounts.csv:2:账号编号: 账号编号 'gz-wb' 重复（另见 accounts.csv:4）",
        "accounts.csv:4:账号编号: 账号编号 'gz-wb' 重复（另见 accounts.csv:2）",
    ]


def test_duplicate_unit_code_across_files(tmp_path: Path) -> None:
    extra = write_csv(tmp_path / "more-units.csv", "code,name\ngz,贵州省政府办公厅\n")
    with pytest.raises(RegistryError) as exc:
        read([UNITS, extra])
    assert errors(exc, tmp_path) == [
        "units-zh.csv:3:单位编码: 单位编码 'gz' 重复（另见 more-units.csv:2）",
        "more-units.csv:2:code: 单位编码 'gz' 重复（另见 units-zh.csv:3）",
    ]


def test_owner_must_exist_in_file_or_database(tmp_path: Path) -> None:
    path = accounts_csv(tmp_path, "bj-wb,微博,北京发布,,,,bj,,,,,,,")
    with pytest.raises(RegistryError) as exc:
        read([UNITS, path])
    assert errors(exc, tmp_path) == ["accounts.csv:2:主办单位: 单位 'bj' 不存在"]

    # a unit already in the database may be referred to by code, or by unique name
    (row,) = read([path], existing_unit_codes={"bj"}).accounts
    assert row.owner_code == "bj"
    path = accounts_csv(tmp_path, "bj-wb,微博,北京发布,,,,北京市人民政府办公厅,,,,,,,")
    (row,) = read([path], existing_unit_codes={"bj": "北京市人民政府办公厅"}).accounts
    assert row.owner_code == "bj"


def test_owner_name_must_be_unique(tmp_path: Path) -> None:
    units = write_csv(tmp_path / "u.csv", "单位编码,单位名称\na,教育局\nb,教育局\n")
    path = accounts_csv(tmp_path, "x,微博,教育发布,,,,教育局,,,,,,,")
    with pytest.raises(RegistryError) as exc:
        read([units, path])
    assert errors(exc, tmp_path) == [
        "accounts.csv:2:主办单位: 单位名称 '教育局' 对应多个单位（a、b），请填写单位编码"
    ]


def test_parent_cycle(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "units.csv",
        "单位编码,单位名称,主管单位\ntop,省政府办公厅,\na,甲,c\nb,乙,a\nc,丙,b\nself,自己,self\n",
    )
    with pytest.raises(RegistryError) as exc:
        read([path])
    assert errors(exc, tmp_path) == [
        "units.csv:3:主管单位: 主管单位形成循环：a → c → b → a",
        "units.csv:4:主管单位: 主管单位形成循环：a → c → b → a",
        "units.csv:5:主管单位: 主管单位形成循环：a → c → b → a",
        "units.csv:6:主管单位: 主管单位形成循环：self → self",
    ]


def test_parent_cycle_through_the_database(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, [UNITS])  # gz-gy-yy's parent is gz-gy in the database
    path = write_csv(tmp_path / "u.csv", "单位编码,单位名称,主管单位\ngz-gy,贵阳市,gz-gy-yy\n")
    before = dump(engine)
    with pytest.raises(RegistryError) as exc:
        import_files(engine, [path])
    assert errors(exc, tmp_path) == ["u.csv:2:主管单位: 主管单位形成循环：gz-gy → gz-gy-yy → gz-gy"]
    assert dump(engine) == before


def test_apply_checks_references_itself(engine: Engine) -> None:
    """A registry read without the database's units is checked again when applied."""
    registry = Registry(accounts=[AccountRow("x", "weibo", "某发布", "nowhere")], has_accounts=True)
    with Session(engine) as s, pytest.raises(RegistryError) as exc:
        apply_registry(s, registry)
    assert "单位 'nowhere' 不存在" in str(exc.value)


def test_unknown_column_is_named(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "a.csv",
        "账号编号,平台类型,账号名称,主办单位,备注,单位名称\nx,微博,发布,gz,,\n",
    )
    with pytest.raises(RegistryError) as exc:
        read([UNITS, path])
    assert errors(exc, tmp_path) == [
        "a.csv:1:平台类型: 未知列，是否应为 '平台'？",
        "a.csv:1:备注: 未知列（可用列：账号编号、平台、账号名称、平台账号ID、地址、读取方式、"
        "主办单位、类型、更新规则、状态、代运营机构、主账号、巡查间隔（分钟）、参数）",
        "a.csv:1:单位名称: 未知列：这是单位表的列",
        "a.csv:1: 缺少必填列 '平台'（platform）",
    ]


def test_data_under_no_header_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", "单位编码,单位名称,,\ngz,贵州,,备用\n")
    with pytest.raises(RegistryError) as exc:
        read([path])
    assert errors(exc, tmp_path) == ["u.csv:2:D列: 这一列没有表头，但有数据"]


BAD_CELLS = [
    ("平台", "微视", "未知平台 '微视'"),
    ("地址", "ftp://example.gov.cn/x", "地址 'ftp://example.gov.cn/x' 不是 http(s) 网址"),
    ("地址", "www.gov.cn", "不是 http(s) 网址"),
    ("读取方式", "api", "未知读取方式 'api'"),
    ("类型", "宣传类", "未知类型 '宣传类'，可填：publish（发布类）、service（服务类）"),
    (
        "更新规则",
        "hunan",
        "更新规则 'hunan' 未在配置中定义（已定义：guizhou_city、national、service）",
    ),
    ("状态", "停用", "未知状态 '停用'"),
    ("主账号", "对", "主账号应填 是 或 否，不是 '对'"),
    ("巡查间隔（分钟）", "0", "巡查间隔应为 1 到 525600 的整数"),
    ("巡查间隔（分钟）", "1.5", "巡查间隔应为 1 到 525600 的整数"),
    ("参数", "item .news li", "参数 'item .news li' 缺少 '='"),
    ("参数", "item=a; item=b", "参数 'item' 重复"),
    ("参数", "选择器=a", "参数名 '选择器' 不合法"),
    ("账号名称", "", "不能为空"),
    ("账号编号", "gz wb", "'gz wb' 中不能有空白字符"),
    ("账号名称", "长" * 201, "太长：201 个字符，最多 200 个"),
]


@pytest.mark.parametrize(("column", "value", "reason"), BAD_CELLS)
def test_bad_cell(tmp_path: Path, column: str, value: str, reason: str) -> None:
    good = dict.fromkeys(ACCOUNT_HEADER.split(","), "")
    good.update({"账号编号": "gz-wb", "平台": "微博", "账号名称": "贵州发布", "主办单位": "gz"})
    good["地址"] = "https://m.weibo.cn/u/2418724427"
    good[column] = value
    path = tmp_path / "accounts.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([list(good), list(good.values())])
    with pytest.raises(RegistryError) as exc:
        read([UNITS, path])
    (problem,) = exc.value.problems
    assert (problem.row, problem.column) == (2, column)
    assert reason in problem.reason


def test_reader_that_needs_an_address(tmp_path: Path) -> None:
    path = accounts_csv(tmp_path, "gz-wx,微信,贵州发布,,,订阅源,gz,,,,,,,")
    with pytest.raises(RegistryError) as exc:
        read([UNITS, path])
    assert errors(exc, tmp_path) == ["accounts.csv:2:地址: 读取方式为 rss 时必须填写地址"]


def test_channels(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "u.csv",
        "code,name,channels\n"
        'a,甲,"@duty\n  dingtalk://t/s  @duty"\n'
        "b,乙,@duty，@ops\n"
        "c,丙,https//oapi.dingtalk.com\n"
        "d,丁,@nobody\n",
    )
    with pytest.raises(RegistryError) as exc:
        read([path], known_channels={"duty", "ops"})
    assert errors(exc, tmp_path) == [
        "u.csv:3:channels: 通知渠道 '@duty，@ops' 既不是 apprise 网址（scheme://…）也不是 @名称"
        "；多个渠道请用空格或换行分隔",
        "u.csv:4:channels: 通知渠道 'https//oapi.dingtalk.com' 既不是 apprise 网址（scheme://…）"
        "也不是 @名称",
        "u.csv:5:channels: 通知渠道 '@nobody' 未在配置 [channels] 中定义",
    ]
    ok = write_csv(tmp_path / "ok.csv", 'code,name,channels\na,甲,"@duty\n dingtalk://t/s @duty"\n')
    assert read([ok]).units[0].channels == ["@duty", "dingtalk://t/s"]  # repeats dropped


def test_row_numbers_are_the_spreadsheets(tmp_path: Path) -> None:
    """A quoted multi-line cell is one row, blank rows still count, as in Excel."""
    units = write_csv(
        tmp_path / "u.csv",
        'code,name,channels\na,甲,"@x\n@y\n@z"\n,,\n\nb,乙,bad\n',
    )
    wb = Workbook()
    wb.active.title = "单位"
    wb.active.append(["code", "name"])
    wb.active["A5"], wb.active["B5"] = "c", ""  # rows 2-4 empty
    wb.create_sheet("账号").append(["账号编号", "平台", "账号名称", "主办单位"])
    wb["账号"].append(["x", "微博", "发布", "a"])
    xlsx = tmp_path / "r.xlsx"
    wb.save(xlsx)
    with pytest.raises(RegistryError) as exc:
        read([units, xlsx])
    assert errors(exc, tmp_path) == [
        "u.csv:5:channels: 通知渠道 'bad' 既不是 apprise 网址（scheme://…）也不是 @名称",
        "r.xlsx[单位]:5:name: 不能为空",
    ]


def test_file_problems_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    wb = Workbook()
    wb.active.title = "单位"
    wb.active.append(["code", "name"])
    wb.save(tmp_path / "one-sheet.xlsx")
    write_csv(tmp_path / "what.csv", "名称,备注\n甲,乙\n")
    write_csv(tmp_path / "empty.csv", "\n\n")
    write_csv(tmp_path / "binary.csv", "单位编码,单位名称\n", encoding="utf-16-le")
    write_csv(tmp_path / "no-owner.csv", "账号编号,平台,账号名称\nx,微博,发布\n")
    names = [
        "missing.csv",
        "notes.txt",
        "old.xls",
        "broken.xlsx",
        "one-sheet.xlsx",
        "what.csv",
        "empty.csv",
        "binary.csv",
        "no-owner.csv",
    ]
    with pytest.raises(RegistryError) as exc:
        read([tmp_path / n for n in names])
    assert errors(exc, tmp_path) == [
        "missing.csv: 文件不存在",
        "notes.txt: 不支持的文件类型 '.txt'，应为 .csv 或 .xlsx",
        "old.xls: 不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 .csv",
        "broken.xlsx: 不是有效的 XLSX 工作簿（文件已损坏，或设置了打开密码）",
        "one-sheet.xlsx: 缺少账号表工作表（名为 'accounts' 或 '账号'；现有：单位）",
        "what.csv:1: 无法从表头判断是单位表还是账号表（应有 单位编码 或 账号编号 等列）",
        "empty.csv: 文件是空的",
        "binary.csv: 无法识别文件编码，应为 UTF-8 或 GBK 的 CSV",
        "no-owner.csv:1: 缺少必填列 '主办单位'（owner）",
    ]


# --- apply, prune, export ------------------------------------------------------------------


def test_update_reports_changed_fields(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, [UNITS, ACCOUNTS])
    text = ACCOUNTS.read_text("utf-8-sig").replace("gz,发布类,,正常,,是,,", "gz,发布类,,关闭,,,,")
    changed = write_csv(tmp_path / "accounts.csv", text)
    summary = import_files(engine, [UNITS, changed])
    assert summary.accounts.updated == {"gz-wb": ["status", "is_lead"]}
    assert len(summary.accounts.unchanged) == 5 and not summary.units.updated


def test_prune_closes_missing_accounts(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, [UNITS, ACCOUNTS])
    started = datetime.now(UTC)
    lines = ACCOUNTS.read_text("utf-8-sig").splitlines()
    fewer = write_csv(
        tmp_path / "accounts.csv",
        "\n".join(ln for ln in lines if not ln.startswith(("gz-wx,", "yy-tt,"))) + "\n",
    )

    listed = import_files(engine, [UNITS, fewer])
    assert (listed.missing, listed.closed) == (["gz-wx", "yy-tt"], [])
    with Session(engine) as s:
        assert s.get(Account, "gz-wx").status == "active"  # type: ignore[union-attr]

    pruned = import_files(engine, [UNITS, fewer], prune=True)
    assert pruned.missing == ["gz-wx", "yy-tt"]
    assert pruned.closed == ["gz-wx"]  # yy-tt was closed already
    assert "登记表中没有的账号 2 个（已关闭 1 个）" in str(pruned)
    with Session(engine) as s:
        closed = s.get(Account, "gz-wx")
        assert closed is not None and closed.status == "closed"  # kept, not deleted

    # the day it was closed is kept (a past quarter's report judges it as it was then);
    # one closed already keeps its date; reopened, it has none
    with Session(engine) as s:
        gz_wx, yy_tt = s.get(Account, "gz-wx"), s.get(Account, "yy-tt")
        assert gz_wx is not None and yy_tt is not None
        assert gz_wx.closed_at is not None and gz_wx.closed_at > started
        assert yy_tt.closed_at is not None and yy_tt.closed_at < gz_wx.closed_at
    import_files(engine, [UNITS, ACCOUNTS])  # gz-wx listed again, active
    with Session(engine) as s:
        assert s.get(Account, "gz-wx").closed_at is None  # type: ignore[union-attr]

    # a units-only import says nothing about accounts
    units_only = import_files(engine, [UNITS], prune=True)
    assert (units_only.missing, units_only.closed) == ([], [])


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_changes_nothing(engine: Engine, tmp_path: Path, suffix: str) -> None:
    import_files(engine, [UNITS, ACCOUNTS])
    with Session(engine) as s:
        gz = s.get(Unit, "gz")
        assert gz is not None
        gz.channels = ["@gz-duty", "mailto://a@example.gov.cn?to=b@example.gov.cn,c@example.gov.cn"]
        wb = s.get(Account, "gz-wb")
        assert wb is not None
        wb.handle, wb.name = "=1+1", "001"  # must stay text, not a formula or a number
        s.commit()
    before = dump(engine)

    with Session(engine) as s:
        paths = export_registry(s, tmp_path / f"registry{suffix}")

    if suffix == ".csv":
        assert [p.name for p in paths] == ["registry-units.csv", "registry-accounts.csv"]
        assert all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in paths)
        header = paths[1].read_text("utf-8-sig").splitlines()[0]
        assert header == ACCOUNT_HEADER
    else:
        assert paths == [tmp_path / "registry.xlsx"]
        book = load_workbook(paths[0])
        assert book.sheetnames == ["单位", "账号"]
        assert book["账号"]["B2"].value in {"weibo", "wechat"}  # codes, not Chinese labels

    summary = import_files(engine, paths)
    assert not summary.changed
    assert (len(summary.units.unchanged), len(summary.accounts.unchanged)) == (4, 6)
    assert summary.missing == []
    assert dump(engine) == before


def test_export_into_an_empty_database_reproduces_it(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, [UNITS, ACCOUNTS])
    with Session(engine) as s:
        paths = export_registry(s, tmp_path / "r.xlsx")
    other = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    SQLModel.metadata.create_all(other)
    import_files(other, paths)
    assert dump(other) == dump(engine)


def test_export_rejects_other_formats(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as s, pytest.raises(RegistryError, match=r"不支持导出为 '\.json'"):
        export_registry(s, tmp_path / "r.json")


def test_duty_mobiles_as_people_write_them(engine: Engine, tmp_path: Path) -> None:
    """值班手机: separated by 、 , ; or new lines, grouped with spaces or dashes, +86 dropped;
    a number that is not a mobile is named; the export reads back the same."""
    path = write_csv(
        tmp_path / "u.csv",
        "单位编码,单位名称,值班手机\n"
        'a,甲,"138 0013 8000、+86 139-0013-9000\n13800138000"\n'
        "b,乙,13700137000 13600136000\n"
        "c,丙,0851-1234567；1380013\n",
    )
    with pytest.raises(RegistryError) as exc:
        read([path])
    assert errors(exc, tmp_path) == [
        "u.csv:4:值班手机: 值班手机 '0851-1234567' 不是 11 位手机号",
        "u.csv:4:值班手机: 值班手机 '1380013' 不是 11 位手机号",
    ]
    ok = write_csv(tmp_path / "ok.csv", "\n".join(path.read_text().splitlines()[:4]) + "\n")
    import_files(engine, [ok])
    with Session(engine) as s:
        mobiles = {u.code: u.duty_mobiles for u in s.exec(select(Unit))}
    assert mobiles == {"a": ["13800138000", "13900139000"], "b": ["13700137000", "13600136000"]}
    with Session(engine) as s:
        out = export_registry(s, tmp_path / "out.xlsx")[0]
    sheet = load_workbook(out)["单位"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index("值班手机") + 1).value == "13800138000、13900139000"
    before = dump(engine)
    import_files(engine, [out])
    assert dump(engine) == before


def test_leader_mobiles_read_checked_and_exported(engine: Engine, tmp_path: Path) -> None:
    """负责人手机 (texted by an escalation ladder's leader_sms step): read like 值班手机, a
    wrong number named under its own column, and exported back the same."""
    bad = write_csv(tmp_path / "bad.csv", "单位编码,单位名称,负责人手机\na,甲,0851-1234567\n")
    with pytest.raises(RegistryError) as exc:
        read([bad])
    assert errors(exc, tmp_path) == [
        "bad.csv:2:负责人手机: 负责人手机 '0851-1234567' 不是 11 位手机号"
    ]
    path = write_csv(
        tmp_path / "u.csv",
        "单位编码,单位名称,值班手机,负责人手机\na,甲,13800138000,139 0013 9000\n",
    )
    import_files(engine, [path])
    with Session(engine) as s:
        unit = s.get(Unit, "a")
        assert unit is not None and unit.leader_mobiles == ["13900139000"]
        assert unit.duty_mobiles == ["13800138000"]
        out = export_registry(s, tmp_path / "out.xlsx")[0]
    sheet = load_workbook(out)["单位"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index("负责人手机") + 1).value == "13900139000"
    before = dump(engine)
    import_files(engine, [out])
    assert dump(engine) == before
