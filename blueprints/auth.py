"""Operator sessions for the dashboard (flask-login).

The session cookie holds only the operator's id (signed with SECRET_KEY,
old keys from SECRET_KEY_FALLBACKS still verify). It is HttpOnly and
SameSite=Lax, and Secure when PUBLIC_URL is https.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import redirect, request, url_for
from flask_login import LoginManager, UserMixin

from engine.numbers import parse_int
from extensions import db
from models import Operator

login_manager = LoginManager()
login_manager.session_protection = "strong"


@dataclass
class OperatorLogin(UserMixin):
    id: int
    org_id: int
    email: str

    def get_id(self) -> str:
        return str(self.id)


@login_manager.user_loader
def _load(operator_id: str):
    try:
        op = db.session.get(Operator, parse_int(operator_id))
    except (TypeError, ValueError):
        return None
    return OperatorLogin(op.id, op.org_id, op.email) if op else None


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
