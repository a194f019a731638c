"""The application's settings and services, made once by create_app (app.py).

Defaults, then the environment (SPEC §9 names), then ``test_config``: app.py
merges the three into ``app.config`` (Flask and Flask-SQLAlchemy read their
own keys there) and builds one frozen :class:`Settings` from the result. It
is kept in ``app.extensions`` with the clock and the random source
(:class:`Services`); the adapters read them through :func:`services` and
:func:`current_settings`, never ``app.config``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from flask import current_app, request

from engine.access import operators
from engine.clock import SystemClock
from engine.numbers import parse_int
from engine.outbox import mail


@dataclass(frozen=True)
class Settings:
    secret_key: str
    secret_key_fallbacks: tuple[str, ...]
    public_url: str  # empty: the URL the request came in on
    smtp_host: str
    smtp_port: str  # text: the mailer reads it at send time (a bad value fails that send, logged)
    smtp_user: str | None
    smtp_password: str | None
    smtp_from: str | None
    webhook_allow_private: bool
    webhook_lease_seconds: float
    max_content_length: int | None
    outbox: Path  # .eml files when no SMTP_HOST is set
    # A dashboard session ends this long after its last request, and this long after its login.
    session_idle: timedelta = operators.SESSION_IDLE
    session_absolute: timedelta = operators.SESSION_ABSOLUTE

    @classmethod
    def from_config(cls, config: Mapping, instance_path: str) -> "Settings":
        return cls(
            secret_key=config["SECRET_KEY"],
            secret_key_fallbacks=tuple(config.get("SECRET_KEY_FALLBACKS") or ()),
            public_url=str(config.get("PUBLIC_URL") or "").rstrip("/"),
            smtp_host=str(config.get("SMTP_HOST") or ""),
            smtp_port=str(config.get("SMTP_PORT") or "25"),
            smtp_user=config.get("SMTP_USER") or None,
            smtp_password=config.get("SMTP_PASSWORD") or None,
            smtp_from=config.get("SMTP_FROM") or None,
            webhook_allow_private=str(config.get("WEBHOOK_ALLOW_PRIVATE", "0")).lower() in ("1", "true", "yes"),
            webhook_lease_seconds=float(config.get("WEBHOOK_LEASE_SECONDS") or 60),
            max_content_length=config.get("MAX_CONTENT_LENGTH"),
            outbox=Path(instance_path) / "outbox",
            session_idle=_lifetime(config, "SESSION_IDLE_MINUTES", "minutes", operators.SESSION_IDLE),
            session_absolute=_lifetime(config, "SESSION_ABSOLUTE_HOURS", "hours", operators.SESSION_ABSOLUTE),
        )

    @property
    def signing_secrets(self) -> list[str]:
        """Token signing keys, newest last: SECRET_KEY_FALLBACKS then SECRET_KEY."""
        return [*self.secret_key_fallbacks, self.secret_key]

    def base_url(self) -> str:
        """PUBLIC_URL, or the URL of the request being served when it is unset."""
        return self.public_url or request.host_url.rstrip("/")

    def public_origin(self) -> str | None:
        """The scheme and host of base_url(), as browsers compare origins; None
        when it is no http(s) URL."""
        return origin_of(self.base_url())

    def mailer(self) -> mail.Mailer:
        return mail.Mailer(outbox=self.outbox, smtp_host=self.smtp_host, smtp_port=self.smtp_port,
                           smtp_user=self.smtp_user, smtp_password=self.smtp_password,
                           sender=self.smtp_from, sender_domain=mail.sender_domain(self.base_url()))


def _lifetime(config: Mapping, name: str, unit: str, default: timedelta) -> timedelta:
    """A whole number of ``unit`` in ASCII digits; unset: ``default``. A bad value
    fails create_app, not the first request."""
    value = config.get(name)
    if not value:
        return default
    return timedelta(**{unit: parse_int(str(value), name=name)})


@dataclass
class Services:
    """Things the adapters ask the app for, replaceable in tests."""

    settings: Settings
    clock: object = field(default_factory=SystemClock)
    # Instant-win draws; tests pass a seeded random.Random.
    rng: object = field(default_factory=random.SystemRandom)


def services() -> Services:
    return current_app.extensions["questkit"]


def current_settings() -> Settings:
    return services().settings


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"
