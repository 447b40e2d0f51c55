"""Group commit: many checks share a transaction, and one bad record loses no other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
import pytest
from localserver import LocalServer
from simulator import NOW, Simulator
from sqlmodel import Session, col, func, select
from structlog.testing import capture_logs

from monitor.patrol.pipeline import CheckResult, check
from monitor.record.batch import Record
from monitor.service import metrics
from monitor.store.models import Account, Finding, FindingEvent, Snapshot
from probes.model import Observation, Outcome
from tests.conftest import add_account, add_unit, make_settings, open_app
from tests.test_daemon import REPO, running


def weibo_app(tmp_path: Path, base: str, n: int, writer: str = "thread"):
    settings = make_settings(
        tmp_path,
        platforms={"weibo": {"origins": {"m": base, "www": base}}},
        patrol={"writer": writer},
    )
    app = open_app(settings)
    add_unit(app, "u1", "示例市公安局")
    for i in range(n):
        add_account(app, f"wb{i}", "u1", "", reader="weibo", handle=str(1000 + i))
    return app


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_concurrent_checks_share_transactions_and_all_are_recorded(
    tmp_path: Path, writer: str
) -> None:
    with LocalServer(Simulator().routes()) as srv:
        app = weibo_app(tmp_path, srv.base, 12, writer)
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
            transactions = app.recorder.batches
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


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_a_record_that_fails_does_not_take_the_others_with_it(tmp_path: Path, writer: str) -> None:
    """An account removed from the registry mid-patrol: its snapshot cannot be written."""
    with LocalServer(Simulator().routes()) as srv:
        app = weibo_app(tmp_path, srv.base, 5, writer)
        try:
            with Session(app.engine) as s:
                accounts = list(s.exec(select(Account).order_by(col(Account.id))).all())
                for a in accounts:
                    s.expunge(a)
            ghost = accounts[0].model_copy(update={"id": "removed"})
            errors: list[BaseException] = []
            done: list[CheckResult] = []

            async def go() -> None:
                rec = app.recorder

                async def one(a: Account) -> None:
                    obs = Observation(a.id, "weibo", "", NOW, Outcome.ok)
                    try:
                        done.append(await rec.record(Record(a, obs, NOW)))
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
            rec = app.recorder
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


def test_a_killed_writer_process_confirms_nothing_it_did_not_write(tmp_path: Path) -> None:
    """The writer process dies holding a batch: those checks fail (never falsely confirmed),
    the others are unharmed, and the next batch starts a new writer."""
    from monitor.record.writer import WriterDied

    n = 20
    with LocalServer(Simulator().routes()) as srv:
        app = weibo_app(tmp_path, srv.base, n, "process")
        starts_before = metrics.REGISTRY.get_sample_value("xuncha_writer_process_starts_total")
        try:
            rec = app.recorder
            results: dict[str, CheckResult] = {}
            errors: dict[str, BaseException] = {}

            async def one(f, i: int) -> None:
                try:
                    results[f"wb{i}"] = await check(app, f, f"wb{i}", now=NOW)
                except Exception as e:
                    errors[f"wb{i}"] = e

            async def go() -> None:
                async with app.probing() as f:
                    await one(f, 0)  # the writer process is up
                    pid = rec.writer.pid
                    assert pid
                    os.kill(pid, signal.SIGSTOP)  # it will hold the next batch...
                    async with anyio.create_task_group() as tg:
                        for i in range(1, n):
                            tg.start_soon(one, f, i)
                        # every check has handed its record over, and a batch of them
                        # went to the writer (those after it queue until it answers)
                        while rec.waiting < n - 1 or not rec.writing:
                            await anyio.sleep(0.05)
                        await anyio.sleep(0.3)  # ...and is in its pipe
                        os.kill(pid, signal.SIGKILL)  # ...and die with it

            anyio.run(go)
            assert errors, "the batch in flight must not be confirmed"
            assert all(isinstance(e, WriterDied) for e in errors.values()), errors
            assert "未确认写入" in str(next(iter(errors.values())))

            async def again() -> None:  # the unconfirmed checks are simply run again
                async with app.probing() as f:
                    for account in sorted(errors):
                        results[account] = await check(app, f, account, now=NOW)

            anyio.run(again)
            assert rec.writer.started == 2
            # ops see the replacement on the metrics endpoint
            assert metrics.REGISTRY.get_sample_value("xuncha_writer_process_starts_total") == (
                starts_before + 2
            )
        finally:
            app.close()
    with Session(app.engine) as s:
        written = s.exec(select(Snapshot.id, Snapshot.account_id)).all()
    # every confirmed check is in the database, as confirmed; the killed batch left nothing
    assert {sid for sid, _ in written} == {r.snapshot.id for r in results.values()}
    assert sorted(a for _, a in written) == sorted(f"wb{i}" for i in range(n))


def test_a_writer_that_died_between_batches_is_reaped_and_replaced(tmp_path: Path) -> None:
    """Killed while idle (the OOM killer, an operator): nothing was in hand, so nothing
    fails; the next check starts a new writer and the dead one is not left a zombie."""
    with LocalServer(Simulator().routes()) as srv:
        app = weibo_app(tmp_path, srv.base, 2, "process")
        try:
            rec = app.recorder

            async def one(account: str) -> CheckResult:
                async with app.probing() as f:
                    return await check(app, f, account, now=NOW)

            anyio.run(one, "wb0")
            dead = rec.writer.pid
            assert dead
            os.kill(dead, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while Path(f"/proc/{dead}/stat").read_text().split(") ", 1)[1][0] != "Z":
                assert time.monotonic() < deadline, "the writer did not die"
                time.sleep(0.05)
            with capture_logs() as logs:
                result = anyio.run(one, "wb1")  # not a WriterDied: it held nothing
            # ops still hear of it
            assert [e["checks"] for e in logs if e["event"] == "writer_process_lost"] == [0]
            assert result.snapshot.account_id == "wb1"
            assert rec.writer.started == 2 and rec.writer.pid not in (None, dead)
            assert not running(dead) and not Path(f"/proc/{dead}").exists()  # reaped
        finally:
            app.close()


def test_the_writer_process_leaves_with_its_parent(tmp_path: Path) -> None:
    """A SIGKILLed patrol leaves no writer behind (it leaves when its pipe closes)."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path[:0] = [{str(REPO)!r}, {str(REPO / "tests")!r}]
            import anyio
            from localserver import LocalServer
            from simulator import NOW, Simulator
            from monitor.patrol.pipeline import check
            from tests.test_recorder import weibo_app
            from pathlib import Path

            def main():  # a spawned writer imports this file again: only the parent runs it
                with LocalServer(Simulator().routes()) as srv:
                    app = weibo_app(Path({str(tmp_path)!r}), srv.base, 1, "process")

                    async def go():
                        async with app.probing() as f:
                            await check(app, f, "wb0", now=NOW)

                    anyio.run(go)
                    print("writer", app.recorder.writer.pid, flush=True)
                    time.sleep(120)

            if __name__ == "__main__":
                main()
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        line = ""
        while not line.startswith("writer "):
            line = parent.stdout.readline()
            assert line, "the parent script ended early"
        writer = int(line.split()[1])
        assert running(writer)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 20
        while running(writer) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(writer)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_an_unknown_account_among_others_is_named_and_the_rest_are_checked(
    tmp_path: Path,
) -> None:
    """Checks starting together read their registry rows together; a missing one is the
    user's error, in their words, and does not fail the others read with it."""
    from monitor.patrol.pipeline import CheckError

    with LocalServer(Simulator().routes()) as srv:
        app = weibo_app(tmp_path, srv.base, 4)
        try:
            outcomes: dict[str, object] = {}

            async def go() -> None:
                async with app.probing() as f, anyio.create_task_group() as tg:

                    async def one(account_id: str) -> None:
                        try:
                            outcomes[account_id] = await check(app, f, account_id, now=NOW)
                        except CheckError as e:
                            outcomes[account_id] = e

                    for account_id in ["wb0", "wb1", "nosuch", "wb2", "wb3"]:
                        tg.start_soon(one, account_id)

            anyio.run(go)
        finally:
            app.close()
    missing = outcomes.pop("nosuch")
    assert isinstance(missing, CheckError) and "'nosuch' 不在登记表中" in str(missing)
    assert all(isinstance(r, CheckResult) and r.snapshot.id for r in outcomes.values())
    assert sorted(outcomes) == ["wb0", "wb1", "wb2", "wb3"]


def test_rows_cross_to_the_writer_process_as_plain_values() -> None:
    """What crosses the pipe carries no ORM state (rebuilding it was most of the hand-off's
    cost), and the account and snapshot that come out hold every column that went in."""
    import pickle
    from datetime import timedelta

    from monitor.record.writer import _answer, _packed, _unpacked
    from monitor.store.plain_rows import built, column_keys
    from monitor.store.states import LastLook

    account = Account(
        id="a1", platform="weibo", name="测试", url="https://weibo.com/1", owner_code="u1",
        options={"signer_sha256": "ab"}, interval_minutes=30,
    )  # fmt: skip
    obs = Observation("a1", "rss", account.url, NOW, Outcome.ok, status_code=304, unchanged=True)
    rec = Record(account, obs, NOW, NOW + timedelta(hours=1), "node-1", LastLook(7, NOW, "x"))
    sent = pickle.dumps(_packed(rec))
    assert b"sqlalchemy" not in sent and b"InstanceState" not in sent
    got = _unpacked(pickle.loads(sent))

    def columns(row: Account | Snapshot) -> dict[str, object]:
        return {k: getattr(row, k) for k in column_keys(type(row))}

    assert columns(got.account) == columns(account)
    assert (got.obs, got.now, got.next_due, got.claimed_by, got.last) == (
        obs, rec.now, rec.next_due, rec.claimed_by, rec.last
    )  # fmt: skip
    snap = Snapshot(id=9, account_id="a1", taken_at=NOW, node="n", reader="rss", url="u",
                    outcome="ok", same_as=3, counters={"followers": 5})  # fmt: skip
    answer = pickle.dumps(_answer(CheckResult(account, snap, obs, [], [])))
    assert b"sqlalchemy" not in answer
    values, _, _ = pickle.loads(answer)
    assert columns(built(Snapshot, values)) == columns(snap)
