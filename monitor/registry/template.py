"""A sample registry to start from: ``xuncha registry template registry.xlsx``.

The units and accounts sheets with every column's Chinese header (``columns.py``) and rows
of a fictional city, written as people fill the national template (微博, 订阅源, 发布类, 是)
and covering what each column takes: a unit tree, 值班手机, a feed, a page read with CSS
selectors, a site, a mobile client, an outsourced operator, an interval of its own. It
imports cleanly as written (``tests/test_cli.py``); its addresses are under the
reserved ``.example`` domain, so a patrol started on it fetches nothing real.

通知渠道 is left blank: a channel is a name defined in the config's ``[channels]`` (``@gy``)
or an apprise URL with a robot's secret, and neither can be made up.
"""

from __future__ import annotations

from pathlib import Path

from monitor.registry.columns import ACCOUNT_COLUMNS, UNIT_COLUMNS
from monitor.registry.roster import ROSTER_COLUMNS, SHEET
from monitor.registry.write import ACCOUNTS_SHEET, UNITS_SHEET, _write_csv, _write_xlsx

__all__ = ["SAMPLE_ACCOUNTS", "SAMPLE_UNITS", "write_template"]

# 单位编码, 单位名称, 主管单位, 级别, 地区, 通知渠道, 技术联系渠道, 值班手机, 负责人手机
SAMPLE_UNITS: list[list[str | int]] = [
    ["yl-gov", "云岭市人民政府办公室", "", "市", "云岭市", "", "", "13800000001", ""],
    ["yl-qx", "青溪县人民政府办公室", "yl-gov", "县", "云岭市青溪县", "", "",
     "13800000002、13800000003", "13900000002"],
    ["yl-ws", "云岭市卫生健康委员会", "yl-gov", "部门", "云岭市", "", "", "", ""],
]  # fmt: skip

_ALBUM = "item=ul.album__list li; date=.album__item-date; title=a; pinned=.top-tag"
_NEWS = "item=.news-list li; date=span.date; title=a"
_APP = "package=cn.example.yunling; ios_id=1234567890"

# 账号编号, 平台, 账号名称, 平台账号ID, 地址, 读取方式, 主办单位, 类型, 更新规则, 状态,
# 代运营机构, 主账号, 巡查间隔（分钟）, 参数
SAMPLE_ACCOUNTS: list[list[str | int]] = [
    ["yl-weibo", "微博", "云岭发布", "5001001",
     "https://rss.yunling.example/weibo/user/5001001", "订阅源", "yl-gov", "发布类",
     "national", "正常", "", "是", "", ""],
    ["qx-wechat", "微信公众号", "青溪县人民政府", "gh_qingxi",
     "https://www.qingxi.example/mp/album.html", "网页", "yl-qx", "发布类", "", "正常",
     "", "是", 180, _ALBUM],
    ["qx-site", "网站", "青溪县人民政府门户网站", "", "https://www.qingxi.example/xwdt/",
     "网页", "yl-qx", "发布类", "", "正常", "", "", "", _NEWS],
    ["ws-douyin", "抖音", "健康云岭", "5003003",
     "https://rss.yunling.example/douyin/user/5003003", "订阅源", "yl-ws", "发布类", "",
     "正常", "云岭融媒文化传播有限公司", "", "", ""],
    ["yl-app", "移动客户端", "云岭通", "", "https://app.yunling.example/download/yunling.apk",
     "", "yl-gov", "服务类", "", "正常", "", "", 1440, _APP],
]  # fmt: skip


# 单位编码, 姓名, 职务, 任职起始, 任职截止 (the 领导名册 sheet: posts are checked against it)
SAMPLE_ROSTER: list[list[str | int]] = [
    ["yl-qx", "王建国", "县长", "2021-06-01", "2025-12-31"],
    ["yl-qx", "王建国", "县委书记", "2026-01-05", ""],
    ["yl-qx", "李明远", "县长", "2026-01-20", ""],
]


def write_template(path: Path) -> list[Path]:
    """Write the sample as ``.xlsx`` (one workbook) or ``.csv`` (two files, as ``registry
    export`` writes them); return the files written."""
    if path.suffix.lower() == ".xlsx":
        _write_xlsx(
            path,
            [
                (UNITS_SHEET, UNIT_COLUMNS, [list(r) for r in SAMPLE_UNITS]),
                (ACCOUNTS_SHEET, ACCOUNT_COLUMNS, [list(r) for r in SAMPLE_ACCOUNTS]),
                (SHEET, ROSTER_COLUMNS, [list(r) for r in SAMPLE_ROSTER]),
            ],
        )
        return [path]
    out = [path.with_name(f"{path.stem}-units.csv"), path.with_name(f"{path.stem}-accounts.csv")]
    _write_csv(out[0], UNIT_COLUMNS, SAMPLE_UNITS)
    _write_csv(out[1], ACCOUNT_COLUMNS, SAMPLE_ACCOUNTS)
    return out
