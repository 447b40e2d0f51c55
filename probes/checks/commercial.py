"""Commercial content: ads and commercial links in government posts (problem 1 of the eight).

An accusation that turns out wrong teaches duty officers to ignore alerts, so the verdict is
built from evidence of different strengths:

- a link whose *final* host is deny-listed (e-commerce, ad networks), a 淘口令 share code, or
  lexicon words with a contact bait or an unknown external link: ``commercial`` (high);
- words alone count only when several distinct words (weighted: 贷款 is common in 公积金 news)
  add up; a post that is *about* fraud (诈骗, 警惕, 反诈...) quotes spam words to warn, so its
  words and contact baits do not count, only its links do;
- public-welfare sales (消费帮扶, 助农) and official service mini-programs go to
  ``commercial_review`` (info): a person decides — a welfare word alone is news of a policy
  (乡村振兴 in a meeting notice): it needs what makes a sale, a price, a shop, an order verb
  or a link.

Lexicons and domain lists are data files (``probes/data``) users extend without code.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import tldextract

from probes.checks.commercial_kinds import FINDING_KINDS
from probes.checks.lexicons import (
    DomainLists,
    Lexicons,
    default_domains,
    default_lexicons,
)
from probes.checks.lexicons import load_lexicons as load_lexicons  # re-exported (bench, tests)
from probes.checks.links import host_of, post_links, unwrap
from probes.checks.lists import Lists, default_lists
from probes.checks.registry import Context, register
from probes.evidence import AdPost, Posts
from probes.model import Observation, Post, Severity, Signal

DATA = Path(__file__).resolve().parent.parent / "data"
#: lexicon files that accuse; other files in the directory only qualify (context, welfare)
CATEGORIES = ("commerce", "loans", "gambling", "crypto", "adult", "parttime")
CATEGORY_NAMES = {
    "commerce": "商业推广",
    "loans": "网贷",
    "gambling": "赌博",
    "crypto": "虚拟币/荐股",
    "adult": "低俗",
    "parttime": "兼职刷单",
    "fraud_context": "反诈语境",
    "welfare": "公益帮扶",
}
#: categories whose words are never public-welfare: welfare context does not soften them
HARD = frozenset({"gambling", "adult", "crypto", "parttime", "loans"})
WORD_THRESHOLD = 2.0  # summed weight of distinct words that accuses without other evidence

_TAOKOULING = re.compile(
    r"[￥$€₤¢₳₴][A-Za-z0-9]{8,14}[￥$€₤¢₳₴]|[(（]\s*[A-Za-z0-9]{10,13}\s*[)）]\s*(?:/|打开|复制)|"
    r"复制这段描述|复制(?:本条)?(?:信息|口令).{0,12}打开.{0,6}(?:淘宝|手淘|天猫|京东|拼多多)",
)
# no two quantifiers may share the same characters (``\s*[:：]?\s*`` split a run of spaces
# every way, quadratic in its length): the regexes stay linear on any text
_CONTACT = re.compile(
    r"(?:加|\+|➕|添加|私信|联系)\s*(?:微信|薇信|威信|V信|v信|VX|vx|Vx|wx|WX|微|V|v|扣扣|QQ|qq)"
    r"\s*(?:[:：]\s*)?[A-Za-z][-_A-Za-z0-9]{5,19}"
    r"|(?:微信|VX|vx|V信|v信|薇信|wx)(?:号)?\s*[:：]\s*[A-Za-z0-9][-_A-Za-z0-9]{5,19}"
    r"|(?:QQ|qq|扣扣)(?:号|群)?\s*(?:[:：]\s*)?[1-9][0-9]{4,10}"
    r"|(?:加|\+)\s*(?:微信|VX|vx|V信|v信|微)"
    r"|(?<![A-Za-z])[Vv][:：]\s*[A-Za-z0-9][-_A-Za-z0-9]{5,19}"
)
# what makes a 消费帮扶/助农 post a sale rather than news of a policy: a price, a shop, an
# order verb (a link counts too, in judge_post). 领取/发放/免费领取 are not: a subsidy or a
# free course is handed out, not sold; 政府购买服务 is procurement; 商城县, 小店区 are places
_SALE = re.compile(
    r"下单|购买(?!服务)|订购|抢购|选购|购物|包邮|领券|优惠券|满\d+减|秒杀|特价|促销|到手价"
    r"|店铺|网店|商城(?!县)|旗舰店|直播间|小店(?!区)|专柜|橱窗|购物车|扫码购"
    r"|[￥¥]\s?\d|\d+(?:\.\d+)?\s?元\s?/\s?(?:斤|公斤|千克|kg|件|盒|箱|袋|瓶|份|个|只|提|包)"
)
# an anchor whose text shows one domain while its href goes to another: a disguise
# (the tag's attributes bounded: an unclosed ``<a`` scanned to the end from each one)
_ANCHOR = re.compile(r"""<a\b([^>]{0,2000}+)>([^<]{4,200})</a>""", re.I)
_ANCHOR_HREF = re.compile(r"""\bhref=["']([^"']+)["']""", re.I)
_DOMAINISH = re.compile(r"(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})", re.I)
_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9][-\s]?[0-9]{4}[-\s]?[0-9]{4}(?![0-9])")


@cache
def _extractor() -> tldextract.TLDExtract:
    # bundled suffix list only: a patrol box may have no internet, and must not phone out
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """``news.sina.com.cn`` -> ``sina.com.cn``; IPs and unknown suffixes come back as given."""
    ext = _extractor()(host)
    return ext.top_domain_under_public_suffix or host


def _listed(host: str, listed: frozenset[str]) -> str | None:
    """The most specific entry of ``listed`` that ``host`` is or lies under."""
    labels = host.split(".")
    for i in range(len(labels)):
        cand = ".".join(labels[i:])
        if cand in listed:
            return cand
    return None


def classify_link(url: str, lists: DomainLists | None = None) -> tuple[str, str]:
    """-> (verdict, reason): verdict one of allow, deny, miniprogram_official, miniprogram,
    weixin_business, unknown. Judges the host, never the text that shows it."""
    lists = lists or default_domains()
    scheme = url.split(":", 1)[0].lower()
    if scheme == "miniprogram":
        parts = urlsplit(url)
        appid = parts.netloc
        name = (parse_qs(parts.query).get("name") or [""])[0]
        if appid in lists.miniprograms or (name and name in lists.miniprograms):
            return "miniprogram_official", name or appid
        return "miniprogram", name or appid
    if scheme == "weixin":
        return "weixin_business", url
    host = host_of(url)
    if not host:
        return "unknown", url
    if len(host) > 253:  # no such name resolves (RFC 1035); _listed is quadratic in its labels
        return "unknown", host[:60] + "…"
    if host == "wxaurl.cn":
        return "miniprogram", host
    deny = _listed(host, lists.deny)
    allow = _listed(host, lists.allow)
    # the more specific entry wins: s.click.taobao.com over an allowed parent, and so on
    if deny and (not allow or len(deny) >= len(allow)):
        return "deny", deny
    if allow:
        return "allow", allow
    reg = registrable_domain(host)
    if reg in lists.deny:
        return "deny", reg
    return "unknown", reg


@dataclass
class Hit:
    category: str
    word: str
    weight: float
    context: str


@dataclass
class PostVerdict:
    """What one post shows; ``level`` is None, "review" or "commercial"."""

    post: Post
    level: str | None = None
    reasons: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    baits: list[str] = field(default_factory=list)
    fraud_context: list[str] = field(default_factory=list)
    welfare: list[str] = field(default_factory=list)

    def evidence(self) -> AdPost:
        words = [{"category": h.category, "word": h.word, "context": h.context} for h in self.hits]
        extra = {"welfare": self.welfare, "fraud_context": self.fraud_context}
        post = AdPost(
            post_id=self.post.id,
            post_url=self.post.url,
            reasons=self.reasons,
            words=words or None,
            links=self.links or None,
            contact=self.baits or None,
            extra={k: v for k, v in extra.items() if v},
        )
        return post.said(level=self.level)


def _context(text: str, start: int, end: int, width: int = 12) -> str:
    return text[max(0, start - width) : end + width].replace("\n", " ")


def scan_words(text: str, lex: Lexicons | None = None) -> list[Hit]:
    """Every lexicon match, one per distinct word, with the text around it."""
    lex = lex or default_lexicons()
    low = text.lower()
    seen: set[str] = set()
    hits: list[Hit] = []
    for end, entries in lex.automaton.iter(low):
        for category, word, weight in entries:
            if word in seen:
                continue
            seen.add(word)
            start = end - len(word) + 1
            hits.append(Hit(category, word, weight, _context(text, start, end + 1)))
    return hits


def _text_of(post: Post) -> str:
    return f"{post.title}\n{post.text}" if post.title else post.text


def judge_post(
    post: Post, lex: Lexicons | None = None, lists: DomainLists | None = None
) -> PostVerdict:
    """One post's verdict, with the evidence that led to it."""
    text = _text_of(post)
    v = PostVerdict(post)
    all_hits = scan_words(text, lex)
    v.fraud_context = [h.word for h in all_hits if h.category == "fraud_context"]
    v.welfare = [h.word for h in all_hits if h.category == "welfare"]
    hits = [h for h in all_hits if h.category in CATEGORIES]
    about_fraud = sum(h.weight for h in all_hits if h.category == "fraud_context") >= 1
    all_links = post_links(post)
    for link in all_links:
        verdict, reason = classify_link(link, lists)
        if verdict != "allow":
            v.links.append({"url": link, "verdict": verdict, "domain": reason})
    kinds = {x["verdict"] for x in v.links}
    taokouling = _TAOKOULING.search(text)
    baits = [m.group(0) for m in _CONTACT.finditer(text)] + [
        m.group(0) for m in _PHONE.finditer(text)
    ]
    v.baits = baits
    v.hits = hits
    score = sum(h.weight for h in hits)
    hard = any(h.category in HARD for h in hits)
    words = hits and not about_fraud

    accuse: list[str] = []
    review: list[str] = []
    if "deny" in kinds:
        accuse.append("链接指向电商/广告域名")
    if disguised := _disguised_links(text, all_links):
        accuse.append("链接伪装为其他域名（" + "、".join(disguised[:2]) + "）")
    if taokouling and not about_fraud:
        accuse.append(f"含淘口令（{taokouling.group(0)}）")
    if words and score >= WORD_THRESHOLD:
        accuse.append("含多个商业/垃圾广告词")
    if words and baits and (score >= 1 or hard):
        accuse.append("广告词并附联系方式")
    if words and kinds & {"unknown", "miniprogram", "weixin_business"}:
        accuse.append("广告词并附外部链接或小程序")
    if "miniprogram_official" in kinds:
        review.append("含政务服务小程序")
    if kinds & {"miniprogram", "weixin_business"} and not accuse:
        review.append("含非政务小程序或跳转链接")
    if v.welfare and not accuse and (v.links or _SALE.search(text)):
        review.append(f"公益帮扶/惠民销售（{v.welfare[0]}）")
    # 消费帮扶 sells on purpose: unless hard spam words or a share code, a person decides
    if v.welfare and accuse and not hard and not taokouling:
        review.extend(f"公益帮扶（{w}）" for w in v.welfare[:1])
        review.extend(accuse)
        accuse = []
    if accuse:
        v.level, v.reasons = "commercial", accuse
    elif review:
        v.level, v.reasons = "review", review
    return v


def _disguised_links(text: str, links: Sequence[str]) -> list[str]:
    """Anchors showing a domain other than where they lead, and hosts dressed as gov.cn
    (``www.gov.cn.example.com``): the text is what people trust, the host is what they get."""
    out: list[str] = []
    if not links:
        return out
    for attrs, shown in _ANCHOR.findall(text):
        if (href := _ANCHOR_HREF.search(attrs)) is None:
            continue
        real = host_of(unwrap(html.unescape(href.group(1))))
        if not real:
            continue
        m = _DOMAINISH.search(shown.strip())
        if m and registrable_domain(m.group(1).lower()) != registrable_domain(real):
            out.append(f"显示 {m.group(1)}，实为 {real}")
    for link in links:
        host = host_of(link)
        if "gov.cn" in host and not (host == "gov.cn" or host.endswith(".gov.cn")):
            out.append(f"仿冒政府域名 {host}")
    return list(dict.fromkeys(out))


# A post already judged is not judged again: a news list that gained one item shows the
# other 99 as they were, and the theft detector asks of the same posts. Keyed by a digest
# of what judge_post reads (the post's text is not held), valid for the process's lexicons
# and domain lists (loaded once). Only posts with a level keep their verdict; a clean post
# keeps nothing but its key: ~100 bytes an entry, ~6 MiB when full.
_MEMO_SIZE = 65536
_memo: OrderedDict[bytes, PostVerdict | None] = OrderedDict()


def _content_key(post: Post, version: str = "") -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for part in (version, post.id, post.url, post.title, post.text, *post.links):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.digest()


def judged(post: Post, wl: Lists | None = None) -> PostVerdict | None:
    """``post``'s verdict by the default lexicons and lists if it has a level, else None;
    a post with the same id and content as one judged before is looked up, not judged."""
    wl = wl or default_lists()
    key = _content_key(post, wl.version)
    try:
        v = _memo[key]
        _memo.move_to_end(key)
    except KeyError:
        v = judge_post(post, wl.lexicons, wl.domains)
        v = v if v.level else None
        _memo[key] = v
        if len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    # the verdict names this post (its pin or time may differ from the one judged first)
    return v if v is None or v.post is post else replace(v, post=post)


def judge_posts(posts: Iterable[Post], wl: Lists | None = None) -> list[PostVerdict]:
    """The verdicts with a level, in the posts' order (by ``wl``, default the shipped lists)."""
    return [v for p in posts if (v := judged(p, wl))]


def _summary(verdicts: Sequence[PostVerdict]) -> str:
    lines = []
    for v in verdicts[:5]:
        what = "、".join(v.reasons)
        sample = (v.post.title or v.post.text)[:40].replace("\n", " ")
        lines.append(f"{v.post.id or v.post.url}：{what}（{sample}）")
    if len(verdicts) > 5:
        lines.append(f"等共 {len(verdicts)} 条")
    return "\n".join(lines)


#: a verdict's level → its signal: kind, severity, title (``n`` posts), rule
SIGNALS = (
    ("commercial", "commercial", Severity.high, "发布或链接商业广告（{n} 条）", "commercial"),
    ("review", "commercial_review", Severity.info, "含商品销售或小程序，需人工复核（{n} 条）",
     "commercial.review"),
)  # fmt: skip


@register("commercial", FINDING_KINDS)
def detect_commercial(obs: Observation, ctx: Context) -> list[Signal]:
    """One ``commercial`` (high) and/or one ``commercial_review`` (info) signal per observation,
    judged on the posts this observation saw (history was judged when it was new)."""
    verdicts = judge_posts(obs.posts, ctx.lists if ctx is not None else None)
    signals: list[Signal] = []
    for level, kind, severity, title, rule in SIGNALS:
        if vs := [v for v in verdicts if v.level == level]:
            signals.append(
                Signal(
                    kind=kind,
                    severity=severity,
                    title=title.format(n=len(vs)),
                    detail=_summary(vs),
                    rule=rule,
                    evidence=Posts(posts=[v.evidence() for v in vs[:20]]).to_dict(),
                )
            )
    return signals
