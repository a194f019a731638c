"""The one list of blueprints, and which dialect answers errors under a path."""
from __future__ import annotations

from . import (campaign_api, dashboard, docs, games_api, management_api, participants_api, play, rewards_api,
               site, widget)

BLUEPRINTS = [campaign_api.bp, management_api.bp, rewards_api.bp, participants_api.bp, games_api.bp,
              play.bp, widget.bp, dashboard.bp, docs.bp, site.bp]

# Longest prefix first: /api/v1/admin must win over /api/v1.
DIALECTS = sorted(
    [campaign_api.campaign_dialect, management_api.management_dialect, rewards_api.rewards_dialect,
     participants_api.participants_dialect],
    key=lambda d: len(d.prefix), reverse=True,
)


def register_blueprints(app) -> None:
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)


def dialect_for(path: str):
    for dialect in DIALECTS:
        if path == dialect.prefix or path.startswith(dialect.prefix + "/"):
            return dialect
    return None
