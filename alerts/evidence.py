"""A finding's evidence in words, the way an inspector would write it down.

Detectors (``probes.checks``) keep their evidence as a dict of facts; this module knows every
key they emit and says each in Chinese: the latest post with its time and a link to it, the
offending link and its domain, the masked number and where it was, the app's host, each sign
of theft with its points. Keys that only matter to the code (a rule set's code, a post's id,
the rules' parameters, which the finding's 说明 already words) are left out, and a key this
module does not know is never shown raw: it is counted, and the console's finding page has it.

Lines listed under another (the posts of "涉及内容 N 条", the signs of theft) start with
``NESTED``; the message indents them one level deeper.

Links: the account's own addresses (its page, its posts, its registered download) are links
labelled with their host, built only from http(s) URLs ``safe_url`` accepts. What a detector
flags as bad (an advertiser's link, a hijacked or foreign download, a redirect's target) is
shown as inert text: a duty officer should see it, not open it from a chat message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from alerts.formats import Format
from alerts.text import flagged, host_of, parse_time, safe_url, shown

NESTED = "\t"
SEVERITY_WORDS = {"veto": "单项否决", "high": "严重问题", "warning": "预警", "info": "提示"}
OUTCOMES = {
    "not_found": "页面不存在",
    "blocked": "被网站拦截",
    "error": "抓取出错",
    "unreadable": "读不出内容",
    "ok": "正常",
}
LINK_VERDICTS = {
    "deny": "电商/广告域名",
    "miniprogram": "小程序",
    "miniprogram_official": "政务小程序",
    "weixin_business": "微信商业链接",
    "unknown": "外部链接",
}
APK_TYPE = "application/vnd.android.package-archive"
PAGE_KINDS = {
    "hijacked": "返回的是赌博或色情页面",
    "error": "返回的是错误页面",
    "landing": "返回的是网页，不是安装包",
}

# keys that matter to the code only, never to the person reading: shown nowhere, not counted
INTERNAL = frozenset(
    {
        "ruleset",  # the rule set's title is in 依据规则
        "rules",  # each rule's state and parameters: 说明 says them in words
        "latest_post_id",
        "ignored_undated_post_ids",
        "undated_only",
        "threshold",  # said with the score
        "schemes",  # APK signature scheme versions
        "lineage",  # a key rotation's certificates: "changed" is the finding
        "new_post_ids",
    }
)


@dataclass
class Room:
    """How much evidence fits: posts (or signs, links) listed, characters of each quote."""

    items: int = 5
    chars: int = 200


def describe(
    ev: object, f: Format, tz: tzinfo, now: datetime, room: Room, *, said: str = ""
) -> list[str]:
    """One line per fact, most telling first; [] for no evidence (or not a dict). ``said``:
    what the message says already (its title, 说明), so a fact is not told twice."""
    if not isinstance(ev, dict) or not ev:
        return []
    out: list[str] = []
    used: set[str] = set(INTERNAL)
    for part in _PARTS:
        out += part(ev, f, tz, now, room, used, said)
    rest = [k for k, v in ev.items() if k not in used and v not in (None, "", [], {})]
    if rest:
        out.append(f"另有 {len(rest)} 项技术细节未列出，见控制台的问题页")
    return out


Part = Callable[[dict[str, Any], Format, tzinfo, datetime, Room, set[str], str], list[str]]


# -- staleness --------------------------------------------------------------------------------


def _latest_post(ev, f, tz, now, room, used, said) -> list[str]:
    used.update({"latest_post", "latest_post_at", "latest_post_title", "latest_post_url"})
    used.add("days_since_update")
    post = ev.get("latest_post") if isinstance(ev.get("latest_post"), dict) else {}
    when = parse_time(post.get("published_at", ev.get("latest_post_at")))
    caption = post.get("title") or post.get("text") or ev.get("latest_post_title") or ""
    url = safe_url(post.get("url") or ev.get("latest_post_url") or "")
    days = ev.get("days_since_update")
    if not (when or caption or url):
        if isinstance(days, int) and not isinstance(days, bool):
            return [f"距上次更新已 {days} 天"]
        return []
    line = "最新一条："
    if when:
        line += f"{shown(when, tz)} 发布"
        if isinstance(days, int) and not isinstance(days, bool) and days > 0:
            line += f"（{days} 天前）"
    else:
        line += "发布时间未知"
    if caption:
        line += "《" + f.safe(caption, min(room.chars, 80)) + "》"
    if post.get("pinned"):
        line += "（置顶，不计入更新）"
    if url:
        line += " " + f.link(f"原文（{host_of(url)}）", url)
    return [line]


def _ignored_posts(ev, f, tz, now, room, used, said) -> list[str]:
    used.update(
        {"ignored_pinned_posts", "newest_pinned_post_at", "ignored_undated_posts"}
        | {"ignored_future_posts", "no_post_found", "posts_seen"}
    )
    out = []
    pinned = _count(ev.get("ignored_pinned_posts"))
    if pinned:
        newest = parse_time(ev.get("newest_pinned_post_at"))
        when = f"，最新一条置顶发布于 {shown(newest, tz)}" if newest else ""
        out.append(f"置顶内容 {pinned} 条不计入更新{when}")
    seen = _count(ev.get("posts_seen"))
    if ev.get("undated_only") and seen:
        out.append(f"共看到 {seen} 条内容，都读不出发布时间")
    elif ev.get("no_post_found"):
        out.append(f"共看到 {seen} 条内容，没有带发布时间的非置顶内容")
    undated = _count(ev.get("ignored_undated_posts"))
    if undated and not ev.get("undated_only"):
        out.append(f"另有 {undated} 条读不出发布时间，未计入")
    future = ev.get("ignored_future_posts")
    if isinstance(future, list) and future:
        out.append(f"{len(future)} 条的发布时间晚于检查时间（时间有误），未计入")
    return out


def _stale_notes(ev, f, tz, now, room, used, said) -> list[str]:
    used.update({"at_stake", "notes", "calendar_unknown_years"})
    out = []
    stake = SEVERITY_WORDS.get(str(ev.get("at_stake", "")))
    if stake and f"将{stake}" not in said and f"将{stake[:4]}" not in said:
        out.append(f"逾期将记为{stake}")
    notes = ev.get("notes")
    for note in notes[: room.items] if isinstance(notes, list) else []:
        # "per_week(2): 已知内容未早于上周开始…": the rule's code before the colon is ours
        out.append("注：" + f.safe(re.sub(r"^[\w.()>=<, ]+:\s*", "", str(note)), room.chars))
    years = ev.get("calendar_unknown_years")
    if isinstance(years, list) and years:
        shown_years = "、".join(f.safe(y, 6) for y in years[:4])
        out.append(f"注：{shown_years} 年的节假日安排未知，按周一至周五推算工作日")
    return out


# -- the fetch --------------------------------------------------------------------------------


def _fetch(ev, f, tz, now, room, used, said) -> list[str]:
    used.update({"outcome", "status_code", "reason", "url", "final_url"})
    out = []
    url = safe_url(ev.get("url") or "")
    if url:
        out.append("检查地址：" + f.link(host_of(url), url))
    elif ev.get("url"):
        out.append("检查地址：" + f.safe(ev["url"], room.chars) + "（不是有效的网址）")
    if ev.get("final_url") and "download_url" not in ev:
        out.append("被转到：" + f.safe(flagged(ev["final_url"]), room.chars))
    outcome = OUTCOMES.get(str(ev.get("outcome", "")))
    status = ev.get("status_code")
    reason = f.safe(ev.get("reason") or "", room.chars)
    if "download_url" in ev:  # an app: its own part says status and type
        return out
    bits = [outcome] if outcome else []
    if _number(status) and f"HTTP {status}" not in reason:
        bits.append(f"HTTP {status}")
    if reason:
        bits.append(reason)
    if bits:
        out.append("抓取结果：" + "，".join(bits))
    return out


# -- posts: commercial and content ------------------------------------------------------------


def _posts(ev, f, tz, now, room, used, said) -> list[str]:
    posts = ev.get("posts")
    if not (isinstance(posts, list) and posts and all(isinstance(p, dict) for p in posts)):
        return []
    used.add("posts")
    out = [f"涉及内容 {len(posts)} 条" + ("：" if room.items else "")]
    for i, p in enumerate(posts[: room.items], 1):
        out.append(NESTED + f"第 {i} 条：" + _post_words(p, f, room) + " " + _post_ref(p, f))
    if len(posts) > room.items > 0:
        out.append(NESTED + f"……其余 {len(posts) - room.items} 条见控制台的问题页")
    return out


def _post_ref(p: dict[str, Any], f: Format) -> str:
    url = safe_url(p.get("post_url") or "") or safe_url(p.get("post_id") or "")
    if url:
        return f.link(f"原文（{host_of(url)}）", url)
    return "（没有原文地址）"


def _post_words(p: dict[str, Any], f: Format, room: Room) -> str:
    bits: list[str] = []
    findings = p.get("findings")
    if isinstance(findings, list):  # content: personal data, roster, wording
        return _content_words(p, findings, f, room)
    reasons = p.get("reasons")  # commercial
    if isinstance(reasons, list) and reasons:
        bits.append("、".join(f.safe(r, 40) for r in reasons[:4]))
    links = p.get("links")
    if isinstance(links, list) and links:
        shown_links = [
            f"{f.safe(x.get('domain') or flagged(x.get('url', '')), 60)}"
            f"（{LINK_VERDICTS.get(str(x.get('verdict')), '外部链接')}）"
            for x in links[:3]
            if isinstance(x, dict)
        ]
        bits.append("链接 " + "、".join(shown_links))
    words = p.get("words")
    if isinstance(words, list) and words:
        quoted = "".join(
            f"「{f.safe(w.get('word', ''), 20)}」" for w in words[:5] if isinstance(w, dict)
        )
        bits.append(f"广告词{quoted}")
    contact = p.get("contact")
    if isinstance(contact, list) and contact:
        bits.append("联系方式 " + "、".join(f.safe(_masked(c), 30) for c in contact[:3]))
    return "；".join(bits) or "见控制台的问题页"


HITS_NAMED = 10  # hits of one rule a message names after the one it quotes


def _content_words(p: dict[str, Any], findings: list[Any], f: Format, room: Room) -> str:
    """Each rule's first hit quoted with its correction, then every other hit of the rule
    named (ten, then how many more): a table of ten phones names ten, not two."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for x in findings:
        if isinstance(x, dict):
            groups.setdefault(str(x.get("name") or ""), []).append(x)
    bits: list[str] = []
    more = _count(p.get("more"))
    for i, (name, xs) in enumerate(groups.items()):
        if i >= 3:
            more += len(xs)
            continue
        first = xs[0]
        span = f.safe(first.get("span") or first.get("hit") or "", min(room.chars, 60))
        advice = f.safe(first.get("suggestion") or "", 60)
        bit = f"{f.safe(name, 20)}「{span}」" + (f"，{advice}" if advice else "")
        if len(xs) > 1:
            named = [f.safe(x.get("hit"), 24) for x in xs[1 : HITS_NAMED + 1] if x.get("hit")]
            bit += f"；同类共 {len(xs)} 处"
            if named:
                bit += "，另有 " + "、".join(named) + (" 等" if len(xs) - 1 > len(named) else "")
        bits.append(bit)
    if more:
        bits.append(f"另有 {more} 处未列出")
    return "；".join(bits) or "见控制台的问题页"


_DIGITS = re.compile(r"\d{7,}")


def _masked(value: object) -> str:
    """A contact an ad left, masked like personal data is: never spread what is reported."""
    text = str(value)
    text = _DIGITS.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)
    m = re.match(r"^(.*?(?:[:：]|\s)\s*)([A-Za-z][-\w]{5,19})$", text)  # 加微信 abc12345
    return f"{m.group(1)}{m.group(2)[:2]}***" if m else text


# -- theft and interaction --------------------------------------------------------------------


def _theft(ev, f, tz, now, room, used, said) -> list[str]:
    signs = ev.get("signs")
    if not isinstance(signs, list):
        return []
    used.update({"signs", "score"})
    out = []
    score, threshold = ev.get("score"), ev.get("threshold")
    if _number(score) and _number(threshold):
        out.append(f"盗用迹象合计 {score:.1f} 分（达到 {threshold:.1f} 分即判为疑似盗用）：")
    for s in signs[: max(room.items, 3)]:
        if isinstance(s, dict):
            points = f"（+{s['score']:.1f} 分）" if _number(s.get("score")) else ""
            out.append(NESTED + f.safe(s.get("title") or "", room.chars) + points)
    return out


def _comments(ev, f, tz, now, room, used, said) -> list[str]:
    off = ev.get("comments_off")
    if not isinstance(off, list):
        return []
    used.add("comments_off")
    out = []
    posts = [x for x in off if isinstance(x, dict) and x.get("where") == "post"]
    if any(isinstance(x, dict) and x.get("where") == "profile" for x in off):
        out.append("账号设置为不允许评论")
    if posts:
        refs = "、".join(_post_ref(p, f) for p in posts[: room.items])
        out.append(f"{len(posts)} 条内容关闭了评论：{refs}")
    return out


def _questions(ev, f, tz, now, room, used, said) -> list[str]:
    """互动回应: each public question with who asked (masked), when, its deadline, the post."""
    qs = ev.get("questions")
    if not (isinstance(qs, list) and qs and all(isinstance(q, dict) for q in qs)):
        return []
    used.add("questions")
    out = [f"公众提问 {len(qs)} 条" + ("：" if room.items else "")]
    for q in qs[: room.items]:
        asked, deadline = parse_time(q.get("asked_at")), parse_time(q.get("deadline"))
        answered = parse_time(q.get("answered_at"))
        line = f"「{f.safe(q.get('question') or '', min(room.chars, 80))}」"
        line += f"（{f.safe(q.get('asker') or '', 20)}"
        line += f"，{shown(asked, tz)} 提问" if asked else ""
        line += f"，应于 {shown(deadline, tz)} 前回复" if deadline else ""
        line += f"，{shown(answered, tz)} 才回复" if answered else ""
        out.append(NESTED + line + "） " + _post_ref(q, f))
    if len(qs) > room.items > 0:
        out.append(NESTED + f"……其余 {len(qs) - room.items} 条见控制台的问题页")
    return out


# -- apps -------------------------------------------------------------------------------------


def _app(ev, f, tz, now, room, used, said) -> list[str]:
    if "download_url" not in ev:
        return []
    used.update(
        {"download_url", "final_url", "redirects", "status_code", "content_type", "length"}
        | {"page_kind", "problems", "registered_host", "final_host", "tls_valid"}
        | {"tls_days_left", "expected", "observed", "observed_signer", "pinned_signer"}
    )
    out = []
    hijacked = ev.get("page_kind") == "hijacked"
    url = safe_url(ev.get("download_url") or "")
    if url and not hijacked:
        out.append("下载地址：" + f.link(host_of(url), url))
    elif ev.get("download_url"):
        out.append("下载地址：" + f.safe(flagged(ev["download_url"]), room.chars))
    if ev.get("final_url"):
        out.append("实际下载自：" + f.safe(flagged(ev["final_url"]), room.chars))
    redirects = ev.get("redirects")
    if isinstance(redirects, list) and redirects:
        hops = [_hop(r, f) for r in redirects[:4]]
        if final := _host(ev.get("final_url")):
            hops.append(final)
        out.append(f"经 {len(redirects)} 次跳转：" + " → ".join(hops))
    answer = []
    if _number(ev.get("status_code")):
        answer.append(f"HTTP {ev['status_code']}")
    kind = str(ev.get("content_type") or "")
    if kind:
        answer.append("安装包" if kind.startswith(APK_TYPE) else f.safe(kind, 60))
    if _number(ev.get("length")):
        answer.append(_size(ev["length"]))
    if answer:
        out.append("下载返回：" + "，".join(answer))
    if PAGE_KINDS.get(str(ev.get("page_kind"))):
        out.append(PAGE_KINDS[str(ev.get("page_kind"))])
    if ev.get("registered_host") and ev.get("final_host") and "登记的下载域名" not in said:
        out.append(
            f"登记的下载域名为 {f.safe(ev['registered_host'], 80)}，"
            f"实际从 {f.safe(ev['final_host'], 80)} 下载"
        )
    if ev.get("tls_valid") is False:
        out.append("HTTPS 证书无效")
    elif _number(ev.get("tls_days_left")) and ev["tls_days_left"] < 30:
        out.append(f"HTTPS 证书还有 {max(0, int(ev['tls_days_left']))} 天到期")
    if ev.get("expected"):
        seen = f.safe(ev.get("observed") or "（无法读取）", 80)
        out.append(f"登记包名 {f.safe(ev['expected'], 80)}，实际为 {seen}")
    if ev.get("pinned_signer") or ev.get("observed_signer"):
        pinned = _fingerprint(ev.get("pinned_signer"), f)
        seen = _fingerprint(ev.get("observed_signer"), f) or "无法确认"
        if pinned:
            out.append(f"签名证书 SHA-256：登记 {pinned}，实际 {seen}")
        else:
            out.append(f"本次看到的签名证书 SHA-256：{seen}")
    problems = ev.get("problems")
    if isinstance(problems, list) and problems:
        said = [p for p in problems[: room.items] if str(p) not in said]
        out += ["问题：" + f.safe(p, room.chars) for p in said]
    return out


def _stores(ev, f, tz, now, room, used, said) -> list[str]:
    stores = ev.get("stores")
    if not isinstance(stores, list):
        return []
    used.add("stores")
    return [
        "应用商店：" + f.safe(s.get("detail") or "查不到该客户端", room.chars)
        for s in stores[: room.items]
        if isinstance(s, dict)
    ]


# -- helpers ----------------------------------------------------------------------------------


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _size(n: float) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} 字节"


def _host(url: object) -> str:
    return flagged(url) if url else ""


def _hop(redirect: object, f: Format) -> str:
    """One hop of a download's redirects ("302 https://…") as "host（302）"."""
    status, _, url = str(redirect).partition(" ")
    if not status.isdigit():
        return f.safe(flagged(redirect), 80)
    return f"{f.safe(flagged(url), 80)}（{status}）"


def _fingerprint(value: object, f: Format) -> str:
    """A certificate's SHA-256 as people compare it: the first and last eight hex digits."""
    text = str(value or "").replace(":", "").lower()
    if not re.fullmatch(r"[0-9a-f]{16,}", text):
        return f.safe(value, 40) if value else ""
    return f"{text[:8]}…{text[-8:]}"


_PARTS: tuple[Part, ...] = (
    _latest_post,
    _ignored_posts,
    _stale_notes,
    _theft,
    _posts,
    _comments,
    _questions,
    _app,
    _stores,
    _fetch,
)
