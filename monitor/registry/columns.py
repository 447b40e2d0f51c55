"""The registry's columns and the words people write in them.

Spreadsheets come from the national filing system, from Excel templates filled in by
hand, and from our own export, so one column has several names (English, Chinese, the
model's field name) and one value several spellings (``微信公众号``, ``公众号``, ``wechat``).
Everything people may type is listed here, once, so reading, error messages and export
agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from probes.platforms.spec import PLATFORMS as DECLARED

TableKind = Literal["units", "accounts"]
K = TypeVar("K", str, bool)

TABLE_LABELS: dict[TableKind, str] = {"units": "单位表", "accounts": "账号表"}

# sheet names accepted in a workbook (compared after ``norm``)
SHEET_NAMES: dict[TableKind, tuple[str, ...]] = {
    "units": ("units", "单位"),
    "accounts": ("accounts", "账号"),
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column: the row field it fills and every header that names it."""

    field: str  # attribute of the row dataclass and of the model
    english: str
    chinese: str  # the header export writes
    aliases: tuple[str, ...] = ()
    required: bool = False  # the column must exist and no cell may be blank
    # the model's limit for free text (PostgreSQL enforces varchar lengths); columns
    # holding codes or unit references are checked against their allowed values instead
    max_len: int | None = None

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.english, self.chinese, *self.aliases)


UNIT_COLUMNS: tuple[Column, ...] = (
    Column("code", "code", "单位编码", required=True, max_len=64),
    Column("name", "name", "单位名称", required=True, max_len=200),
    Column("parent_code", "parent", "主管单位", ("parent_code", "上级单位")),
    Column("level", "level", "级别", max_len=32),
    Column("region", "region", "地区", max_len=64),
    Column("channels", "channels", "通知渠道"),
    # where problems with the unit's mobile clients go ([alerts].it_kinds); empty = 通知渠道
    Column("it_channels", "it_channels", "技术联系渠道", ("技术渠道", "IT渠道")),
    # mobiles @-mentioned in the unit's robot messages; the people must be in the group
    Column("duty_mobiles", "duty_mobiles", "值班手机", ("值班电话", "值班人手机", "mobiles")),
)

ACCOUNT_COLUMNS: tuple[Column, ...] = (
    Column("id", "id", "账号编号", required=True, max_len=64),
    Column("platform", "platform", "平台", required=True),
    Column("name", "name", "账号名称", required=True, max_len=200),
    Column("handle", "handle", "平台账号ID", max_len=200),
    Column("url", "url", "地址", max_len=2000),
    Column("reader", "reader", "读取方式"),
    Column("owner_code", "owner", "主办单位", ("owner_code",), required=True),
    Column("kind", "kind", "类型"),
    Column("ruleset", "ruleset", "更新规则", max_len=64),
    Column("status", "status", "状态"),
    Column("operator", "operator", "代运营机构", max_len=200),
    Column("is_lead", "lead", "主账号", ("is_lead",)),
    Column("interval_minutes", "interval", "巡查间隔（分钟）", ("interval_minutes", "巡查间隔")),
    Column("options", "options", "参数"),
)

COLUMNS: dict[TableKind, tuple[Column, ...]] = {"units": UNIT_COLUMNS, "accounts": ACCOUNT_COLUMNS}

_NOISE = re.compile(r"[\s_\-*]+")


def norm(text: str) -> str:
    """Fold what people vary without meaning to: width, case, spaces, ``_``, ``-``, ``*``.

    NFKC turns full-width ``（分钟）`` and ``ＡＰＰ`` into their ASCII forms; ``*`` is the
    "required" marker of many Chinese templates.
    """
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).casefold()


def header_index(kind: TableKind) -> dict[str, Column]:
    """Normalised header -> column, for one table."""
    return {norm(h): col for col in COLUMNS[kind] for h in col.headers}


# --- values ---------------------------------------------------------------------------


class _Spellings(Mapping[str, tuple[str, ...]]):
    """Each declared platform's spellings, its name first (``probes.platforms``), read live:
    a platform declared later is known at once."""

    def __getitem__(self, code: str) -> tuple[str, ...]:
        p = DECLARED[code]
        return (p.name, *p.aliases)

    def __iter__(self) -> Iterator[str]:
        return iter(DECLARED)

    def __len__(self) -> int:
        return len(DECLARED)


PLATFORMS: Mapping[str, tuple[str, ...]] = _Spellings()

KINDS: dict[str, tuple[str, ...]] = {
    "publish": ("发布类", "发布"),
    "service": ("服务类", "服务"),
}

STATUSES: dict[str, tuple[str, ...]] = {
    "active": ("正常", "在用"),
    "closed": ("关闭", "已关闭", "关停", "已关停", "注销", "已注销"),
}

READER_ALIASES: dict[str, tuple[str, ...]] = {
    "rss": ("订阅源", "RSS"),
    "webpage": ("网页",),
}

LEAD: dict[bool, tuple[str, ...]] = {
    True: ("是", "yes", "true", "1"),
    False: ("否", "no", "false", "0"),
}


def value_index(table: Mapping[K, tuple[str, ...]]) -> dict[str, K]:
    """Normalised spelling -> code; every string code also stands for itself."""
    out: dict[str, K] = {}
    for code, spellings in table.items():
        for s in (code, *spellings) if isinstance(code, str) else spellings:
            out[norm(s)] = code
    return out


def describe(table: Mapping[str, tuple[str, ...]]) -> str:
    """``weibo（微博）、wechat（微信）…`` for error messages."""
    return "、".join(
        f"{code}（{spellings[0]}）" if spellings else code for code, spellings in table.items()
    )


_MOBILE = re.compile(r"1[3-9]\d{9}")
_MOBILE_SEP = re.compile(r"[,，、;；/\n]")
# a duty roster is a handful of people; a robot message mentions every one of them
MAX_DUTY_MOBILES = 10


def _mobile(text: str) -> str | None:
    """The 11 digits of a mainland mobile written with spaces, dashes or +86; else None."""
    digits = re.sub(r"[\s\-()（）]", "", text)
    digits = re.sub(r"^\+?86(?=1\d{10}$)", "", digits)
    return digits if _MOBILE.fullmatch(digits) else None


def duty_mobiles(value: str) -> tuple[list[str], list[str]]:
    """(the mobiles, the items that are not one) in a 值班手机 cell, however people separate
    them: ``、 , ; /`` or new lines; "138 0013 8000" is one number grouped, "13800138000
    13900139000" two. Repeats are dropped."""
    numbers: list[str] = []
    bad: list[str] = []
    for piece in _MOBILE_SEP.split(value):
        if not piece.strip():
            continue
        for item in [piece] if _mobile(piece) else piece.split():
            digits = _mobile(item)
            if digits is None:
                bad.append(item.strip())
            elif digits not in numbers:
                numbers.append(digits)
    return numbers, bad
