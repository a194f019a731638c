"""Alembic migrations build exactly the schema the models describe.

`flask db upgrade` on an empty database, then Alembic's own comparison of
that schema with the models must find nothing to do: a model change without
its migration fails here.
"""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from app import create_app
from models import Base
from tests.conftest import PG_URL, scratch_database


@pytest.fixture
def empty_db_url(tmp_path):
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    with scratch_database("migrations") as url:
        yield url


def test_upgrade_on_an_empty_database_matches_the_models(empty_db_url, tmp_path):
    app = create_app({"DATABASE_URL": empty_db_url, "SECRET_KEY": "x",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = create_engine(empty_db_url)
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_twice_is_a_no_op_and_keeps_data(empty_db_url, tmp_path):
    app = create_app({"DATABASE_URL": empty_db_url, "SECRET_KEY": "x",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["org", "create", "keepme"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    engine = create_engine(empty_db_url)
    with engine.connect() as conn:
        assert conn.execute(text("select name from organizations")).scalars().all() == ["keepme"]
    engine.dispose()
