"""The console and API for an account with 50,000 snapshots: server time per request.

Not a test: prints figures. Goal (issue 7): the account page and the API answer in under
200 ms of server time, however long the account's history.

    python bench/web.py                        # 50,000 snapshots, SQLite in a temp dir
    python bench/web.py --snapshots 20000 --db-url postgresql+psycopg://postgres@127.0.0.1/x

Shape: one account checked every 10 minutes (~a year), its feed showing its 20 newest posts,
a new post every 3-9 hours (the facts change every ~36 snapshots), a profile change every
9,000 snapshots; 20 neighbour accounts checked less often in the same table. Requests go
through the whole FastAPI stack in-process (TestClient) as a logged-in supervisor and with an
API token; the figure is the app's own ``Server-Timing``, and wall time is shown beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from monitor.app import App  # noqa: E402
from monitor.config import Settings  # noqa: E402
from monitor.store.engine import make_engine, session_scope, upgrade  # noqa: E402
from monitor.store.facts import content_of, put_facts  # noqa: E402
from monitor.store.models import (  # noqa: E402
    Account,
    Finding,
    Snapshot,
    Unit,
)
from monitor.store.snapshots import profile_fingerprint  # noqa: E402
from monitor.web.app import create_app  # noqa: E402
from monitor.web.auth import add_user, new_api_token  # noqa: E402
from monitor.web.cache import AccountCache  # noqa: E402

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
OTHERS = 20


def generate(url: str, snapshots: int) -> None:
    rnd = random.Random(7)
    engine = make_engine(url)
    upgrade(engine)
    start = NOW - timedelta(minutes=10 * snapshots)
    with engine.begin() as c:
        c.execute(
            insert(Unit),
            [
                {"code": "gz", "name": "贵州省", "parent_code": None, "channels": [],
                 "it_channels": [], "updated_at": NOW},
                {"code": "gy", "name": "贵阳市", "parent_code": "gz", "channels": [],
                 "it_channels": [], "updated_at": NOW},
            ],
        )  # fmt: skip
        c.execute(
            insert(Account),
            [
                {"id": a, "platform": "weibo", "name": a, "owner_code": "gy", "options": {},
                 "updated_at": NOW}
                for a in ["big", *(f"o{i}" for i in range(OTHERS))]
            ],
        )  # fmt: skip
    posts: list[dict[str, Any]] = []
    profile: dict[str, Any] = {"name": "大账号", "bio": "简介", "verified": True, "followers": 10}
    batch: list[dict[str, Any]] = []
    next_post = start
    last_hash = ""
    facts: dict[str, dict[str, Any]] = {}  # the batch's new facts, by key
    key, key_of = "", (None, None)
    for n in range(snapshots):
        taken = start + timedelta(minutes=10 * n)
        if taken >= next_post:
            post = {
                "id": f"p{n}", "published_at": taken.isoformat(), "title": f"第 {n} 条通知",
                "text": "内容" * 40, "url": f"https://example.org/p{n}", "pinned": False,
            }  # fmt: skip
            posts = [post, *posts][:20]
            next_post = taken + timedelta(hours=rnd.uniform(3, 9))
        if n % 9000 == 4500:
            profile = {**profile, "bio": f"简介 {n}", "name": f"大账号{n // 9000}"}
        seen = {"outcome": "ok", "status_code": 200, "profile": profile, "posts": posts}
        digest = hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()
        if key_of != (id(posts), id(profile)):  # the facts changed: their content's key
            key, key_of = content_of(seen)[0], (id(posts), id(profile))
            facts[key] = {**seen, "fetched_at": taken.isoformat(), "elapsed_ms": 100}
        batch.append(
            {
                "account_id": "big", "taken_at": taken, "node": "bench", "reader": "rss",
                "url": "https://example.org/feed", "outcome": "ok", "status_code": 200,
                "detail": "", "elapsed_ms": 100,
                "latest_post_at": datetime.fromisoformat(posts[0]["published_at"]),
                "post_count": len(posts), "facts_hash": key,
                "profile_hash": profile_fingerprint(seen),
                "profile_changed": bool(last_hash) and profile_fingerprint(seen) != last_hash,
                "artifacts": [{"kind": "feed", "media_type": "application/rss+xml",
                               "sha256": digest, "size": 4000, "url": ""}],
            }
        )  # fmt: skip
        last_hash = profile_fingerprint(seen)
        if n % 50 == 0:
            batch.extend(
                {
                    "account_id": f"o{i}",
                    "taken_at": taken,
                    "node": "bench",
                    "reader": "rss",
                    "url": "",
                    "outcome": "ok",
                    "status_code": 200,
                    "detail": "",
                    "elapsed_ms": 100,
                    "latest_post_at": None,
                    "post_count": 0,
                    "facts_hash": "",
                    "profile_hash": "",
                    "profile_changed": False,
                    "artifacts": [],
                }
                for i in range(OTHERS)
            )
        if len(batch) >= 5000:
            with engine.begin() as c:
                put_facts(c, list(facts.values()))
                c.execute(insert(Snapshot), batch)
            batch, facts = [], {}
    if batch:
        with engine.begin() as c:
            put_facts(c, list(facts.values()))
            c.execute(insert(Snapshot), batch)
    with engine.begin() as c:
        c.execute(
            insert(Finding),
            [
                {"account_id": "big", "kind": k, "severity": sev, "status": "open", "title": k,
                 "detail": "", "rule": "", "evidence": {}, "opened_at": NOW, "updated_at": NOW}
                for k, sev in (("stale_soon", "warning"), ("commercial", "high"))
            ],
        )  # fmt: skip
        c.exec_driver_sql("ANALYZE" if engine.dialect.name == "sqlite" else "ANALYZE snapshot")
    with session_scope(engine) as s:
        add_user(s, "sup", "supervisor", "gz", "Bench-password1", NOW)
    engine.dispose()


def measure(
    client: TestClient, label: str, path: str, runs: int, cold: bool = False, **kw: Any
) -> None:
    """``cold``: the account cache emptied before each request, as after a new snapshot."""
    server, wall = [], []
    for _ in range(runs):
        if cold:
            client.app.state.cache = AccountCache()  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        r = client.get(path, **kw)
        wall.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        m = re.search(r"app;dur=([\d.]+)", r.headers.get("server-timing", ""))
        server.append(float(m[1]) if m else float("nan"))
    print(
        f"{label:<44} server median {statistics.median(server):6.1f} ms  "
        f"p90 {sorted(server)[int(len(server) * 0.9) - 1]:6.1f} ms  "
        f"max {max(server):6.1f} ms   (wall median {statistics.median(wall):6.1f} ms)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--snapshots", type=int, default=50_000)
    ap.add_argument("--db-url", help="an empty database to fill (default: SQLite in a temp dir)")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.db_url or f"sqlite:///{tmp.name}/web.db"
    t0 = time.perf_counter()
    generate(url, args.snapshots)
    print(
        f"generated {args.snapshots:,} snapshots of one account in {time.perf_counter() - t0:.1f} s"
    )

    settings = Settings(data_dir=Path(tmp.name), database={"url": url})
    xapp = App.open(settings)
    with session_scope(xapp.engine) as s:
        from sqlmodel import select

        from monitor.store.models import User

        token = new_api_token(s, s.exec(select(User)).one(), NOW)
    client = TestClient(create_app(xapp, clock=lambda: NOW), follow_redirects=False)
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = client.post("/login", data={"name": "sup", "password": "Bench-password1", "csrf": csrf[1]})
    assert r.status_code == 303
    h = {"headers": {"Authorization": f"Bearer {token}"}}
    newest = client.get("/api/v1/accounts/big/snapshots?limit=1", **h).json()[0]["id"]
    runs = args.runs
    print(f"database: {make_engine(url).dialect.name}; {runs} requests each")
    acct = "/api/v1/accounts/big"
    older = f"/accounts/big?before={newest - args.snapshots // 2}"
    for label, path, cold, kw in (
        ("page  /accounts/big (cold: new snapshot)", "/accounts/big", True, {}),
        ("page  /accounts/big (warm)", "/accounts/big", False, {}),
        ("page  /accounts/big?before=… (warm)", older, False, {}),
        ("page  /snapshots/{newest}", f"/snapshots/{newest}", False, {}),
        ("page  /diff (newest vs 1,000 before)", f"/diff?a={newest - 1020}&b={newest}", False, {}),
        ("page  / (overview)", "/", False, {}),
        ("page  /findings", "/findings", False, {}),
        ("api   /accounts/big", acct, False, h),
        ("api   /accounts/big/snapshots", f"{acct}/snapshots", False, h),
        ("api   /accounts/big/timeline (cold)", f"{acct}/timeline", True, h),
        ("api   /accounts/big/timeline (warm)", f"{acct}/timeline", False, h),
        ("api   /accounts/big/profile-changes (cold)", f"{acct}/profile-changes", True, h),
        ("api   /accounts/big/profile-changes (warm)", f"{acct}/profile-changes", False, h),
        ("api   /snapshots/{newest}", f"/api/v1/snapshots/{newest}", False, h),
        ("api   /diff", f"/api/v1/diff?a={newest - 1020}&b={newest}", False, h),
        ("api   /findings", "/api/v1/findings", False, h),
        ("api   /overview", "/api/v1/overview", False, h),
    ):
        measure(client, label, path, runs, cold, **kw)
    xapp.close()


if __name__ == "__main__":
    main()
