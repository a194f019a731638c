"""Operator sessions for the dashboard (flask-login).

The session cookie (signed with SECRET_KEY, old keys from SECRET_KEY_FALLBACKS
still verify) holds the operator's id with their session generation, when
they logged in and when they were last seen; engine.access.operators decides
whether that session still holds (revoked on the server, idle or absolute
lifetime passed). It is HttpOnly and SameSite=Lax, and Secure when PUBLIC_URL
is https.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, user_logged_in

from engine.access import operators
from engine.numbers import NotAnInteger, parse_int
from extensions import db

login_manager = LoginManager()
login_manager.session_protection = "strong"
LOGGED_IN_AT, SEEN_AT = "qk_login_at", "qk_seen_at"
SEEN_STEP = 60  # seconds: the cookie is re-sent with a new "last seen" at most once a minute


@dataclass
class OperatorLogin(UserMixin):
    id: int
    org_id: int
    email: str
    generation: int = 0

    def get_id(self) -> str:
        return f"{self.id}.{self.generation}"


def _now():
    return current_app.extensions["questkit"].clock.now()


def lifetimes(config) -> tuple[timedelta, timedelta]:
    """(idle, absolute) from SESSION_IDLE_MINUTES and SESSION_ABSOLUTE_HOURS (8 h, 7 days)."""
    idle = config.get("SESSION_IDLE_MINUTES")
    absolute = config.get("SESSION_ABSOLUTE_HOURS")
    return (timedelta(minutes=parse_int(str(idle), name="SESSION_IDLE_MINUTES")) if idle
            else operators.SESSION_IDLE,
            timedelta(hours=parse_int(str(absolute), name="SESSION_ABSOLUTE_HOURS")) if absolute
            else operators.SESSION_ABSOLUTE)


@login_manager.user_loader
def _load(user_id: str):
    try:
        operator_id, generation = (parse_int(part) for part in str(user_id).split("."))
        logged_in_at, seen_at = float(session[LOGGED_IN_AT]), float(session[SEEN_AT])
    except (NotAnInteger, KeyError, TypeError, ValueError):
        return None  # a session of another shape (or none): logged out
    now = _now()
    idle, absolute = lifetimes(current_app.config)
    op = operators.session_operator(db.session, operator_id, generation, logged_in_at, seen_at, now,
                                    idle=idle, absolute=absolute)
    if op is None:
        return None
    if now.timestamp() - seen_at >= SEEN_STEP:
        session[SEEN_AT] = now.timestamp()
    return OperatorLogin(op.id, op.org_id, op.email, op.session_generation)


@user_logged_in.connect
def _stamp(app, user, **_):
    session[LOGGED_IN_AT] = session[SEEN_AT] = _now().timestamp()


@login_manager.unauthorized_handler
def _login_first():
    return redirect(url_for("dashboard.login", next=request.path))


def init_app(app) -> None:
    login_manager.init_app(app)
    secure = str(app.config.get("PUBLIC_URL") or "").startswith("https://")
    # Flask's defaults hold these keys already (SameSite unset): set them unless configured.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("SESSION_COOKIE_SECURE")) or secure
    app.config["SESSION_COOKIE_NAME"] = "questkit_session"
    lifetimes(app.config)  # a bad setting fails at start, not on the first request
