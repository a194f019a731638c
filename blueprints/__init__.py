"""The one list of blueprints.

Beside them sit modules that are not blueprints and that no blueprint
imports from another: pipeline (transaction, retry, engine error -> status),
_api (the JSON dialects' routes over it), dialects (the four dialects'
headers, envelopes and error tables), _json (request parsing and schemas),
security_headers (every response's policy and nonce) and widget_page (the
participant widget's page, also shown by a spent play link).
"""
from __future__ import annotations

from ._json import AsciiIntegerConverter
from . import (campaign_api, dashboard, docs, games_api, management_api, participants_api, play, rewards_api,
               site, widget)
from .dialects import dialect_for

BLUEPRINTS = [campaign_api.bp, management_api.bp, rewards_api.bp, participants_api.bp, games_api.bp,
              play.bp, widget.bp, dashboard.bp, docs.bp, site.bp]

__all__ = ["BLUEPRINTS", "dialect_for", "register_blueprints"]


def register_blueprints(app) -> None:
    app.url_map.converters["int"] = AsciiIntegerConverter  # before any rule uses it
    dashboard.init_app(app)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
