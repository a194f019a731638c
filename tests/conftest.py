"""Fixtures shared by the whole suite.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL
is set (scripts/test does both). SQLite gets a fresh file per test; on
PostgreSQL the schema is created once per run and every table is emptied
after each test.
"""
from __future__ import annotations

import dataclasses
import os
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import create_app
from engine.access import keys, organizations
from engine.clock import MovableClock
from engine.db.storage import configure_engine
from extensions import db
from models import Base

PG_URL = os.environ.get("TEST_DATABASE_URL")
START = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (a file per test)'}"


@contextmanager
def scratch_database(suffix: str):
    """A new, empty PostgreSQL database beside TEST_DATABASE_URL's, dropped after.

    Named after the process, so several test runs can share one server.
    """
    name = f"questkit_{suffix}_{os.getpid()}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_schema():
    """On PostgreSQL: a database of this run's own, its schema created once."""
    if not PG_URL:
        yield None
        return
    with scratch_database("test") as url:
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db_url(tmp_path, pg_schema):
    if pg_schema:
        yield pg_schema
        _truncate_all(pg_schema)
    else:
        yield f"sqlite:///{tmp_path / 'questkit.sqlite3'}"


@pytest.fixture
def clock():
    return MovableClock(START)


def app_settings(db_url: str, clock, tmp_path, **extra) -> dict:
    """The config every test app gets, plus ``extra``."""
    return {"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test-secret-key", "CLOCK": clock,
            "INSTANCE_PATH": str(tmp_path / "instance"), **extra}


@pytest.fixture
def app_config():
    """Extra settings for the `app` fixture; test modules override this fixture."""
    return {}


@pytest.fixture
def app(db_url, clock, tmp_path, app_config):
    app = create_app(app_settings(db_url, clock, tmp_path, **app_config))
    with app.app_context():
        if not PG_URL:
            db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def change_settings(app, **changes) -> None:
    """Replace some of a running app's settings (settings.Settings fields)."""
    services = app.extensions["questkit"]
    services.settings = dataclasses.replace(services.settings, **changes)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_org(app, name: str) -> tuple[int, str]:
    """An organization and a secret key for it: (org id, raw key)."""
    with app.app_context():
        now = app.extensions["questkit"].clock.now()
        org = organizations.create_organization(db.session, name, now)
        _, raw = keys.create_key(db.session, org.id, now)
        db.session.commit()
        return org.id, raw


@pytest.fixture
def org(app):
    return make_org(app, "acme")


@pytest.fixture
def api_key(org):
    return org[1]


@pytest.fixture
def auth(api_key):
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def session(db_url):
    """A plain SQLAlchemy session, no Flask: for engine tests."""
    engine = create_engine(db_url)
    configure_engine(engine)
    if not PG_URL:
        Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()
