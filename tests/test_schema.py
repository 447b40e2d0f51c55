"""The schema the migrations build is the one the code expects, on both backends.

A model changed without its migration works in every test that creates tables from the
models, and fails on the first upgraded production database; this catches it here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import monitor.store.models  # noqa: F401  (registers every table on SQLModel.metadata)
from monitor.store.blobs_db import blob_table
from monitor.store.engine import alembic_config, make_engine, upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'x.db'}"


def differences(engine) -> list:  # type: ignore[no-untyped-def]
    metadata = SQLModel.metadata
    if blob_table.name not in metadata.tables:
        blob_table.to_metadata(metadata)
    with engine.connect() as c:
        return compare_metadata(MigrationContext.configure(c), metadata)


def test_migrations_build_the_models_schema_and_undo_cleanly(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        assert differences(engine) == []
        command.downgrade(alembic_config(engine), "base")  # every step can be undone...
        upgrade(engine)  # ...and redone
        assert differences(engine) == []
    finally:
        engine.dispose()
