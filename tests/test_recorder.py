"""Group commit: many checks share a transaction, and one bad record loses no other."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
from localserver import LocalServer
from simulator import NOW, Simulator
from sqlmodel import Session, col, func, select

from monitor.models import Account, Finding, FindingEvent, Snapshot
from monitor.pipeline import CheckResult, check, recorder
from probes.model import Observation, Outcome
from tests.conftest import add_account, add_unit, make_settings, open_app


def weibo_app(tmp_path: Path, base: str, n: int):
    settings = make_settings(tmp_path, platforms={"weibo": {"origins": {"m": base, "www": base}}})
    app = open_app(settings)
    add_unit(app, "u1", "示例市公安局")
    for i in range(n):
        add_account(app, f"wb{i}", "u1", "", reader="weibo", handle=str(1000 + i))
    return app


def test_concurrent_checks_share_transactions_and_all_are_recorded(tmp_path: Path) -> None:
    with LocalServer(Simulator().routes()) as srv:
        app = weibo_app(tmp_path, srv.base, 12)
        try:

            async def go() -> list[CheckResult]:
                out: list[CheckResult] = []
                async with app.probing() as f, anyio.create_task_group() as tg:

                    async def one(i: int) -> None:
                        out.append(await check(app, f, f"wb{i}", now=NOW))

                    for i in range(12):
                        tg.start_soon(one, i)
                return out

            results = anyio.run(go)
            transactions = recorder(app).batches
        finally:
            app.close()
    assert len(results) == 12 and all(r.snapshot.id for r in results)
    assert transactions < 12  # several checks per transaction
    with Session(app.engine) as s:
        snaps = s.exec(select(Snapshot)).all()
        assert sorted(x.account_id for x in snaps) == sorted(f"wb{i}" for i in range(12))
        assert all(x.outcome == "ok" and x.post_count == 3 for x in snaps)
        opened = s.exec(select(func.count()).select_from(FindingEvent)).one()
        findings = s.exec(select(Finding)).all()
    assert findings and opened == len(findings)  # each finding with its "opened" event
    for snap in snaps:  # evidence verified, not just referenced
        for a in snap.artifacts:
            assert app.blobs.get(a["sha256"])


def test_a_record_that_fails_does_not_take_the_others_with_it(tmp_path: Path) -> None:
    """An account removed from the registry mid-patrol: its snapshot cannot be written."""
    with LocalServer(Simulator().routes()) as srv:
        app = weibo_app(tmp_path, srv.base, 5)
        try:
            with Session(app.engine) as s:
                accounts = list(s.exec(select(Account).order_by(col(Account.id))).all())
                for a in accounts:
                    s.expunge(a)
            ghost = accounts[0].model_copy(update={"id": "removed"})
            errors: list[BaseException] = []
            done: list[CheckResult] = []

            async def go() -> None:
                rec = recorder(app)

                async def one(a: Account) -> None:
                    obs = Observation(a.id, "weibo", "", NOW, Outcome.ok)
                    try:
                        done.append(await rec.record(a, obs, NOW))
                    except Exception as e:
                        errors.append(e)

                async with anyio.create_task_group() as tg:
                    for a in [*accounts, ghost]:
                        tg.start_soon(one, a)

            anyio.run(go)
        finally:
            app.close()
    assert len(errors) == 1 and len(done) == 5
    with Session(app.engine) as s:
        ids = s.exec(select(Snapshot.account_id)).all()
    assert sorted(ids) == [a.id for a in accounts]


def test_an_idle_recorder_ends_its_thread(tmp_path: Path) -> None:
    with LocalServer(Simulator().routes()) as srv:
        app = weibo_app(tmp_path, srv.base, 1)
        try:
            rec = recorder(app)
            rec.idle_seconds = 0.05

            async def go() -> None:
                async with app.probing() as f:
                    await check(app, f, "wb0", now=NOW)

            anyio.run(go)
            for _ in range(100):
                if rec._thread is None:
                    break
                time.sleep(0.02)
            assert rec._thread is None
            anyio.run(go)  # and starts again when needed
        finally:
            app.close()
