"""Import refuses rows that could never work (issue 33): a 网页 reader without ``item``, a
selector lexbor cannot parse (``ul li[[[``), a channel xuncha cannot send to (``ftp://x``), a
signer hash that is not one (``signer_sha256=zz``) — each named at its file, row and column,
instead of surfacing weeks later as a failed fetch or a held message. The list of problems
is capped ("另有 N 处错误"), and a workbook made to be wrong in every cell, inside the size
limits, is read within the memory docs/registry.md states.

Honest twins: the rows people write (selectors with attributes and pseudo-classes, keytool
fingerprints, apprise and robot addresses, ``@name``) pass.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.registry import RegistryError, read_registry
from monitor.registry.read import MAX_PROBLEMS
from tests.test_registry_hostile import cfg, row, sheet, workbook, xuncha  # noqa: F401

HEADER = "账号编号,平台,账号名称,主办单位,地址,读取方式,参数"
UNITS = "单位编码,单位名称,通知渠道\nu1,青溪县人民政府办公室,{channels}\n"
SHA = "9f" * 32


def csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def read(tmp: Path, accounts: str = "", channels: str = "@duty") -> list[str]:
    """The problems of a registry (units with ``channels``, and ``accounts`` rows), as
    ``file:row:column: reason`` with the directory left out; [] when it imports."""
    paths = [csv(tmp / "units.csv", UNITS.format(channels=channels))]
    if accounts:
        paths.append(csv(tmp / "accounts.csv", f"{HEADER}\n{accounts}"))
    try:
        read_registry(
            paths,
            known_rulesets={"national"},
            known_readers={"rss", "webpage", "wechat", "app"},
            known_channels={"duty"},
        )
    except RegistryError as e:
        return [str(p).replace(f"{tmp}/", "") for p in e.problems]
    return []


WEB = "a1,网站,青溪发布,u1,https://www.qx.gov.cn/xwzx/,网页,{options}"
APP = "a1,移动客户端,青溪政务,u1,https://app.qx.gov.cn/dl.apk,,{options}"


BAD = [
    (WEB.format(options=""), "参数: 读取方式为 网页 时，参数须有 item（一条内容的 CSS 选择器）"),
    (WEB.format(options="date=span"), "参数须有 item"),
    (WEB.format(options="item=ul li[[["), "参数 item 的选择器 'ul li[[[' 无法解析"),
    (WEB.format(options="item=li; date=span >"), "参数 date 的选择器 'span >' 无法解析"),
    (WEB.format(options="item=li; tz=Beijing"), "参数 tz='Beijing' 不是时区名"),
    (APP.format(options="signer_sha256=zz"), "参数 signer_sha256='zz' 不是签名证书的 SHA-256"),
    (APP.format(options=f"signer_sha256={SHA[:-2]}"), "不是签名证书的 SHA-256"),
    (APP.format(options="package=政务"), "参数 package='政务' 不是安卓包名"),
    (APP.format(options="download_url=ftp://x/a.apk"), "ftp://x/a.apk 不是 http(s) 网址"),
    (APP.format(options="ios_id=id123"), "参数 ios_id='id123' 应为数字"),
    (
        "a1,微信公众号,青溪发布,u1,https://mp.weixin.qq.com/s/x,,list_kind=page",
        "list_kind=page 时，参数须有 item",
    ),
    (
        "a1,微信公众号,青溪发布,u1,https://mp.weixin.qq.com/s/x,,list_url=ftp://x; articles=9",
        "参数 list_url='ftp://x' 不是 http(s) 网址",
    ),
]


@pytest.mark.parametrize(("line", "reason"), BAD, ids=[b[1][:24] for b in BAD])
def test_a_row_that_could_never_work_is_named(tmp_path: Path, line: str, reason: str) -> None:
    found = read(tmp_path, line)
    assert any(p.startswith("accounts.csv:2:参数: ") and reason in p for p in found), found


def test_rows_people_write_pass(tmp_path: Path) -> None:
    rows = [
        WEB.format(options='item=ul.news > li:nth-child(n+2); link=a[href*="id="]; date=.d'),
        "a2,网站,青溪动态,u1,https://www.qx.gov.cn/zwdt/,,item=li:has(a); pinned=.top",
        APP.format(options=f"signer_sha256={SHA}; package=cn.gov.qx.app; ios_id=123456")
        .replace("a1,", "a3,"),
        APP.format(options="signer_sha256=" + ":".join(["AB"] * 32) + "; tz=Asia/Shanghai")
        .replace("a1,", "a4,"),
        "a5,微信公众号,青溪发布,u1,https://mp.weixin.qq.com/s/x,,"
        "list_url=https://rsshub.example/wx; articles=2",
        "a6,微博,青溪发布,u1,https://m.weibo.cn/u/1,,",
    ]  # fmt: skip
    channels = (
        "@duty json://127.0.0.1:9/hook dingtalk://sec@token wecombot://key mailto://a:b@qx.gov.cn"
    )
    assert read(tmp_path, "\n".join(rows), channels=channels) == []


@pytest.mark.parametrize("address", ["ftp://x", "https://example.com/hook", "smb://h/share"])
def test_a_channel_nothing_can_send_to_is_named(tmp_path: Path, address: str) -> None:
    assert read(tmp_path, channels=f"@duty {address}") == [
        f"units.csv:2:通知渠道: 通知渠道 '{address}' 不是可发送的通知地址"
        "（apprise 不认识它；钉钉、企业微信、飞书机器人见 docs/config.md）"
    ]


def test_the_list_is_capped_and_says_how_many_more(tmp_path: Path) -> None:
    rows = "\n".join(WEB.format(options="item=ul li[[[").replace("a1", f"a{i}") for i in range(900))
    with pytest.raises(RegistryError) as exc:
        read_registry(
            [csv(tmp_path / "u.csv", UNITS.format(channels="")), csv(tmp_path / "a.csv",
             f"{HEADER}\n{rows}")],
            known_rulesets={"national"},
            known_readers={"rss", "webpage"},
        )  # fmt: skip
    e = exc.value
    assert len(e.problems) == MAX_PROBLEMS and e.total == 900
    assert e.lines()[-1] == "另有 700 处错误（先改正以上各处，再导入即可看到）"
    assert [p.row for p in e.problems] == list(range(2, 2 + MAX_PROBLEMS))  # the first rows


def test_a_workbook_wrong_in_every_cell_is_read_in_bounded_memory(
    cfg: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """40,000 rows × 14 columns of wrong values, each cell different (as a generator would
    make them, so they do not compress past the ratio limit): 520,000 problems. Before, every
    one was kept and printed (1.2 million lines for a sheet at the limits, 1.4 GB); now the
    first 200, the rest counted, the rows streamed."""
    rand = lambda: os.urandom(4).hex()  # noqa: E731
    header = ("账号编号", "平台", "账号名称", "主办单位", "平台账号ID", "地址", "读取方式", "类型",
              "更新规则", "状态", "代运营机构", "主账号", "巡查间隔（分钟）", "参数")  # fmt: skip
    bad = b"".join(
        row(f"a {i}", f"火星{rand()}", "", f"无此单位{rand()}", rand(), f"ftp://{rand()}",
            f"nope{rand()}", "奇怪", f"r{rand()}", "半死", rand(), "也许", "-5", f"item{rand()}")
        for i in range(40_000)
    )  # fmt: skip
    book = workbook(tmp_path / "wrong.xlsx", sheet(row(*header) + bad))
    code, _out, err, peak_mb = xuncha(cfg, "registry", "import", "--dry-run", str(book))
    assert code == 2 and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == MAX_PROBLEMS + 2, len(lines)
    assert lines[-2].startswith("另有 ") and "登记表有 " in lines[-1]
    total = int(lines[-1].split("登记表有 ")[1].split(" 处错误")[0])
    # every wrong cell counted: all but 平台账号ID and 代运营机构, whatever they hold
    assert total == 40_000 * 12
    assert peak_mb < 400, peak_mb  # docs/registry.md: at most about 500 MB at the limits
