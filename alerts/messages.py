"""Render a finding change as a message people act on, in Simplified Chinese.

Everything interpolated here may come from a scraped page (a post title, a nickname), so it
is treated as hostile: link and emphasis syntax, HTML tags and @-mentions are neutralised with
their full-width look-alikes (readable in Chinese text, inert in every renderer, unlike backslash
escapes, which DingTalk and WeCom do not honour), bare URLs in free text are defanged, and
the only links are ones we build ourselves from http(s) URLs, labelled with their real host.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerts.notice import FindingNotice, Level, Message
from alerts.templates import AlertTemplates
from alerts.templates import apply as apply_templates

PLATFORM_NAMES = {
    "weibo": "微博",
    "wechat": "微信公众号",
    "douyin": "抖音",
    "toutiao": "今日头条",
    "bilibili": "哔哩哔哩",
    "kuaishou": "快手",
    "xiaohongshu": "小红书",
    "website": "网站",
    "web": "网站",
    "app": "移动客户端",
    "miniprogram": "小程序",
    "other": "其他",
}

SEVERITY_NAMES = {"veto": "单项否决", "high": "严重", "warning": "预警", "info": "提示"}

# The words for a finding's kind (its label, 问题类别, the deadline's verb) are not here: they
# are the kind catalogue's (probes.checks.kinds), and arrive in the notice (alerts.notice).

# DingTalk rejects a request body over 20,000 bytes. apprise serialises with json.dumps
# (ASCII escapes: one Chinese character costs 6 bytes) and sends the title twice, so the
# budget is measured in escaped JSON, with room for the envelope.
MAX_REQUEST_BYTES = 20_000
_ENVELOPE_BYTES = 400

# how a time is shown, in the configured zone: the same as monitor.timefmt.MINUTES (this
# package does not import monitor; tests/test_alerts.py holds the two equal)
TIME_FORMAT = "%Y-%m-%d %H:%M"
# a whole string that is an instant as isoformat() writes it into evidence (with an offset)
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})")

_EVIDENCE_VALUE_CHARS = 200
_TRUNCATED = "…（内容过长，已截断）"

# Invisible and direction-changing characters let a hostile string disguise itself.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_URL_SCHEME = re.compile(r"(?i)\b(https?|ftp|javascript|data|file|weixin|mailto|tel|sms)\s*:")
_WWW = re.compile(r"(?i)\bwww\.")
_MD_INERT = str.maketrans(
    {
        "[": "［",
        "]": "］",
        "<": "＜",
        ">": "＞",
        "*": "＊",
        "`": "｀",
        "~": "～",
        "|": "｜",
        "\\": "＼",
        "@": "＠",
    }
)


def render(
    notice: FindingNotice, *, tz: str = "Asia/Shanghai", templates: AlertTemplates | None = None
) -> Message:
    """Render ``notice`` for chat bots (markdown) and mail (plain text).

    Both bodies stay within DingTalk's request limit: evidence goes first when space runs out.
    ``templates`` (from config) replace the parts an office wrote its own wording for.
    """
    zone = _zone(tz)
    title = _title(notice)
    budget = MAX_REQUEST_BYTES - _ENVELOPE_BYTES - 2 * _wire_size(title)
    bodies = []
    for fmt in (_Markdown(), _Text()):
        for extra_evidence, detail_chars in ((12, 1000), (4, 400), (0, 150)):
            body = _body(notice, fmt, zone, extra_evidence, detail_chars)
            if _wire_size(body) <= budget:
                break
        else:
            body = _cut_to(body, budget)
        bodies.append(body)
    message = Message(title=title, markdown=bodies[0], text=bodies[1], level=_level(notice))
    if templates is not None and templates.active:
        message = apply_templates(templates, message, _template_context(notice, zone))
        for part in ("markdown", "text"):
            if _wire_size(getattr(message, part)) > budget:
                setattr(message, part, _cut_to(getattr(message, part), budget))
    return message


def _template_context(n: FindingNotice, zone: tzinfo) -> dict[str, Any]:
    """Every value already inert (full-width brackets, no mentions, no bare links)."""

    def s(value: object, limit: int = 200) -> str:
        return _inline(str(value), limit).translate(_MD_INERT)

    return {
        "event": n.event,
        "label": _label(n),
        "account": s(n.account_name or n.account_id, 80),
        "account_id": s(n.account_id, 64),
        "platform": platform_name(n.platform),
        "unit": s(n.unit_name or n.unit_code, 120),
        "unit_code": s(n.unit_code, 64),
        "kind": s(kind_label(n), 80),
        "category": s(n.category_label, 40),
        "problem": s(n.title),
        "detail": s(n.detail, 1000),
        "rule": s(n.rule),
        "severity": SEVERITY_NAMES.get(n.severity, s(n.severity, 20)),
        "deadline": _time(n.deadline, zone) if n.deadline else "",
        "found": _time(n.opened_at or n.at, zone),
        "snapshot": int(n.snapshot_id) if n.snapshot_id is not None else "",
        "finding": int(n.finding_id) if n.finding_id is not None else "",
        "link": _safe_url(n.console_url),
    }


# -- pieces -----------------------------------------------------------------------------------


def platform_name(code: str) -> str:
    return PLATFORM_NAMES.get(code, code)


def kind_label(notice: FindingNotice) -> str:
    """The kind's Chinese label, or its code in a notice stored without one."""
    return notice.kind_label or notice.kind


def category_shown(notice: FindingNotice) -> str:
    """问题类别 as a message shows it: the category, then the kind, 更新不及时（长期未更新）."""
    kind, category = kind_label(notice), notice.category_label
    return f"{category}（{kind}）" if category and category != kind else kind


def remedy(notice: FindingNotice) -> str:
    """The deadline's verb: 更新 for a silent account, 整改 for the rest (and old notices)."""
    return notice.remedy or "整改"


def _label(notice: FindingNotice) -> str:
    if notice.event == "test":
        return "测试"
    if notice.event == "resolved":
        return "已恢复"
    severity = SEVERITY_NAMES.get(notice.severity, notice.severity)
    if notice.event == "reminder":
        return f"{severity}·仍未整改"
    if notice.event == "escalated":
        return f"上报·{severity}"
    if notice.event == "updated":
        return f"{severity}·情况有变"
    return severity


def _title(notice: FindingNotice) -> str:
    """Like 【单项否决】XX市人民政府（微博）已 15 天未更新: one line, inert in markdown and mail."""
    name = _inline(notice.account_name or notice.account_id, 60)
    problem = _inline(notice.title, 120) or _inline(kind_label(notice), 60)
    if name and problem.startswith(name):  # a detector that already named the account
        problem = problem[len(name) :].lstrip(" ：:")
    line = f"{name}（{platform_name(notice.platform)}）{problem}".translate(_MD_INERT)
    return f"【{_label(notice)}】{line}"


def _level(notice: FindingNotice) -> Level:
    if notice.event == "resolved":
        return "success"
    if notice.event == "test":
        return "info"
    return {"veto": "failure", "high": "failure", "warning": "warning"}.get(notice.severity, "info")


class _Markdown:
    """Markdown for DingTalk / Feishu / Lark / webhooks: a bullet list, no heading (apprise
    adds the title itself)."""

    def field(self, label: str, value: str) -> str:
        return f"- **{label}**：{value}"

    def safe(self, value: str) -> str:
        return value.translate(_MD_INERT)

    def link(self, label: str, url: str) -> str:
        return f"[{label}]({url})"

    def join(self, lines: Iterable[str]) -> str:
        return "\n".join(lines)


class _Text:
    """Plain text for mail and text-only bots."""

    def field(self, label: str, value: str) -> str:
        return f"{label}：{value}"

    def safe(self, value: str) -> str:
        return value.replace("@", "＠")  # no renderer, but never a mention either

    def link(self, label: str, url: str) -> str:
        return f"{label} {url}"

    def join(self, lines: Iterable[str]) -> str:
        return "\n".join(lines)


_Format = _Markdown | _Text


def _body(
    n: FindingNotice, f: _Format, zone: tzinfo, extra_evidence: int, detail_chars: int
) -> str:
    def s(value: object, limit: int = 120) -> str:
        return f.safe(_inline(str(value), limit))

    lines: list[str] = []
    if n.event == "test":
        lines.append(s("这是一条测试消息：收到即说明本通知渠道可用，无需处理。"))
    elif n.event == "resolved":
        lines.append(f.field("状态", "已恢复，最近一次检查未再发现该问题"))
    elif n.event == "reminder":
        if n.opened_at:
            since = f"自 {_time(n.opened_at, zone)} 起已持续 {_duration(n.at - n.opened_at)}"
        else:
            since = "此前已通知"
        lines.append(f.field("提醒", f"该问题{since}，仍未整改"))
    elif n.event == "updated":
        lines.append(f.field("状态", "问题仍在，情况有变化"))
    elif n.event == "escalated":
        why = n.detail_escalation or "主办单位未在时限内处理"
        lines.append(f.field("上报", s(f"{why}，按规则告知主管单位", 200)))

    if n.account_name or n.account_id:
        lines.append(f.field("账号", s(n.account_name or n.account_id, 80)))
    lines.append(f.field("平台", s(platform_name(n.platform), 40)))
    if n.unit_name or n.unit_code:
        unit = f"{n.unit_name}（{n.unit_code}）" if n.unit_name and n.unit_code else n.unit_name
        lines.append(f.field("主办单位", s(unit or n.unit_code, 120)))
    if n.event != "test":
        lines.append(f.field("问题类别", s(category_shown(n), 80)))
        if n.title:
            lines.append(f.field("问题", s(n.title, 200)))
        if n.detail:
            lines.append(f.field("说明", s(n.detail, detail_chars)))
        lines.append(f.field("级别", SEVERITY_NAMES.get(n.severity, s(n.severity, 20))))
        if n.rule:
            lines.append(f.field("依据规则", s(n.rule, 200)))
    if n.deadline and n.event not in ("resolved", "test"):
        verb = s(remedy(n), 10)
        lines.append(f.field("整改期限", f"须在 {_time(n.deadline, zone)} 前{verb}"))

    evidence = _evidence(n.evidence, f, zone, extra_evidence)
    if evidence:
        lines.append(f.field("证据", evidence[0]) if len(evidence) == 1 else f.field("证据", ""))
        if len(evidence) > 1:
            indent = "  - " if isinstance(f, _Markdown) else "  · "
            lines.extend(indent + e for e in evidence)

    found = n.opened_at or (n.at if n.event == "opened" else None)
    if found:
        lines.append(f.field("发现时间", _time(found, zone)))
    if n.event in ("updated", "reminder", "escalated"):
        lines.append(f.field("本次检查", _time(n.at, zone)))
    elif n.event == "resolved":
        lines.append(f.field("恢复时间", _time(n.at, zone)))
        if n.opened_at:
            lines.append(f.field("持续", _duration(n.at - n.opened_at)))
    elif n.event == "test":
        lines.append(f.field("发送时间", _time(n.at, zone)))
    if n.snapshot_id is not None:
        lines.append(f.field("快照编号", f"#{int(n.snapshot_id)}"))
    if n.finding_id is not None:
        lines.append(f.field("问题编号", f"#{int(n.finding_id)}"))
    console = _safe_url(n.console_url)
    if console:
        lines.append(f.link("在巡查控制台查看", console))
    return f.join(lines)


def _evidence(ev: dict[str, Any], f: _Format, zone: tzinfo, extra: int) -> list[str]:
    """Short lines: the latest post first (what inspectors ask for), then whatever else."""
    if not isinstance(ev, dict):
        return []
    out: list[str] = []
    used = {"latest_post", "latest_post_at", "latest_post_title", "latest_post_url"}

    post = ev.get("latest_post") if isinstance(ev.get("latest_post"), dict) else {}
    when = _parse_time(post.get("published_at", ev.get("latest_post_at")))
    caption = post.get("title") or post.get("text") or ev.get("latest_post_title") or ""
    post_url = _safe_url(post.get("url") or ev.get("latest_post_url") or "")
    if when or caption or post_url:
        parts = ["最新一条"]
        parts.append(_time(when, zone) if when else "（时间未知）")
        if caption:
            parts.append("《" + f.safe(_inline(str(caption), 80)) + "》")
        if post.get("pinned"):
            parts.append("（置顶，不计入更新）")
        line = " ".join(parts)
        if post_url:
            line += " " + f.link(f"原文（{urlsplit(post_url).hostname}）", post_url)
        out.append(line)

    known: list[tuple[str, str, Callable[[Any], str]]] = [
        ("days_since_update", "距上次更新", lambda v: f"{v} 天"),
        ("status_code", "HTTP 状态", lambda v: f.safe(_inline(str(v), 10))),
        ("outcome", "抓取结果", lambda v: f.safe(_inline(str(v), 40))),
        ("reason", "原因", lambda v: f.safe(_inline(str(v), _EVIDENCE_VALUE_CHARS))),
    ]
    for key, label, show in known:
        used.add(key)
        if ev.get(key) not in (None, ""):
            out.append(f"{label}：{show(ev[key])}")
    for key, label in (("url", "检查地址"), ("final_url", "最终地址")):
        used.add(key)
        if ev.get(key):
            url = _safe_url(str(ev[key]))
            shown = f.link(urlsplit(url).hostname or url, url) if url else "（无效地址）"
            out.append(f"{label}：{shown}")

    rest = [k for k in ev if k not in used]
    for key in rest[:extra]:
        value = _times_shown(ev[key], zone)
        if not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, default=str)
        out.append(f"{f.safe(_inline(str(key), 40))}：{f.safe(_inline(value, 200))}")
    if len(rest) > extra:
        out.append(f"另有 {len(rest) - extra} 项证据，见快照")
    return out


# -- helpers ----------------------------------------------------------------------------------


def _inline(value: str, limit: int) -> str:
    """One line, no invisible characters, no live URLs, at most ``limit`` characters."""
    value = _INVISIBLE.sub("", value.replace("\r", " ").replace("\n", " ").replace("\t", " "))
    value = _URL_SCHEME.sub(lambda m: m.group(1) + "：", value)
    value = _WWW.sub("www．", value)
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _safe_url(url: str) -> str:
    """An http(s) URL with every character that could end a markdown link escaped, or ""."""
    url = _INVISIBLE.sub("", str(url)).strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not re.fullmatch(r"[a-z0-9.\-]+", host):
        return ""
    return quote(url, safe=":/?#=&%+,;~-._@$")[:1000]


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == "Asia/Shanghai":  # no tzdata installed; China has had no DST since 1991
            return timezone(timedelta(hours=8), "CST")
        raise


def _parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _time(dt: datetime | None, zone: tzinfo) -> str:
    """A time as people read it everywhere: ``TIME_FORMAT`` in the configured zone (the
    console's ``monitor.timefmt.shown`` gives the same string; a test holds them equal)."""
    if dt is None:
        return ""
    if dt.tzinfo is None:  # stored times are UTC (docs/architecture.md)
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(zone).strftime(TIME_FORMAT)


def local_time(dt: datetime | None, tz: str = "Asia/Shanghai") -> str:
    """``_time`` for a zone name: how every message shows a time."""
    return _time(dt, _zone(tz))


def _times_shown(value: Any, zone: tzinfo) -> Any:
    """Evidence values with the instants we stored (UTC ISO strings with an offset) shown as
    ``_time`` shows them; anything else, and a time without an offset, as it is."""
    if isinstance(value, str):
        text = value.strip()
        if _INSTANT.fullmatch(text):
            when = _parse_time(text)
            return _time(when, zone) if when else value
        return value
    if isinstance(value, dict):
        return {k: _times_shown(v, zone) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_times_shown(v, zone) for v in value]
    return value


def _duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {minutes} 分钟"
    return f"{minutes} 分钟"


def _wire_size(text: str) -> int:
    """Bytes ``text`` costs inside apprise's JSON payload (ASCII-escaped)."""
    return len(json.dumps(text))


def _cut_to(text: str, budget: int) -> str:
    """Last resort: drop characters from the end until the body fits."""
    room = budget - _wire_size(_TRUNCATED)
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits
        mid = (lo + hi + 1) // 2
        if _wire_size(text[:mid]) <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + _TRUNCATED
