"""The catalogue of finding kinds: one entry for every kind a detector can emit.

A detector's ``Signal.kind`` is a code; people read what this catalogue says of it — the
label a message, the console, the CLI and the report show, the problem category in the
national inspection's own terms (问题类别, seed 003's eight problems), the severity it
usually carries, and the verb its deadline takes ("须在 … 前更新" or "前整改"). Routing reads
the category too: ``[alerts] it_kinds = ["install"]`` sends every app problem to the unit's
技术联系渠道. A test fails when a detector emits a kind that is not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from probes.model import Severity


@dataclass(frozen=True)
class Category:
    """A problem category as inspection bulletins name it."""

    code: str
    label: str


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("update", "更新不及时"),  # 运维保障差: 长期不更新
        Category("ads", "刊登或链接商业广告"),  # 功能定位不清
        Category("interaction", "互动服务不实"),
        Category("vetting", "审核把关不严"),  # 领导姓名职务、错别字、规范表述
        Category("entertainment", "过度娱乐化"),
        Category("privacy", "隐私泄露"),  # 身份证号、手机号、银行卡号未脱敏
        Category("theft", "账号被盗用"),  # 管理底数不清
        Category("install", "无法安装或使用"),  # 运维保障差: 移动客户端
        Category("access", "账号无法访问"),  # deleted, banned, cancelled
        Category("patrol", "暂时无法检查"),  # our fetch failed: no verdict on the unit
    )
}


@dataclass(frozen=True)
class FindingKind:
    code: str
    # what people read for this kind; never in brackets, and never repeating its category:
    # messages and the 通报 show it as 类别（label）
    label: str
    category: str  # a CATEGORIES code
    severity: Severity  # what its detector usually says (a signal may say otherwise)
    remedy: str = "整改"  # the deadline's verb: 须在 X 前{remedy}
    # 整改期限: hours from the finding's opening by which the unit must have acted, where
    # the detector sets no deadline of its own (staleness does). None: nothing for the unit
    # to put right (our own fetch problems, a record kept for later comparison).
    fix_hours: int | None = None
    # 复核: a detector's judgement a person must confirm or dismiss as 误报 (the console's
    # /review queue, monitor/store/rectify.py); rules that only count (staleness) need none
    review: bool = False

    @property
    def category_label(self) -> str:
        return CATEGORIES[self.category].label


KINDS: dict[str, FindingKind] = {
    k.code: k
    for k in (
        # staleness (probes.checks.staleness)
        FindingKind("stale", "长期未更新", "update", Severity.veto, "更新"),
        FindingKind("stale_soon", "即将超过更新期限", "update", Severity.warning, "更新"),
        # "N posts a week" fell short last week and this week has not caught up yet
        FindingKind("infrequent", "更新频次不足", "update", Severity.high, "补足更新"),
        # posts seen, none dated: no verdict on the account, the reader needs a look
        FindingKind("undated", "无法判断更新时间", "patrol", Severity.warning),
        # the fetch itself (probes.checks.evaluate)
        FindingKind("gone", "账号疑似关停、注销或删除", "access", Severity.high, fix_hours=72),
        FindingKind("blocked", "被平台反爬拦截", "patrol", Severity.warning),
        FindingKind("fetch_failed", "无法抓取账号页面", "patrol", Severity.warning),
        FindingKind(
            "unreadable", "无法读取内容，页面可能改版或不是有效订阅源", "patrol", Severity.warning
        ),
        # commercial ads and links (probes.checks.commercial)
        FindingKind(
            "commercial", "发布或链接商业广告", "ads", Severity.high, fix_hours=72, review=True
        ),
        FindingKind(
            "commercial_review",
            "含商品销售或小程序，需人工复核",
            "ads",
            Severity.info,
            fix_hours=72,
            review=True,
        ),
        # theft and interaction (probes.checks.theft)
        FindingKind("theft", "疑似被盗用", "theft", Severity.high, fix_hours=24, review=True),
        FindingKind(
            "no_interaction", "未提供有效互动功能", "interaction", Severity.info, fix_hours=168
        ),
        # answers to the public's questions under the posts (probes.checks.interaction)
        FindingKind(
            "interaction_unanswered",
            "公众留言提问未按时回复",
            "interaction",
            Severity.warning,
            "回复",
            fix_hours=24,
        ),
        FindingKind(
            "interaction_late", "公众留言提问回复超时", "interaction", Severity.info, fix_hours=168
        ),
        # what posts say (probes.checks.content)
        FindingKind(
            "privacy",
            "发布内容泄露身份证号、手机号或银行卡号",
            "privacy",
            Severity.high,
            fix_hours=24,
            review=True,
        ),
        FindingKind(
            "roster_error",
            "领导姓名或职务表述错误",
            "vetting",
            Severity.high,
            fix_hours=24,
            review=True,
        ),
        FindingKind(
            "wording", "错别字或不规范表述", "vetting", Severity.warning, fix_hours=72, review=True
        ),
        FindingKind(
            "entertainment_review",
            "含网络流行语或娱乐化表述，需人工复核",
            "entertainment",
            Severity.info,
            fix_hours=72,
            review=True,
        ),
        # mobile clients (probes.checks.install)
        FindingKind(
            "app_download_unreachable", "客户端无法下载", "install", Severity.high, fix_hours=72
        ),
        FindingKind(
            "app_not_apk", "下载地址返回的不是安装包", "install", Severity.high, fix_hours=72
        ),
        FindingKind("app_hijacked", "下载地址被劫持", "install", Severity.high, fix_hours=24),
        FindingKind(
            "app_foreign_redirect", "下载被转到非登记域名", "install", Severity.high, fix_hours=72
        ),
        FindingKind(
            "app_tls", "下载地址的 HTTPS 证书无效或即将过期", "install", Severity.high, fix_hours=72
        ),
        FindingKind(
            "app_package_mismatch", "安装包的包名与登记不符", "install", Severity.high, fix_hours=72
        ),
        FindingKind(
            "app_signer_changed", "安装包的签名证书已变更", "install", Severity.high, fix_hours=24
        ),
        FindingKind("app_signer_pinned", "已记录客户端的签名证书", "install", Severity.info),
        FindingKind(
            "app_store_missing",
            "应用商店中查不到该客户端",
            "install",
            Severity.warning,
            fix_hours=168,
        ),
    )
}


#: the patrol's own problems (暂时无法检查: it could not fetch, read or date the account): no
#: verdict on the unit, told to ops only (``alerts`` routing), shown apart as 巡查异常, and an
#: account with nothing else in a period is 无法判定 in the 通报
PATROL_KINDS = frozenset(code for code, k in KINDS.items() if k.category == "patrol")


#: the judgement kinds (commercial, content, theft): a supervisor confirms each finding or
#: dismisses it as 误报 (复核); a dismissed one does not come back for the same evidence
REVIEW_KINDS = frozenset(code for code, k in KINDS.items() if k.review)


def kind(code: str) -> FindingKind | None:
    return KINDS.get(code)


def label(code: str) -> str:
    """The kind's Chinese label; an unknown code as it is (never an empty cell)."""
    k = KINDS.get(code)
    return k.label if k else code


def category_label(code: str) -> str:
    """The 问题类别 a kind falls under, for reports; an unknown code as it is."""
    k = KINDS.get(code)
    return k.category_label if k else code


def remedy(code: str) -> str:
    k = KINDS.get(code)
    return k.remedy if k else "整改"


def fix_deadline(code: str, opened_at: datetime) -> datetime | None:
    """A finding's 整改期限 when its detector gave none: its opening plus the kind's window."""
    k = KINDS.get(code)
    return opened_at + timedelta(hours=k.fix_hours) if k and k.fix_hours else None


def in_category(codes: frozenset[str] | set[str], kind_code: str) -> bool:
    """``kind_code`` is one of ``codes``, or falls under a category among them."""
    if kind_code in codes:
        return True
    k = KINDS.get(kind_code)
    return k is not None and k.category in codes


#: what the patrol could not see (a reader's limit, not the account's fault, or a warning that
#: the account is about to fall short) costs no points in the 通报
NOT_DEDUCTED = frozenset({"stale_soon", *PATROL_KINDS})


def report_weight(code: str, severity: str) -> str:
    """How a finding that held ``severity`` in a quarter counts in that quarter's 通报: "veto"
    (单项否决), "deduct" (扣分) or "" (not counted). The one rule: the report's problem lines
    (``monitor.report.problems``) and the recovery message ("本季度通报仍计入…") both ask it,
    so what a unit is told when a problem clears is what the 通报 will show."""
    if severity == "veto":
        return "veto"
    if severity in ("high", "warning") and code not in NOT_DEDUCTED:
        return "deduct"
    return ""
