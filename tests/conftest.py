"""Shared fixtures: a fresh database per test, a webhook sink, a registry helper."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.app import App
from monitor.config import Settings
from monitor.store.engine import make_engine, session_scope, upgrade
from monitor.store.models import Account, Unit

# tests never read the developer's own configuration (XUNCHA_UPDATE_GOLDEN is the tests' own:
# it rewrites the golden files under tests/golden/)
for _k in [k for k in os.environ if k.startswith("XUNCHA_") and k != "XUNCHA_UPDATE_GOLDEN"]:
    del os.environ[_k]

# TIME_MACHINE_AT=2026-12-07T09:11:00+08:00 python -m pytest -q: the whole suite, and every
# process it starts, at that instant (tests/timetravel/sitecustomize.py); nothing in it may
# depend on the hour, weekday or date it runs at
if os.environ.get("TIME_MACHINE_AT"):
    _travel = str(Path(__file__).parent / "timetravel")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (_travel, os.environ.get("PYTHONPATH", "")) if p
    )
    import time_machine

    time_machine.travel(os.environ["TIME_MACHINE_AT"], tick=True).start()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under TIME_MACHINE_AT, tests marked ``real_clock`` are skipped: they compare with a
    clock time travel does not move (OpenSSL judges certificates by the system's)."""
    if not os.environ.get("TIME_MACHINE_AT"):
        return
    skip = pytest.mark.skip(reason="judged by the real clock (OpenSSL): TIME_MACHINE_AT leaves it")
    for item in items:
        if "real_clock" in item.keywords:
            item.add_marker(skip)


PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def make_settings(data_dir: Path, **over: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "node_name": "test-node",
        "http": {"retries": 0, "timeout_seconds": 5, "backoff_seconds": 0.05},
        # messages go out at the next dispatch, one finding at a time unless a test groups
        # them; no digests or escalations unless a test asks (tests/test_alerting.py does)
        "alerts": {
            "retry_base_seconds": 0.2,
            "retry_max_seconds": 1,
            "group_wait_seconds": 0,
            "daily_digest_time": "",
            "weekly_digest_time": "",
            "escalate_immediately": [],
        },
    }
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            base[k] = {**base[k], **v}
        else:
            base[k] = v
    return Settings(**base)


def open_app(settings: Settings) -> App:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    return App.open(settings)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL on 127.0.0.1, dropped afterwards."""
    import uuid

    import sqlalchemy as sa

    name = f"xuncha_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as e:  # pragma: no cover - machine without PostgreSQL
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is needed for this test: {e}")
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Each test that takes ``settings`` or ``app`` runs on both backends."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        return make_settings(tmp_path, database={"url": url})
    return make_settings(tmp_path)


@pytest.fixture
def app(settings: Settings) -> Iterator[App]:
    a = open_app(settings)
    yield a
    a.close()


def add_unit(app: App, code: str, name: str = "", parent: str | None = None, channels=()) -> None:
    with session_scope(app.engine) as s:
        s.add(Unit(code=code, name=name or code, parent_code=parent, channels=list(channels)))


def add_account(app: App, id: str, owner: str, url: str, **kw: Any) -> None:
    kw.setdefault("platform", "weibo")
    kw.setdefault("name", id)
    kw.setdefault("reader", "rss")
    with session_scope(app.engine) as s:
        s.add(Account(id=id, owner_code=owner, url=url, **kw))
