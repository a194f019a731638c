"""Questkit: create_app() is the only way to build the application.

Settings come from defaults, then the environment (SPEC §9 names), then
``test_config``, into one frozen settings.Settings kept in app.extensions.
There is no module-level app: `flask --app app` finds the factory.
"""
from __future__ import annotations

import logging
import os
import random
import secrets
import time
from pathlib import Path

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from engine.clock import SystemClock
from engine.db.storage import configure_engine
from extensions import db, migrate
from settings import Services, Settings

log = logging.getLogger(__name__)

MiB = 1024 * 1024
ENV_SETTINGS = ("DATABASE_URL", "SECRET_KEY", "SMTP_HOST", "SMTP_PORT", "SMTP_USER",
                "SMTP_PASSWORD", "SMTP_FROM", "PUBLIC_URL", "WEBHOOK_ALLOW_PRIVATE",
                "WEBHOOK_LEASE_SECONDS", "SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS")


def create_app(test_config: dict | None = None) -> Flask:
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("QUESTKIT_INSTANCE")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        MAX_CONTENT_LENGTH=1 * MiB,
        # No pool_pre_ping on SQLite: a file connection cannot go stale, and
        # the ping would be one more statement per transaction. PostgreSQL sets it below.
        SQLALCHEMY_ENGINE_OPTIONS={},
        PUBLIC_URL="http://127.0.0.1:5000",
        SECRET_KEY_FALLBACKS=[],
    )
    for name in ENV_SETTINGS:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    if os.environ.get("SECRET_KEY_FALLBACKS"):
        app.config["SECRET_KEY_FALLBACKS"] = [
            k for k in os.environ["SECRET_KEY_FALLBACKS"].split(",") if k.strip()]
    if test_config:
        app.config.update(test_config)

    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True, "pool_size": 10, "max_overflow": 40, "pool_timeout": 60,
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        }

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"),
                     render_as_batch=True)
    with app.app_context():
        configure_engine(db.engine)
    app.extensions["questkit"] = Services(settings=Settings.from_config(app.config, app.instance_path),
                                          clock=app.config.get("CLOCK") or SystemClock(),
                                          rng=app.config.get("RNG") or random.SystemRandom())

    from blueprints import register_blueprints, security_headers
    register_blueprints(app)
    security_headers.init_app(app)
    _register_error_handlers(app)

    from cli import register_cli
    register_cli(app)
    return app


def _database_url(app: Flask) -> str:
    url = app.config.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(app.instance_path) / "questkit.sqlite3")
    # Plain postgres:// URLs (as hosts hand them out) use psycopg 3.
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def _instance_secret(instance: Path) -> str:
    """A secret generated once per install and kept in the instance folder.

    Several app servers must share one: set SECRET_KEY in the environment.
    O_EXCL makes two processes starting at once agree on a single key.
    """
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty; delete it to generate a new secret")
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _register_error_handlers(app: Flask) -> None:
    """Errors outside a dialect's routes (404, 405, 413, 500) in its envelope."""
    from blueprints import dialect_for

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        dialect = dialect_for(request.path)
        if dialect is None:
            return exc
        message = exc.description or exc.name
        if exc.code == 404:
            message = f"no such endpoint: {request.method} {request.path}"
        elif exc.code == 405:
            message = f"{request.method} is not allowed on {request.path}"
        resp = dialect.error_response(exc.code or 500, message)
        allow = dict(exc.get_headers()).get("Allow")
        if allow:  # a 405 says which methods the path answers
            resp.headers["Allow"] = allow
        return resp

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        dialect = dialect_for(request.path)
        if dialect is None:
            return "Internal Server Error", 500
        return dialect.error_response(500, "internal error; it has been logged")
