"""Commercial, theft and content detectors, measured: ``python bench/detectors.py [--seconds N]``.

Prints precision and recall per category over ``tests/corpus``, every case that fails, the
lexicons' load time and memory, and posts scanned per second on one core (CPU time); then
each detector's CPU time per 10,000 posts in the worst shapes (posts all in one second, a
previous look as large, many links, very long texts) and the CPU time of checking a
26,000-item feed end to end (issue 19: under 2 s). ``--content-only``: the content family
alone (precision and recall per rule over ``tests/corpus/content_posts.json``, posts/s on one
core with every list and the roster loaded, goal >= 20,000; 200,000-character texts); the
clean cases by kind (quoted corrections, longer right words, debated usage, plain posts).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "corpus"))

from corpus_cases import AccountCase, PostCase, load_accounts, load_posts  # noqa: E402

from probes.checks import Context, merge_posts  # noqa: E402
from probes.checks.calendar import WorkCalendar  # noqa: E402
from probes.checks.commercial import judge_post, load_lexicons, scan_words  # noqa: E402
from probes.checks.rules import BUILTIN_RULESETS  # noqa: E402
from probes.checks.theft import detect_theft  # noqa: E402


def _clock() -> float:
    # CPU time of this process: rates per core stay honest on a busy machine, where wall time
    # would also count other processes' turns
    return time.process_time()


def post_verdict(case: PostCase) -> str:
    """The detector's label for one post: commercial, review or clean."""
    level = judge_post(case.post).level
    return {"commercial": "commercial", "review": "review"}.get(level or "", "clean")


def account_verdict(case: AccountCase, calendar: WorkCalendar) -> tuple[str, list[str]]:
    cur = case.snapshots[-1]
    prev = case.snapshots[-2] if len(case.snapshots) > 1 else None
    history = [p for s in case.snapshots[:-1] for p in s.posts]
    ctx = Context(
        ruleset=BUILTIN_RULESETS["national"],
        calendar=calendar,
        now=case.now,
        posts=merge_posts(cur.posts, history),
        previous=prev,
        registered_name=case.registered_name,
        home_province=case.home_province,
        account_status=case.account_status,
    )
    sigs = detect_theft(cur, ctx)
    theft = [s for s in sigs if s.kind == "theft"]
    signs = [x["code"] for x in theft[0].evidence["signs"]] if theft else []
    return ("stolen" if theft else "clean"), signs


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r


def quality() -> None:
    posts = load_posts()
    accounts = load_accounts()
    print(f"corpus: {len(posts)} post cases, {len(accounts)} account sequences")
    failures: list[str] = []
    # posts: positive = commercial; review is its own label (only "clean" is a false positive)
    by_cat: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for c in posts:
        got = post_verdict(c)
        by_cat[c.category].append((c.label, got))
        if got != c.label:
            failures.append(f"  {c.id}: expected {c.label}, got {got}  {c.note}")
    tp = sum(1 for c in posts if c.label == "commercial" and post_verdict(c) == "commercial")
    fn = sum(1 for c in posts if c.label == "commercial" and post_verdict(c) != "commercial")
    fp = sum(1 for c in posts if c.label != "commercial" and post_verdict(c) == "commercial")
    clean = [c for c in posts if c.label == "clean"]
    flagged = [c for c in clean if post_verdict(c) != "clean"]
    p, r = _pr(tp, fp, fn)
    print(f"\ncommercial posts: precision {p:.3f}  recall {r:.3f}  (tp {tp}, fp {fp}, fn {fn})")
    review = [c for c in posts if c.label == "review"]
    review_ok = sum(1 for c in review if post_verdict(c) == "review")
    print(f"needs-review posts: {review_ok}/{len(review)} sent to review")
    print(
        f"clean posts flagged (any level): {len(flagged)}/{len(clean)} "
        f"= {len(flagged) / max(len(clean), 1):.1%}"
    )
    print("\nper category (post cases): label -> detector")
    for cat in sorted(by_cat):
        pairs = by_cat[cat]
        ok = sum(1 for want, got in pairs if want == got)
        print(f"  {cat:24s} {ok}/{len(pairs)} correct")

    cal = WorkCalendar()
    tp = fp = fn = 0
    acc_cat: dict[str, list[bool]] = defaultdict(list)
    for c in accounts:
        got, signs = account_verdict(c, cal)
        acc_cat[f"{c.label}:{c.category}"].append(got == c.label)
        tp += c.label == "stolen" and got == "stolen"
        fn += c.label == "stolen" and got != "stolen"
        fp += c.label != "stolen" and got == "stolen"
        if got != c.label:
            failures.append(f"  {c.id}: expected {c.label}, got {got} signs={signs}  {c.note}")
    p, r = _pr(tp, fp, fn)
    n_clean = sum(1 for c in accounts if c.label == "clean")
    print(f"\nstolen accounts: precision {p:.3f}  recall {r:.3f}  (tp {tp}, fp {fp}, fn {fn})")
    print(f"clean accounts flagged: {fp}/{n_clean}")
    print("\nfailing cases:" if failures else "\nfailing cases: none")
    print("\n".join(failures))


def speed(seconds: float) -> None:
    tracemalloc.start()
    t = _clock()
    lex = load_lexicons()
    load_s = _clock() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\nlexicons: {lex.words} words, load {load_s * 1000:.1f} ms, peak {peak / 1024:.0f} KiB")
    posts = [c.post for c in load_posts()]
    judge_post(posts[0])  # warm caches (tldextract, domain lists)
    n = 0
    t = _clock()
    while _clock() - t < seconds:
        for p in posts:
            judge_post(p)
        n += len(posts)
    rate = n / (_clock() - t)
    print(f"commercial scan: {rate:,.0f} posts/s on one core (corpus mix, goal >= 20,000)")
    clean = [c.post for c in load_posts() if c.label == "clean"]
    print(f"commercial scan, clean posts only: {_rate(clean, seconds):,.0f} posts/s")
    _scaled(posts, seconds)


def _rate(posts: list, seconds: float) -> float:
    n = 0
    t = _clock()
    while _clock() - t < seconds:
        for p in posts:
            judge_post(p)
        n += len(posts)
    return n / (_clock() - t)


def _scaled(posts: list, seconds: float, words: int = 20_000) -> None:
    """Lexicons grow: load and scan cost with a synthetic 20,000-word lexicon.

    Words are drawn from 2,500 characters, about the common-character set real words use:
    pyahocorasick scans a node's children linearly, so words spread over all 20,000 CJK
    characters (thousands of distinct first characters) scan ~10x slower than real ones.
    """
    rnd = random.Random(5)
    alphabet = [chr(0x4E00 + i * 8) for i in range(2500)]
    with tempfile.TemporaryDirectory() as d:
        for cat in ("commerce", "loans", "gambling", "crypto", "adult", "parttime"):
            lines = {
                "".join(rnd.choice(alphabet) for _ in range(rnd.randint(2, 5)))
                for _ in range(words // 6)
            }
            (Path(d) / f"{cat}.txt").write_text("\n".join(lines), encoding="utf-8")
        tracemalloc.start()
        t = _clock()
        lex = load_lexicons(Path(d))
        load_s = _clock() - t
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    texts = [f"{p.title}\n{p.text}" for p in posts]
    n = 0
    t = _clock()
    while _clock() - t < seconds:
        for x in texts:
            scan_words(x, lex)
        n += len(texts)
    rate = n / (_clock() - t)
    print(
        f"scaled lexicon: {lex.words} words, load {load_s * 1000:.0f} ms, "
        f"peak {peak / 1024 / 1024:.1f} MiB, word scan {rate:,.0f} posts/s"
    )


def _cpu(fn, *args, **kw):  # type: ignore[no-untyped-def]
    t = _clock()
    out = fn(*args, **kw)
    return _clock() - t, out


def worst() -> None:
    """Each detector on the shapes that were quadratic, per 10,000 posts (CPU time)."""
    from datetime import UTC, datetime, timedelta

    from probes.checks import commercial, content, evaluate
    from probes.checks.staleness import digest_posts, evaluate_staleness, posts_from_digest
    from probes.checks.theft import theft_signs
    from probes.model import Observation, Outcome, Post, Profile

    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    at = now - timedelta(hours=3)
    n = 26_000
    per = 10_000 / n
    cal, rules = WorkCalendar(), BUILTIN_RULESETS["national"]
    posts = [Post(f"f{k}", at, text="通知", url=f"https://a.gov.cn/{k}") for k in range(n)]
    old = [Post(f"p{k}", at - timedelta(days=60, minutes=k)) for k in range(n)]
    cur = Observation("a", "rss", "u", now, Outcome.ok, profile=Profile(name="x"), posts=posts)
    prev = Observation("a", "rss", "u", now - timedelta(days=1), Outcome.ok, posts=old)
    merged = merge_posts(posts, old)
    ctx = Context(ruleset=rules, calendar=cal, now=now, posts=merged, previous=prev)
    print(f"\nworst shapes: {n:,} posts in one second, a previous look of {n:,} (CPU per 10,000)")
    rows = [
        ("merge_posts", lambda: merge_posts(posts, old)),
        ("staleness", lambda: evaluate_staleness(merged, rules, cal, now)),
        ("digest_posts + posts_from_digest", lambda: posts_from_digest(digest_posts(merged))),
        ("theft (burst, dormancy, old posts)", lambda: theft_signs(cur, ctx)),
        ("commercial, first look", lambda: [commercial.judge_post(p) for p in posts]),
        ("commercial, memoised", lambda: commercial.judge_posts(posts)),
        ("content, first look", lambda: [content.judge_content(p, "qx") for p in posts]),
        ("evaluate, all detectors", lambda: evaluate(
            cur, ruleset=rules, calendar=cal, now=now, history_posts=old, previous=prev)),
    ]  # fmt: skip
    for name, fn in rows:
        seconds, _ = _cpu(fn)
        print(f"  {name:38s} {seconds * per * 1000:8.1f} ms")
    long = 200_000
    texts = {
        "加微信 + 200,000 spaces": "加微信" + " " * long,
        "200,000 chars of unclosed <a": "<a " * (long // 3),
        "unclosed <mp-miniprogram tags": "<mp-miniprogram data-x='1' " * (long // 30),
        "200,000 chars, a bait at the end": "通知" * (long // 2) + " 兼职刷单日结，加微信 sd88888",
    }
    print("very long texts, one post each (CPU)")
    for name, text in texts.items():
        seconds, _ = _cpu(commercial.judge_post, Post("t", at, text=text))
        print(f"  {name:38s} {seconds * 1000:8.1f} ms")
    links = [f"https://site{k}.example.org/p" for k in range(10_000)]
    seconds, _ = _cpu(commercial.judge_post, Post("l", at, links=links))
    print(f"  {'one post with 10,000 links':38s} {seconds * 1000:8.1f} ms")


def end_to_end() -> None:
    """A 26,000-item feed (one pubDate, ~4.9 MB) from 127.0.0.1 checked through the real
    path (fetch, parse, cap, judge, write), CPU time of this process (thread writer)."""
    from datetime import UTC, datetime, timedelta

    import anyio

    from monitor.patrol.pipeline import check
    from tests.conftest import add_account, add_unit, make_settings, open_app
    from tests.localfeeds import flood_feed
    from tests.localserver import LocalServer, Reply

    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    body = flood_feed(26_000, now - timedelta(hours=3))
    feed = Reply(body=body, headers={"Content-Type": "application/rss+xml; charset=utf-8"})
    with tempfile.TemporaryDirectory() as d, LocalServer({"/f.xml": feed}) as srv:
        app = open_app(make_settings(Path(d), patrol={"writer": "thread"}))
        add_unit(app, "u1")
        for k in range(2):
            add_account(app, f"a{k}", "u1", srv.url("/f.xml"))

        async def go(account: str):  # type: ignore[no-untyped-def]
            async with app.probing() as tools:
                return await check(app, tools, account, now=now)

        anyio.run(go, "a0")  # warm: imports, lexicons, the schema
        t, wall = _clock(), time.perf_counter()
        result = anyio.run(go, "a1")
        cpu, wall = _clock() - t, time.perf_counter() - wall
        app.close()
    print(
        f"\nend to end: {len(body) / 1e6:.2f} MB feed of 26,000 items, one pubDate: "
        f"{cpu:.2f} s CPU, {wall:.2f} s wall (goal < 2 s CPU); "
        f"kept {result.snapshot.post_count} posts, signals {[s.kind for s in result.signals]}"
    )


def content(seconds: float) -> None:
    """The content family: quality per rule, then speed (first looks, not the memo)."""
    from content_cases import RULES, corpus_roster, load_content

    from probes.checks.content import judge_content
    from probes.checks.lists import load_lists
    from probes.model import Post

    cases = load_content()
    roster = corpus_roster()
    t = _clock()
    lists = load_lists()  # every shipped list: word lists, patterns, privacy words, lexicons
    load_s = _clock() - t
    wording, words = lists.wording, lists.words
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    failures = []
    clean = [c for c in cases if not c.expect]
    flagged = 0
    traps: dict[str, list[bool]] = defaultdict(list)  # the traps by kind: clean as they must be
    for c in cases:
        on = c.post.published_at.date() if c.post.published_at else None
        got = {f.rule for f in judge_content(c.post, c.owner, on, roster=roster).findings}
        if not c.expect:
            traps[c.note or c.category].append(not got)
        for r in RULES:
            tp[r] += r in got and r in c.expect
            fp[r] += r in got and r not in c.expect
            fn[r] += r not in got and r in c.expect
        flagged += bool(got) and not c.expect
        if got != c.expect:
            failures.append(f"  {c.id}: expected {sorted(c.expect)}, got {sorted(got)}")
    print(f"\ncontent corpus: {len(cases)} posts ({len(clean)} clean), "
          f"word lists {wording.words} entries in {len(lists.files)} files, all lists loaded "
          f"in {load_s * 1000:.1f} ms")  # fmt: skip
    print(f"  {'rule':20s} {'precision':>9s} {'recall':>7s}   tp  fp  fn")
    for r in RULES:
        p, rec = _pr(tp[r], fp[r], fn[r])
        print(f"  {r:20s} {p:9.3f} {rec:7.3f}  {tp[r]:3d} {fp[r]:3d} {fn[r]:3d}")
    print(f"  clean posts flagged: {flagged}/{len(clean)} = {flagged / max(len(clean), 1):.1%}"
          "  (goal <= 1%)")  # fmt: skip
    print("  clean cases by kind (kept clean / all):")
    for kind, ok in sorted(traps.items()):
        print(f"    {kind[:60]:60s} {sum(ok)}/{len(ok)}")
    _context_rules(lists, cases)
    print("  failing cases:" if failures else "  failing cases: none")
    print("\n".join(failures))
    jobs = [(c.post, c.owner, c.post.published_at.date() if c.post.published_at else None)
            for c in cases]  # fmt: skip
    n = 0
    t = _clock()
    while _clock() - t < seconds:
        for post, owner, on in jobs:
            judge_content(post, owner, on, wording=wording, roster=roster, words=words)
        n += len(jobs)
    rate = n / (_clock() - t)
    print(f"content scan: {rate:,.0f} posts/s on one core (corpus mix, goal >= 20,000)")
    long = 200_000
    texts = {
        "200,000 digits": "1" * long,
        "card-like groups": "6228 " * (long // 5),
        "titles": "县长" * (long // 2),
        "10,000 phones beside 户主": ("户主张某 13812345678 " * 10_000)[:long],
        "slang words": "家人们" * (long // 3),
    }
    print("content, very long texts, one post each (CPU)")
    for name, text in texts.items():
        secs, _ = _cpu(judge_content, Post("t", None, text=text), "qx", None, roster=roster)
        print(f"  {name:38s} {secs * 1000:8.1f} ms")


def _context_rules(lists, cases) -> None:  # type: ignore[no-untyped-def]
    """What each context rule is worth: the traps it keeps clean, measured by scanning them
    again with the rule taken out (the longer right words; the correction words)."""
    from dataclasses import replace

    from probes.checks.content import text_of
    from probes.checks.wording import build_wording, scan

    no_allow = build_wording(
        [replace(f, entries=[replace(e, allow=()) for e in f.entries]) for f in lists.files],
        lists.wording.markers,
    )
    no_markers = build_wording(lists.files, ())
    rows = [("boundary", "longer right words (按装修, 城区区委…)", no_allow),
            ("corrected", "quoted and corrected forms", no_markers)]  # fmt: skip
    for kind, what, without in rows:
        traps = [c for c in cases if c.note == kind]
        with_rule = sum(bool(scan(text_of(c.post), lists.wording)) for c in traps)
        without_rule = sum(bool(scan(text_of(c.post), without)) for c in traps)
        print(f"  rule for {what}: {kind} traps flagged {with_rule}/{len(traps)} with it, "
              f"{without_rule}/{len(traps)} without")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--worst-only", action="store_true", help="only the worst shapes")
    ap.add_argument("--content-only", action="store_true", help="only the content family")
    args = ap.parse_args()
    if args.content_only:
        content(args.seconds)
        return
    if not args.worst_only:
        quality()
        speed(args.seconds)
        content(args.seconds)
    worst()
    end_to_end()


if __name__ == "__main__":
    main()
