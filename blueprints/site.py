"""The pages a newcomer meets first: the landing page, the API reference,
the demo page, and the health check.

The API reference renders /openapi.json in the browser with Swagger UI,
vendored under static/ (see static/vendor/README.md); nothing is loaded from
another origin. The pages' headers and CSP are set in security_headers.py.
"""
from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import demo as demo_setup
from engine.access import organizations, tokens, users
from engine.errors import Unauthorized
from engine.outbox import webhooks
from extensions import db
from settings import current_settings

from . import pipeline

bp = Blueprint("site", __name__)

SWAGGER_UI = "5.36.0"


def public_url() -> str:
    return current_settings().base_url()


@bp.get("/")
def landing():
    return render_template("site/landing.html", base=public_url())


@bp.get("/docs")
def api_docs():
    return render_template("site/docs.html", swagger_ui=SWAGGER_UI)


@bp.get("/health")
def health():
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("health check: the database does not answer", exc_info=True)
        return jsonify(status="unavailable", database="unavailable"), 503
    return jsonify(status="ok", database="ok")


# -- the demo ----------------------------------------------------------------------


def _demo_token() -> str | None:
    """The demo player's widget token, as `flask demo` prints it; None without a demo."""
    org = organizations.find_organization(db.session, demo_setup.DEMO_ORG)
    player = org and users.find_user(db.session, org.id, demo_setup.DEMO_PLAYER, users.INTERNAL_PLATFORM)
    if not player:
        return None
    return tokens.make_widget_token(current_settings().signing_secrets, org.id, player.id)


def _page_error(status: int, message: str, exc):
    return Response(message, status=status, mimetype="text/plain")


PAGE_ERRORS = pipeline.Errors(_page_error, http=False)


@bp.get("/demo")
def demo_page():
    """The demo campaign's widget embedded with the snippet `flask demo` printed."""
    def show(unit: pipeline.Unit):
        unit.keep_nothing()  # a read
        token = _demo_token()
        if token is None:
            return render_template("site/demo.html", snippet=None), 404
        base = public_url()
        return render_template("site/demo.html", snippet=demo_setup.embed_snippet(base, token), base=base)

    return pipeline.run(show, write=False, errors=PAGE_ERRORS)


@bp.post("/demo/webhook")
def demo_webhook():
    """The demo hook's receiver: 204 for a delivery signed with the demo's
    secret (Standard Webhooks), 401 otherwise. It keeps nothing: the
    dashboard's webhook page shows the delivery and its answer."""
    state = demo_setup.read_state(current_app.instance_path)
    if state is None or not state.hook_secret:
        return jsonify(error="not a signed delivery of the demo hook"), 401
    h = request.headers
    try:
        webhooks.verify(state.hook_secret, h.get("webhook-id", ""), h.get("webhook-timestamp", ""),
                        request.get_data(as_text=True), h.get("webhook-signature", ""), time.time())
    except Unauthorized as exc:
        return jsonify(error=exc.message), 401
    return Response(status=204)
