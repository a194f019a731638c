"""The Campaign API (claimr's dialect): /api/v1, Bearer key.

Envelope ``{"success": true, "data": ...}``; errors
``{"success": false, "error": "..."}`` with a real HTTP status.
"""
from __future__ import annotations

from flask import Blueprint, current_app

from engine import campaigns, points, tokens, users
from engine.ledger import get_balances

from ._api import Ctx, Dialect, bearer_token
from ._json import ACCOUNT, BOOL, ENV, ENV_PARAM, PID, PLATFORM, POINTS, STR, Param, obj


def _ok(data):
    return {"success": True, "data": data}


def _error(status, message, exc):
    body = {"success": False, "error": message}
    issues = getattr(exc, "issues", None)
    if issues:
        body["errors"] = issues
    return body


campaign_dialect = Dialect("campaign", "/api/v1", bearer_token, _ok, _error)
bp = Blueprint("campaign_api", __name__, url_prefix="/api/v1")
route = campaign_dialect.route


def _view(ctx: Ctx, pid, env) -> campaigns.View:
    campaign = campaigns.get_campaign(ctx.session, ctx.org_id, pid)
    return campaigns.view(campaign, campaigns.parse_env(env))


def secrets() -> list[str]:
    """Signing keys, newest last: SECRET_KEY_FALLBACKS then SECRET_KEY."""
    return [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.config["SECRET_KEY"]]


# -- user token -------------------------------------------------------------

@route(bp, "/token", summary="Permanent widget token for a user (registers the user)",
       query=(ACCOUNT, PLATFORM, Param("name", description="display name; defaults to the account")),
       writes=True)
def token(ctx: Ctx):
    a = ctx.args
    user = users.ensure_user(ctx.session, ctx.org_id, a["account"], a["platform"], ctx.now,
                             name=a["name"])
    return {"token": tokens.make_widget_token(secrets(), ctx.org_id, user.id)}


# -- balances -----------------------------------------------------------------

USER_QUERY = (ACCOUNT, PLATFORM, PID, ENV_PARAM)


def _balance_data(b) -> dict:
    return {"xp": b.xp, "ref_xp": b.ref_xp, "ugc_xp": b.ugc_xp}


@route(bp, "/user/balance", summary="A user's xp, ref_xp and ugc_xp (zeros for an unknown user)",
       query=USER_QUERY)
def user_balance(ctx: Ctx):
    a = ctx.args
    view = _view(ctx, a["pid"], a["env"])
    user = users.find_user(ctx.session, ctx.org_id, a["account"], a["platform"])
    return _balance_data(get_balances(ctx.session, view.campaign.id, user and user.id, view.env))


REWARD_BODY = obj(
    ["account", "platform", "pid", "id", "xp"],
    account=STR, platform=STR, pid=STR, id=STR, xp=POINTS, env=ENV,
    kind={**STR, "description": "ugc credits ugc_xp; any other kind is stored and credits xp"},
)
WITHDRAW_BODY = obj(
    ["account", "platform", "pid", "id", "xp"],
    account=STR, platform=STR, pid=STR, id=STR, xp=POINTS, env=ENV,
    strict={**BOOL, "description": "refuse (409) a withdrawal that would make the total negative"},
)


def _movement_data(movement) -> dict:
    return {"duplicate": movement.duplicate, **_balance_data(movement.balances)}


@route(bp, "/user/reward", "POST", summary="Add xp to a user; an id repeated for the user is a no-op",
       body=REWARD_BODY)
def user_reward(ctx: Ctx):
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    user = users.ensure_user(ctx.session, ctx.org_id, b["account"], b["platform"], ctx.now)
    return _movement_data(points.reward(ctx.session, view, user, reward_id=b["id"], xp=b["xp"],
                                        kind=b.get("kind"), now=ctx.now))


@route(bp, "/user/withdraw", "POST", summary="Subtract xp from a user; strict never goes below zero",
       body=WITHDRAW_BODY, responses={409: "strict withdrawal larger than the user's total"})
def user_withdraw(ctx: Ctx):
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    user = users.ensure_user(ctx.session, ctx.org_id, b["account"], b["platform"], ctx.now)
    return _movement_data(points.withdraw(ctx.session, view, user, withdraw_id=b["id"], xp=b["xp"],
                                          strict=b.get("strict", False), now=ctx.now))


@route(bp, "/user/activity", summary="What a user completed and was credited, and their xp",
       query=USER_QUERY)
def user_activity(ctx: Ctx):
    a = ctx.args
    view = _view(ctx, a["pid"], a["env"])
    user = users.find_user(ctx.session, ctx.org_id, a["account"], a["platform"])
    balances = get_balances(ctx.session, view.campaign.id, user and user.id, view.env)
    return {
        "userId": user.account if user else a["account"],
        "tasks": [],  # filled by the quest engine (issue 3)
        "quests": [],
        "rewards": points.reward_history(ctx.session, view, user),
        "xp": balances.total,
    }


# -- campaign -----------------------------------------------------------------

@route(bp, "/campaign/info", summary="The campaign as clients see it (env=dev: the draft)",
       query=(PID, ENV_PARAM))
def campaign_info(ctx: Ctx):
    view = _view(ctx, ctx.args["pid"], ctx.args["env"])
    d = view.definition
    info = {"id": d["id"], "name": d["name"], "actions": d.get("actions", []),
            "quests": d.get("quests", [])}
    for key in ("description", "status", "starts_at", "ends_at", "timezone", "invite_only"):
        if key in d:
            info[key] = d[key]
    info["version"] = view.version
    return info
