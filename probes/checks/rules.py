"""Update-frequency rule sets: what "stale" means for an account.

There is no single number: the national single-veto rule (14 days) applies everywhere, and
provinces add their own (贵州: city governments every working day, county governments at least
twice a week). A rule set bundles the rules one kind of account is judged by; users define
more in the config::

    [rulesets.county_strict]
    description = "县级政府：每周不少于 3 次"
    extends = "national"                       # optional: the parent's rules come first
    rules = [
      { kind = "per_week", count = 3, warn_workdays = 2 },
      { kind = "max_gap_days", days = 10, warn_days = 3, severity = "high" },
    ]

A user rule set with a built-in's name replaces the built-in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from probes.model import Severity


class RulesetError(ValueError):
    """A rule-set definition a person can fix; the message names the rule set and the key."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity = Severity.high

    def label(self) -> str:
        """Short name used in ``Signal.rule``: ``max_gap_days(14)``."""
        raise NotImplementedError

    def requirement(self) -> str:
        """What the rule asks, as people say it: ``14 天内须有更新``."""
        raise NotImplementedError

    def words(self) -> str:
        """The requirement and, for a single veto, what breaking it costs."""
        veto = "（单项否决）" if self.severity == Severity.veto else ""
        return self.requirement() + veto

    def params(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class MaxGapDays(_Rule):
    """No post for ``days`` days (elapsed time before the check) is a breach."""

    kind: Literal["max_gap_days"] = "max_gap_days"
    days: int = Field(ge=1)
    warn_days: int = Field(0, ge=0)  # warn once this many days have passed; 0 = never

    @model_validator(mode="after")
    def _warn_before_breach(self) -> MaxGapDays:
        if self.warn_days >= self.days:
            raise ValueError(f"warn_days ({self.warn_days}) must be less than days ({self.days})")
        return self

    def label(self) -> str:
        return f"max_gap_days({self.days})"

    def requirement(self) -> str:
        return f"{self.days} 天内须有更新"


class EveryWorkingDay(_Rule):
    """A post on every working day: due by the end of the first working day after the last."""

    kind: Literal["every_working_day"] = "every_working_day"
    # 9 h before the 23:59 deadline = from about 15:00 on the day itself: a unit that posts
    # every morning is not woken at midnight every day, and still has an afternoon to act
    warn_hours: int = Field(9, ge=0)

    def label(self) -> str:
        return "every_working_day"

    def requirement(self) -> str:
        return "每个工作日须有更新"


class PerWeek(_Rule):
    """At least ``count`` posts in each natural week (Mon–Sun, local time)."""

    kind: Literal["per_week"] = "per_week"
    count: int = Field(ge=1)
    warn_workdays: int = Field(2, ge=0)  # warn when this few working days are left in the week

    def label(self) -> str:
        return f"per_week({self.count})"

    def requirement(self) -> str:
        return f"每周更新不少于 {self.count} 次"


class OriginalPerMonth(_Rule):
    """At least ``count`` original (non-repost) posts in each calendar month."""

    kind: Literal["original_per_month"] = "original_per_month"
    count: int = Field(1, ge=1)
    warn_days: int = Field(7, ge=0)  # warn when this few days are left in the month

    def label(self) -> str:
        return f"original_per_month({self.count})"

    def requirement(self) -> str:
        return f"每月原创不少于 {self.count} 条"


Rule = Annotated[
    MaxGapDays | EveryWorkingDay | PerWeek | OriginalPerMonth, Field(discriminator="kind")
]
RULE_KINDS = ("max_gap_days", "every_working_day", "per_week", "original_per_month")


class RuleSet(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    # the short name people read where the code would be (the console, messages, reports);
    # a user rule set without one shows its name
    title: str = ""
    description: str = ""
    rules: tuple[Rule, ...] = ()

    @property
    def shown(self) -> str:
        return self.title or self.name


_NATIONAL = MaxGapDays(days=14, warn_days=7, severity=Severity.veto)

BUILTIN_RULESETS: dict[str, RuleSet] = {
    r.name: r
    for r in (
        RuleSet(
            name="national",
            title="全国标准",
            description="全国：发布类政务新媒体 14 天内无更新即单项否决（7 天预警）",
            rules=(_NATIONAL,),
        ),
        RuleSet(
            name="guizhou_city",
            title="贵州·市州政府",
            description="贵州：市州政府政务新媒体每个工作日更新（另适用全国 14 天规定）",
            rules=(_NATIONAL, EveryWorkingDay()),
        ),
        RuleSet(
            name="guizhou_county",
            title="贵州·省直部门和县级政府",
            description=(
                "贵州：省直部门、县级政府政务新媒体每周更新不少于 2 次（另适用全国 14 天规定）"
            ),
            rules=(_NATIONAL, PerWeek(count=2)),
        ),
        RuleSet(
            name="service",
            title="服务类（不考核更新）",
            description="服务类账号：不按更新频率考核",
            rules=(),
        ),
    )
}

_RULES = TypeAdapter(list[Rule])
_RULESET_KEYS = ("title", "description", "extends", "rules")


def _loc(name: str, loc: tuple[int | str, ...]) -> str:
    out = f"rulesets.{name}.rules"
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in RULE_KINDS:  # pydantic puts the union member's tag in the path
            out += f".{part}"
    return out


def _parse_rules(name: str, raw: Any) -> tuple[Rule, ...]:
    if not isinstance(raw, list):
        raise RulesetError(
            f"规则集 '{name}' 的 rules 应为列表 / ruleset '{name}': rules must be a list"
        )
    try:
        return tuple(_RULES.validate_python(raw))
    except ValidationError as e:
        lines = []
        for err in e.errors():
            where = _loc(name, err["loc"])
            if err["type"] == "union_tag_invalid":
                kind = (err.get("ctx") or {}).get("tag", "")
                msg = f"未知的 kind '{kind}'（可用: {', '.join(RULE_KINDS)}） / unknown kind"
            elif err["type"] == "union_tag_not_found":
                msg = f"缺少 kind（可用: {', '.join(RULE_KINDS)}） / missing kind"
            elif err["type"] == "extra_forbidden":
                msg = "未知的键 / unknown key"
            else:
                msg = err["msg"]
            lines.append(f"  {where}: {msg}")
        raise RulesetError(
            f"规则集 '{name}' 有误 / invalid ruleset '{name}':\n" + "\n".join(lines)
        ) from None


def _definitions(config: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The user's rule set tables by name, each a table of known keys."""
    defs: dict[str, Mapping[str, Any]] = {}
    for name, table in config.items():
        if not isinstance(table, Mapping):
            raise RulesetError(
                f"规则集 '{name}' 应为表 [rulesets.{name}] / ruleset '{name}' must be a table"
            )
        for key in table:
            if key not in _RULESET_KEYS:
                raise RulesetError(
                    f"规则集 '{name}' 有未知的键 '{key}'（可用: {', '.join(_RULESET_KEYS)}）"
                    f" / ruleset '{name}': unknown key '{key}'"
                )
        defs[str(name)] = table
    return defs


def _text(name: str, table: Mapping[str, Any], key: str) -> str:
    """A rule set's words (``description``, ``title``): a string, empty if not given."""
    value = table.get(key, "")
    if not isinstance(value, str):
        raise RulesetError(
            f"规则集 '{name}' 的 {key} 应为字符串 / ruleset '{name}': {key} must be a string"
        )
    return value


def load_rulesets(config: Mapping[str, Any]) -> dict[str, RuleSet]:
    """Built-ins overlaid with user definitions.

    ``config`` is the ``[rulesets]`` table (name -> definition); a whole config document that
    holds one under ``rulesets`` is accepted too.
    """
    tables = config.get("rulesets")
    if isinstance(tables, Mapping) and all(isinstance(v, Mapping) for v in tables.values()):
        config = tables
    defs = _definitions(config)
    out = dict(BUILTIN_RULESETS)
    resolving: list[str] = []

    def resolve(name: str, *, builtin_only: bool = False) -> RuleSet:
        if not builtin_only and name in defs:
            if name in resolving:
                chain = " -> ".join([*resolving, name])
                raise RulesetError(f"规则集循环继承: {chain} / ruleset extends itself: {chain}")
            resolving.append(name)
            table = defs[name]
            parent_rules: tuple[Rule, ...] = ()
            if "extends" in table:
                parent = table["extends"]
                if not isinstance(parent, str):
                    raise RulesetError(
                        f"规则集 '{name}' 的 extends 应为规则集名称 / ruleset '{name}': "
                        "extends must be a ruleset name"
                    )
                # "national" extending "national" means the built-in one
                parent_rules = resolve(parent, builtin_only=parent == name).rules
            description = _text(name, table, "description")
            title = _text(name, table, "title")
            own = _parse_rules(name, table.get("rules", []))
            resolving.pop()
            return RuleSet(
                name=name, title=title, description=description, rules=parent_rules + own
            )
        if name in BUILTIN_RULESETS:
            return BUILTIN_RULESETS[name]
        known = ", ".join(sorted(set(defs) | set(BUILTIN_RULESETS)))
        who = resolving[-1] if resolving else name
        raise RulesetError(
            f"规则集 '{who}' 继承的 '{name}' 不存在（已有: {known}） / ruleset '{who}' "
            f"extends unknown ruleset '{name}'"
        )

    for name in defs:
        out[name] = resolve(name)
    return out


def ruleset_title(name: str, rulesets: Mapping[str, RuleSet]) -> str:
    """A rule set's short Chinese name (``全国标准``); an unknown one as it is."""
    rs = rulesets.get(name)
    return rs.shown if rs else name


# The rules other detectors cite in ``Signal.rule`` (probes.checks.commercial, install, theft,
# evaluate), in words. A fetch problem cites no rule a unit broke: it shows none.
DETECTOR_RULES: dict[str, str] = {
    "commercial": "政务新媒体不得刊登或链接商业广告",
    "commercial.review": "商品销售和小程序链接须人工复核",
    "install.hijacked": "客户端下载页不得被劫持",
    "install.download": "客户端下载地址须可用",
    "install.apk": "下载地址须提供有效的安装包",
    "install.host": "下载须留在登记的域名",
    "install.tls": "下载地址须使用有效的 HTTPS 证书",
    "install.tls_days": "HTTPS 证书须留有足够的有效期",
    "install.package": "安装包的包名须与登记一致",
    "install.signer": "安装包的签名证书须与首次记录一致",
    "install.signer_pin": "首次记录客户端的签名证书",
    "install.stores": "客户端须能在应用商店查到",
    "theft.score": "盗用迹象合计达到阈值",
    "interaction.comments_off": "须提供有效的互动功能",
    "content.privacy": "发布内容中的身份证号、手机号、银行卡号须脱敏",
    "content.roster": "领导姓名和职务须准确",
    "content.wording": "不得有错别字和不规范表述",
    "content.entertainment": "不得过度娱乐化",
}


def rule_text(rule: str, rulesets: Mapping[str, RuleSet], *, codes: bool = True) -> str:
    """What ``Signal.rule`` (``national.max_gap_days(14)``, several joined by ``, ``) means,
    in words: ``全国标准：14 天内须有更新（单项否决）``. A fetch problem's is "". A code this
    version cannot read (a rule set since removed) is shown as it is rather than hidden, or,
    with ``codes=False`` (messages and listings people read), left out."""
    by_set: dict[str, list[str]] = {}  # one rule set's rules after its name, once
    for code in rule.split(","):
        where, words = _one_rule(code.strip(), rulesets, codes)
        if words and words not in by_set.setdefault(where, []):
            by_set[where].append(words)
    shown = [(f"{where}：" if where else "") + "、".join(w) for where, w in by_set.items() if w]
    return "；".join(shown)


def _one_rule(rule: str, rulesets: Mapping[str, RuleSet], codes: bool) -> tuple[str, str]:
    """(the rule set's title or "", the rule in words; with ``codes`` the code itself where
    there are no words, else "")."""
    if not rule or rule.startswith("fetch."):
        return "", ""
    name, dot, label = rule.partition(".")
    rs = rulesets.get(name)
    if dot and rs is not None:
        words = next((r.words() for r in rs.rules if r.label() == label), None)
        return rs.shown, words or (label if codes else "")
    stem = re.split(r"[(>=<]", rule, maxsplit=1)[0]
    return "", DETECTOR_RULES.get(stem, rule if codes else "")
