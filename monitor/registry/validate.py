"""From text cells to validated unit and account rows, or every reason why not.

Checks that need the whole registry (duplicates, references, parent cycles) run after
every row is read, so a person fixing the sheet sees all problems in one pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from monitor.registry.columns import (
    ACCOUNT_COLUMNS,
    KINDS,
    LEAD,
    MAX_DUTY_MOBILES,
    PLATFORMS,
    READER_ALIASES,
    STATUSES,
    UNIT_COLUMNS,
    Column,
    describe,
    duty_mobiles,
    norm,
    value_index,
)
from monitor.registry.options import channel_problem, is_http_url, option_problems
from monitor.registry.read import Problem, RegistryError, Table, load_tables

MAX_INTERVAL_MINUTES = 525_600  # a year: more is a typo, and must fit an SQL integer

_KIND = value_index(KINDS)
_STATUS = value_index(STATUSES)
_READER = value_index(READER_ALIASES)
_LEAD = value_index(LEAD)

_SCHEME_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")
_CHANNEL_REF = re.compile(r"@[\w.\-]+")
_OPTION_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_OPTION_SEPARATORS = re.compile(r"[;；\n]")


@dataclass(slots=True)
class Origin:
    """Where a row came from, so later stages (apply) can still name file, row, column."""

    file: str
    row: int
    headers: Mapping[str, str]  # field -> header as written in that file

    def problem(self, field: str, reason: str) -> Problem:
        return Problem(self.file, self.row, self.headers.get(field), reason)

    def __str__(self) -> str:
        return f"{self.file}:{self.row}"


@dataclass(slots=True)
class UnitRow:
    """A validated row of the units table; fields are named as on ``models.Unit``."""

    code: str
    name: str
    parent_code: str | None = None
    level: str = ""
    region: str = ""
    channels: list[str] = field(default_factory=list)
    it_channels: list[str] = field(default_factory=list)
    duty_mobiles: list[str] = field(default_factory=list)
    leader_mobiles: list[str] = field(default_factory=list)
    origin: Origin | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class AccountRow:
    """A validated row of the accounts table; fields are named as on ``models.Account``."""

    id: str
    platform: str
    name: str
    owner_code: str
    handle: str = ""
    url: str = ""
    reader: str = ""
    kind: str = "publish"
    ruleset: str = ""
    status: str = "active"
    operator: str = ""
    is_lead: bool = False
    interval_minutes: int | None = None
    options: dict[str, str] = field(default_factory=dict)
    origin: Origin | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class Registry:
    """What a registry file set says, validated. Units are ordered parents first."""

    units: list[UnitRow] = field(default_factory=list)
    accounts: list[AccountRow] = field(default_factory=list)
    # whether the files held an accounts table at all: a units-only import must not
    # make every account in the database look "missing from the file"
    has_accounts: bool = False


def read_registry(
    paths: Sequence[Path],
    *,
    known_rulesets: Collection[str],
    known_readers: Collection[str],
    existing_unit_codes: Collection[str] | Mapping[str, str] = (),
    known_channels: Collection[str] | None = None,
) -> Registry:
    """Read and validate registry files; raise ``RegistryError`` listing every problem.

    ``existing_unit_codes`` are units already in the database that rows may refer to;
    pass a ``{code: name}`` mapping (``existing_units(session)``) to also let them be
    referred to by name. ``known_channels`` (the config's channel names), when given,
    makes an ``@name`` that is not defined an error.
    """
    tables, problems = load_tables(paths)
    checker = _Checker(known_rulesets, known_readers, known_channels, problems)
    units = [checker.unit(t, n, cells) for t in tables if t.kind == "units" for n, cells in t.rows]
    accounts = [
        checker.account(t, n, cells) for t in tables if t.kind == "accounts" for n, cells in t.rows
    ]

    by_code = _unique(units, lambda u: u.code, "单位编码", "code", problems)
    _unique(accounts, lambda a: a.id, "账号编号", "id", problems)

    names = dict(existing_unit_codes) if isinstance(existing_unit_codes, Mapping) else {}
    names.update({u.code: u.name for u in by_code.values()})
    resolve = _resolver(set(existing_unit_codes) | set(by_code), names)
    for u in units:
        if u.parent_code:
            u.parent_code = checker.reference(u, "parent_code", u.parent_code, resolve)
    for a in accounts:
        if a.owner_code:
            a.owner_code = checker.reference(a, "owner_code", a.owner_code, resolve) or ""
    problems.extend(parent_cycles(by_code))

    if problems:
        raise RegistryError(_in_file_order(problems, paths, tables), more=problems.more)
    return Registry(
        units=parents_first(list(by_code.values())),
        accounts=accounts,
        has_accounts=any(t.kind == "accounts" for t in tables),
    )


class _Checker:
    """Per-cell conversions; each appends its problems and returns a usable value."""

    def __init__(
        self,
        known_rulesets: Collection[str],
        known_readers: Collection[str],
        known_channels: Collection[str] | None,
        problems: list[Problem],
    ) -> None:
        self.rulesets = set(known_rulesets)
        self.readers = set(known_readers)
        self.channels = None if known_channels is None else set(known_channels)
        self.problems = problems
        self.platforms = value_index(PLATFORMS)  # the declarations as they are now

    # --- rows ---

    def unit(self, table: Table, number: int, cells: Mapping[str, str]) -> UnitRow:
        o = Origin(table.label, number, table.headers)
        text = self._texts(o, cells, UNIT_COLUMNS)
        self._no_space(o, "code", text["code"])
        return UnitRow(
            code=text["code"],
            name=text["name"],
            parent_code=text["parent_code"] or None,
            level=text["level"],
            region=text["region"],
            channels=self._channels(o, text["channels"]),
            it_channels=self._channels(o, text["it_channels"], "it_channels"),
            duty_mobiles=self._mobiles(o, text["duty_mobiles"]),
            leader_mobiles=self._mobiles(o, text["leader_mobiles"], "leader_mobiles"),
            origin=o,
        )

    def account(self, table: Table, number: int, cells: Mapping[str, str]) -> AccountRow:
        o = Origin(table.label, number, table.headers)
        text = self._texts(o, cells, ACCOUNT_COLUMNS)
        self._no_space(o, "id", text["id"])
        row = AccountRow(
            id=text["id"],
            platform=self._choice(
                o, "platform", text["platform"], self.platforms, "平台", PLATFORMS
            ),
            name=text["name"],
            owner_code=text["owner_code"],
            handle=text["handle"],
            url=self._url(o, text["url"]),
            reader=self._reader(o, text["reader"]),
            kind=self._choice(o, "kind", text["kind"], _KIND, "类型", KINDS) or "publish",
            ruleset=self._ruleset(o, text["ruleset"]),
            status=self._choice(o, "status", text["status"], _STATUS, "状态", STATUSES) or "active",
            operator=text["operator"],
            is_lead=self._lead(o, text["is_lead"]),
            interval_minutes=self._interval(o, text["interval_minutes"]),
            options=self._options(o, text["options"]),
            origin=o,
        )
        if row.reader in ("rss", "webpage") and not text["url"]:
            target = "url" if "url" in o.headers else "reader"
            self._add(o, target, f"读取方式为 {row.reader} 时必须填写地址")
        for column, reason in option_problems(row.platform, row.reader, row.options):
            self._add(o, column, reason)
        return row

    def reference(
        self, row: UnitRow | AccountRow, field: str, value: str, resolve: _Resolve
    ) -> str | None:
        code, reason = resolve(value)
        if reason and row.origin:
            self._add(row.origin, field, reason)
        return code

    # --- cells ---

    def _add(self, o: Origin, field: str, reason: str) -> None:
        self.problems.append(o.problem(field, reason))

    def _texts(
        self, o: Origin, cells: Mapping[str, str], columns: Sequence[Column]
    ) -> dict[str, str]:
        out: dict[str, str] = {}
        for col in columns:
            value = cells.get(col.field, "")
            if col.required and not value and col.field in o.headers:
                self._add(o, col.field, "不能为空")
            if col.max_len and len(value) > col.max_len:
                self._add(o, col.field, f"太长：{len(value)} 个字符，最多 {col.max_len} 个")
            out[col.field] = value
        return out

    def _no_space(self, o: Origin, field: str, value: str) -> None:
        if any(ch.isspace() for ch in value):
            self._add(o, field, f"'{value}' 中不能有空白字符")

    def _choice(
        self,
        o: Origin,
        field: str,
        value: str,
        index: Mapping[str, str],
        what: str,
        table: Mapping[str, tuple[str, ...]],
    ) -> str:
        if not value:
            return ""
        code = index.get(norm(value))
        if code is None:
            self._add(o, field, f"未知{what} '{value}'，可填：{describe(table)}")
            return ""
        return code

    def _url(self, o: Origin, value: str) -> str:
        if value and not is_http_url(value):
            self._add(o, "url", f"地址 '{value}' 不是 http(s) 网址")
        return value

    def _reader(self, o: Origin, value: str) -> str:
        if not value:
            return ""
        code = _READER.get(norm(value), value)
        if code not in self.readers and value.casefold() in self.readers:
            code = value.casefold()
        if code not in self.readers:
            allowed = "、".join(sorted(self.readers)) or "（无）"
            self._add(o, "reader", f"未知读取方式 '{value}'，可填：{allowed}，或留空按平台读取")
            return ""
        return code

    def _ruleset(self, o: Origin, value: str) -> str:
        if value and value not in self.rulesets:
            defined = "、".join(sorted(self.rulesets)) or "（无）"
            self._add(o, "ruleset", f"更新规则 '{value}' 未在配置中定义（已定义：{defined}）")
        return value

    def _lead(self, o: Origin, value: str) -> bool:
        if not value:
            return False
        lead = _LEAD.get(norm(value))
        if lead is None:
            self._add(o, "is_lead", f"主账号应填 是 或 否，不是 '{value}'")
            return False
        return lead

    def _interval(self, o: Origin, value: str) -> int | None:
        if not value:
            return None
        digits = unicodedata.normalize("NFKC", value)
        if digits.isascii() and digits.isdigit() and 0 < int(digits) <= MAX_INTERVAL_MINUTES:
            return int(digits)
        reason = f"巡查间隔应为 1 到 {MAX_INTERVAL_MINUTES} 的整数（分钟），不是 '{value}'"
        self._add(o, "interval_minutes", reason)
        return None

    def _options(self, o: Origin, value: str) -> dict[str, str]:
        options, errors = parse_options(value)
        for reason in errors:
            self._add(o, "options", reason)
        return options

    def _mobiles(self, o: Origin, value: str, column: str = "duty_mobiles") -> list[str]:
        label = "值班手机" if column == "duty_mobiles" else "负责人手机"
        numbers, bad = duty_mobiles(value)
        for item in bad:
            self._add(o, column, f"{label} '{item}' 不是 11 位手机号")
        if len(numbers) > MAX_DUTY_MOBILES:
            reason = f"{label}最多 {MAX_DUTY_MOBILES} 个，现有 {len(numbers)} 个"
            self._add(o, column, reason)
        return numbers

    def _channels(self, o: Origin, value: str, column: str = "channels") -> list[str]:
        out: list[str] = []
        for item in value.split():
            if _CHANNEL_REF.fullmatch(item):
                if self.channels is not None and item[1:] not in self.channels:
                    self._add(o, column, f"通知渠道 '{item}' 未在配置 [channels] 中定义")
            elif not _SCHEME_URL.fullmatch(item):
                hint = "；多个渠道请用空格或换行分隔" if re.search(r"[,，;；、]", item) else ""
                reason = f"通知渠道 '{item}' 既不是 apprise 网址（scheme://…）也不是 @名称{hint}"
                self._add(o, column, reason)
            elif why := channel_problem(item):
                self._add(o, column, f"通知渠道 '{item}' {why}")
            if len(item) > 2000:
                self._add(o, column, "通知渠道太长：最多 2000 个字符")
            if item not in out:
                out.append(item)
        return out


def parse_options(text: str) -> tuple[dict[str, str], list[str]]:
    """``key=value; key=value`` (``；`` and newlines also separate) -> dict, errors.

    The value is everything after the first ``=``, so selectors such as
    ``a[href*="id="]`` survive.
    """
    options: dict[str, str] = {}
    errors: list[str] = []
    for part in _OPTION_SEPARATORS.split(text):
        part = part.strip()
        if not part:
            continue
        key, sep, value = (s.strip() for s in part.partition("="))
        if not sep:
            errors.append(f"参数 '{part}' 缺少 '='，格式应为 key=value; key=value")
        elif not _OPTION_KEY.fullmatch(key):
            errors.append(f"参数名 '{key}' 不合法：只能用英文字母、数字和 _ . -")
        elif not value:
            errors.append(f"参数 '{key}' 没有值")
        elif key in options:
            errors.append(f"参数 '{key}' 重复")
        else:
            options[key] = value
    return options, errors


def format_options(options: Mapping[str, str]) -> str:
    """The inverse of ``parse_options``."""
    return "; ".join(f"{k}={v}" for k, v in options.items())


# --- whole-registry checks --------------------------------------------------------------

R = TypeVar("R", UnitRow, AccountRow)
_Resolve = Callable[[str], tuple[str | None, str | None]]


def _resolver(codes: set[str], names: Mapping[str, str]) -> _Resolve:
    """A unit reference is its code, or its exact name when only one unit has it."""
    by_name: dict[str, list[str]] = {}
    for code, name in names.items():
        by_name.setdefault(name, []).append(code)

    def resolve(value: str) -> tuple[str | None, str | None]:
        if value in codes:
            return value, None
        matches = by_name.get(value, [])
        if len(matches) == 1:
            return matches[0], None
        if matches:
            listed = "、".join(sorted(matches))
            return None, f"单位名称 '{value}' 对应多个单位（{listed}），请填写单位编码"
        return None, f"单位 '{value}' 不存在"

    return resolve


def _unique(
    rows: Sequence[R], key: Callable[[R], str], what: str, field: str, problems: list[Problem]
) -> dict[str, R]:
    """First row per key; a repeated key is reported on both rows, each naming the other."""
    first: dict[str, R] = {}
    for row in rows:
        k = key(row)
        if not k:
            continue
        if k not in first:
            first[k] = row
            continue
        earlier = first[k]
        if row.origin and earlier.origin:
            problems.append(
                row.origin.problem(field, f"{what} '{k}' 重复（另见 {earlier.origin}）")
            )
            problems.append(
                earlier.origin.problem(field, f"{what} '{k}' 重复（另见 {row.origin}）")
            )
    return first


def parent_cycles(units: Mapping[str, UnitRow]) -> list[Problem]:
    """Units whose 主管单位 chain comes back to them, reported on every unit of the loop."""
    problems: list[Problem] = []
    state: dict[str, bool] = {}  # code -> finished (False while on the current path)
    for start in units:
        path: list[str] = []
        node: str | None = start
        while node in units and node not in state:
            state[node] = False
            path.append(node)
            node = units[node].parent_code
        if node is not None and state.get(node) is False:
            loop = path[path.index(node) :]
            shown = " → ".join([*loop, node])
            for code in loop:
                origin = units[code].origin
                if origin:
                    problems.append(origin.problem("parent_code", f"主管单位形成循环：{shown}"))
        for code in path:
            state[code] = True
    return problems


def parents_first(units: Sequence[UnitRow]) -> list[UnitRow]:
    """Order units so each comes after its parent (when the parent is among them).

    Otherwise file order is kept. With the foreign key enforced (PostgreSQL, SQLite
    with ``foreign_keys=ON``) a child inserted before its parent would fail.
    """
    by_code = {u.code: u for u in units}
    seen: set[str] = set()
    ordered: list[UnitRow] = []
    for unit in units:
        chain: list[UnitRow] = []
        node: str | None = unit.code
        while node in by_code and node not in seen:
            seen.add(node)
            chain.append(by_code[node])
            node = by_code[node].parent_code
        ordered.extend(reversed(chain))
    return ordered


def _in_file_order(
    problems: list[Problem], paths: Sequence[Path], tables: Sequence[Table]
) -> list[Problem]:
    """Files in the order given (a workbook's sheets in load order), then by row."""
    rank: dict[str, int] = {}
    for path in paths:
        rank.setdefault(str(path), len(rank))
        for t in tables:
            if t.label == str(path) or t.label.startswith(f"{path}["):
                rank.setdefault(t.label, len(rank))

    def place(p: Problem) -> int:  # a sheet refused before it was read: with its file
        if p.file in rank:
            return rank[p.file]
        return next((rank[str(f)] for f in paths if p.file.startswith(f"{f}[")), len(rank))

    return sorted(problems, key=lambda p: (place(p), p.row or 0))
