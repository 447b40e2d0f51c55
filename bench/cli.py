"""How long the commands people type take, as whole processes: ``--help`` and ``findings``.

Not a test: prints figures (min / median / max of several runs). Goals (issue 17): ``xuncha
--help`` and ``xuncha findings --help`` under 0.3 s, ``xuncha findings`` on a 10,000-account
database under 1 s.

    python bench/cli.py                          # SQLite in a temp dir, 7 runs each
    python bench/cli.py --runs 11 --accounts 20000 --findings 6000
    python bench/cli.py --db-url postgresql+psycopg://postgres@127.0.0.1/xuncha_bench

The database is built once: a province's registry (1 province, 9 cities, 90 counties, 200
departments), 10,000 accounts across the platforms, one snapshot each, 3,000 open findings of
every kind and severity (each with the 整改期限 its kind gives) and 6,000 resolved ones. Each
command then runs as ``python -m monitor`` with this tree on ``PYTHONPATH`` and the clock
fixed (``XUNCHA_CLOCK``): the figure is what a person waits for, interpreter start included.
``findings`` is timed piped (what a script reads: every row, tab-separated) and as a terminal
80 columns wide (the table a person reads: ``TTY_COMPATIBLE=1 COLUMNS=80``).

Bytecode is cached, as an installed package has it (pip compiles on install): the commands
run without ``PYTHONDONTWRITEBYTECODE`` and with their own ``PYTHONPYCACHEPREFIX`` in the
temporary directory, filled by the warm-up run, so nothing is written beside the sources.
``--no-bytecode`` measures with every module compiled from source at each start instead.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from monitor.store.engine import make_engine, upgrade  # noqa: E402
from monitor.store.models import Account, Finding, Snapshot, Unit  # noqa: E402
from probes.checks.kinds import KINDS  # noqa: E402

CLOCK = "2026-12-07T09:11:00+08:00"
NOW = datetime(2026, 12, 7, 1, 11, tzinfo=UTC)
PLATFORMS = ["weibo", "wechat", "douyin", "toutiao", "bilibili", "kuaishou", "website", "app"]
RULESETS = ["", "national", "guizhou_city", "guizhou_county", "service"]
# open problems as a real fleet has them: mostly stale warnings and fetch trouble, few vetoes
KIND_WEIGHTS = {
    "stale_soon": 30, "stale": 8, "fetch_failed": 12, "blocked": 6, "unreadable": 4,
    "gone": 3, "commercial": 4, "commercial_review": 6, "privacy": 2, "wording": 8,
    "entertainment_review": 4, "theft": 1, "app_download_unreachable": 2, "app_tls": 2,
    "app_store_missing": 4, "undated": 4,
}  # fmt: skip


def build(url: str, accounts: int, open_findings: int, resolved: int) -> None:
    rnd = random.Random(17)
    engine = make_engine(url)
    upgrade(engine)
    units = [{"code": "gz", "name": "贵州省人民政府办公厅", "parent_code": None}]
    for c in range(9):
        units.append({"code": f"c{c}", "name": f"第{c + 1}市人民政府办公室", "parent_code": "gz"})
        for k in range(10):
            units.append(
                {"code": f"c{c}k{k}", "name": f"第{c + 1}市第{k + 1}县融媒体中心",
                 "parent_code": f"c{c}"}
            )  # fmt: skip
    for d in range(200):
        units.append({"code": f"d{d}", "name": f"省直第{d + 1}厅新闻中心", "parent_code": "gz"})
    for u in units:
        u.update(level="", region="贵州省", channels=[], it_channels=[], duty_mobiles=[])
        u["updated_at"] = NOW
    owners = [u["code"] for u in units]
    rows = []
    for i in range(accounts):
        p = PLATFORMS[i % len(PLATFORMS)]
        rows.append(
            {"id": f"a{i:05d}", "platform": p, "name": f"示例政务账号{i:05d}",
             "handle": str(5_000_000 + i),
             "url": f"https://rss.example.gov.cn/{p}/user/{5_000_000 + i}.xml",
             "reader": "rss", "owner_code": rnd.choice(owners), "kind": "publish",
             "ruleset": rnd.choice(RULESETS), "status": "active", "options": {},
             "updated_at": NOW}
        )  # fmt: skip
    snaps = [
        {"id": i + 1, "account_id": r["id"],
         "taken_at": NOW - timedelta(minutes=rnd.randint(1, 600)), "outcome": "ok",
         "url": r["url"], "post_count": 20, "artifacts": []}
        for i, r in enumerate(rows)
    ]  # fmt: skip
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    findings = []
    taken: set[tuple[int, str]] = set()  # one open finding per account and kind
    for n in range(open_findings + resolved):
        is_open = n < open_findings
        while True:
            kind, acc = rnd.choices(kinds, weights)[0], rnd.randrange(accounts)
            if not is_open or (acc, kind) not in taken:
                break
        taken.add((acc, kind))
        k = KINDS[kind]
        opened = NOW - timedelta(hours=rnd.randint(1, 24 * 40))
        if kind == "stale":
            deadline = opened - timedelta(hours=rnd.randint(0, 24 * 5))  # already overdue
        elif kind == "stale_soon":
            deadline = NOW + timedelta(hours=rnd.randint(1, 48))
        else:
            deadline = opened + timedelta(hours=k.fix_hours) if k.fix_hours else None
        findings.append(
            {"account_id": rows[acc]["id"], "kind": kind, "severity": k.severity.value,
             "status": "open" if is_open else "resolved",
             "title": f"{k.label}：第 {n} 号问题的说明文字，长短与真实的相近",
             "detail": "", "rule": "", "deadline": deadline, "evidence": {},
             "opened_at": opened, "updated_at": opened,
             "resolved_at": None if is_open else opened + timedelta(hours=5),
             "first_snapshot_id": acc + 1, "last_snapshot_id": acc + 1}
        )  # fmt: skip
    with engine.begin() as c:
        c.execute(insert(Unit), units)
        c.execute(insert(Account), rows)
        c.execute(insert(Snapshot), snaps)
        for i in range(0, len(findings), 2000):
            c.execute(insert(Finding), findings[i : i + 2000])
    engine.dispose()


Timing = tuple[list[float], list[float], int, int]


def timed(cmd: list[str], env: dict[str, str], runs: int) -> Timing:
    """Wall and CPU (user + system) seconds of ``runs`` runs after one warm-up, the exit
    code and the output's lines. CPU time says less about a machine shared with other work
    than the wall clock does; both are printed."""
    warm = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, timeout=300)
        wall.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu, warm.returncode, len(warm.stdout.splitlines())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--findings", type=int, default=3_000, help="open findings")
    ap.add_argument("--resolved", type=int, default=6_000, help="resolved findings")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--db-url", default="", help="an empty database (default: SQLite)")
    ap.add_argument("--no-bytecode", action="store_true", help="compile every module at each start")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="xuncha-bench-cli-") as tmp:
        folder = Path(tmp)
        cfg = folder / "xuncha.toml"
        db = f'\n[database]\nurl = "{args.db_url}"\n' if args.db_url else ""
        cfg.write_text(f'data_dir = "{folder}"\n[logging]\nlevel = "warning"\n{db}')
        url = args.db_url or f"sqlite:///{folder / 'xuncha.db'}"
        t0 = time.perf_counter()
        build(url, args.accounts, args.findings, args.resolved)
        print(
            f"database: {args.accounts} accounts, {args.findings} open and {args.resolved} "
            f"resolved findings ({'PostgreSQL' if args.db_url else 'SQLite'}), built in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XUNCHA_", "TTY_"))}
        env.update(PYTHONPATH=str(ROOT), XUNCHA_CLOCK=CLOCK, XUNCHA_CONFIG=str(cfg))
        env.pop("FORCE_COLOR", None)
        if args.no_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        term = {**env, "TTY_COMPATIBLE": "1", "COLUMNS": "80"}
        cases = [
            ("python -c pass (the interpreter alone)", None, env),
            ("xuncha --help", ["--help"], env),
            ("xuncha findings --help", ["findings", "--help"], env),
            ("xuncha findings  (piped)", ["findings"], env),
            ("xuncha findings  (terminal, 80 columns)", ["findings"], term),
            ("xuncha findings --json", ["findings", "--json"], env),
            ("xuncha accounts  (piped)", ["accounts"], env),
        ]
        print(
            f"{'command':<40} {'min':>6} {'median':>6} {'max':>6}  {'cpu':>5}  exit  lines"
            f"   (seconds, {args.runs} runs; cpu: median user+system)"
        )
        for name, argv, e in cases:
            cmd = [sys.executable, *(["-c", "pass"] if argv is None else ["-m", "monitor", *argv])]
            wall, cpu, rc, lines = timed(cmd, e, args.runs)
            print(
                f"{name:<40} {min(wall):6.3f} {statistics.median(wall):6.3f} {max(wall):6.3f}"
                f"  {statistics.median(cpu):5.3f}  {rc:>4}  {lines:>5}"
            )
        print(
            f"load average while it ran: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores); "
            f"bytecode {'compiled at each start' if args.no_bytecode else 'cached'}"
        )


if __name__ == "__main__":
    main()
