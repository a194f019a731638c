"""The Campaign API (claimr's dialect): /api/v1, Bearer key.

Envelope ``{"success": true, "data": ...}``; errors
``{"success": false, "error": "..."}`` with a real HTTP status.
"""
from __future__ import annotations

from flask import Blueprint

from engine.reads import stats, leaderboard, progress
from engine.definitions import campaigns
from engine.participation import events, invites, credits, referrals
from engine.access import tokens, users
from engine.outbox import webhooks
from engine.errors import InvalidInput, NotFound
from engine.ledger import get_balances

from settings import current_settings

from ._api import Ctx, Reply
from ._json import ACCOUNT, BOOL, ENV, ENV_PARAM, NUMBER, PID, PLATFORM, POINTS, STR, Param, obj
from .dialects import campaign as campaign_dialect

bp = Blueprint("campaign_api", __name__, url_prefix="/api/v1")
route = campaign_dialect.route


def _view(ctx: Ctx, pid, env) -> campaigns.View:
    return campaigns.get_view(ctx.session, ctx.org_id, pid, campaigns.parse_env(env))


def _writer(ctx: Ctx, account, platform):
    """The user a write names, created if new."""
    return users.ensure_user(ctx.session, ctx.org_id, account, platform, ctx.now)


# -- user token -------------------------------------------------------------

@route(bp, "/token", summary="Widget token for a user (registers the user): permanent unless expires_in",
       query=(ACCOUNT, PLATFORM, Param("name", description="display name; defaults to the account"),
              Param("expires_in", schema={"type": "integer", "minimum": tokens.MIN_EXPIRES_IN,
                                          "maximum": tokens.MAX_EXPIRES_IN},
                    description="seconds until the token stops working; absent: permanent. "
                                "Any token stops working when the user's tokens are revoked")),
       writes=True)
def token(ctx: Ctx):
    """Register the user (account, platform) if new and answer a widget token for them. The partner
    server hands the token to its page: embed.js and the Games SDK open the user's own widget and
    plays with it. Without expires_in the token is permanent, as claimr's are; with it, it stops
    working after that many seconds. Revoking the user's tokens (Management API) or rotating
    SECRET_KEY ends every token.
    """
    a = ctx.args
    user = users.ensure_user(ctx.session, ctx.org_id, a["account"], a["platform"], ctx.now,
                             name=a["name"])
    token, expires_at = tokens.issue_widget_token(current_settings().signing_secrets, user, ctx.now, a["expires_in"])
    return {"token": token, **({"expires_at": expires_at} if expires_at else {})}


# -- balances -----------------------------------------------------------------

USER_QUERY = (ACCOUNT, PLATFORM, PID, ENV_PARAM)


def _balance_data(b) -> dict:
    return {"xp": b.xp, "ref_xp": b.ref_xp, "ugc_xp": b.ugc_xp}


@route(bp, "/user/balance", summary="A user's xp, ref_xp and ugc_xp (zeros for an unknown user)",
       query=USER_QUERY)
def user_balance(ctx: Ctx):
    """The user's three totals in the campaign: xp (quests, rewards), ref_xp (what referrals earned
    them) and ugc_xp (credits of kind ugc). An unknown user reads as zeros, not 404.
    """
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
    """Credit xp to a user (registered on first use). The id is the idempotency key of the credit: the
    same id for the same user answers `duplicate: true` and pays nothing. `kind: ugc` credits ugc_xp
    instead of xp.
    """
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    user = _writer(ctx, b["account"], b["platform"])
    return _movement_data(credits.reward(ctx.session, view, user, reward_id=b["id"], xp=b["xp"],
                                        kind=b.get("kind"), now=ctx.now))


@route(bp, "/user/withdraw", "POST", summary="Subtract xp from a user; strict never goes below zero",
       body=WITHDRAW_BODY, responses={409: "strict withdrawal larger than the user's total"})
def user_withdraw(ctx: Ctx):
    """Debit xp from a user. Without `strict` the total may go below zero; with `strict: true` a debit
    larger than the total is refused with 409 and nothing changes. The id makes a repeat a no-op, as
    for rewards.
    """
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    user = _writer(ctx, b["account"], b["platform"])
    return _movement_data(credits.withdraw(ctx.session, view, user, withdraw_id=b["id"], xp=b["xp"],
                                          strict=b.get("strict", False), now=ctx.now))


@route(bp, "/user/activity", summary="What a user completed and was credited, and their xp",
       query=USER_QUERY)
def user_activity(ctx: Ctx):
    """The user's completed actions and quests with the points each paid, newest first, and their
    current xp.
    """
    a = ctx.args
    view = _view(ctx, a["pid"], a["env"])
    user = users.find_user(ctx.session, ctx.org_id, a["account"], a["platform"])
    return {"userId": user.account if user else a["account"],
            **progress.user_activity(ctx.session, view, user)}


@route(bp, "/user/progress", summary="Every action and quest with status, progress and next reset",
       query=USER_QUERY)
def user_progress(ctx: Ctx):
    """Every action and quest of the campaign for this user: status (locked, available, completed),
    progress towards the target, and when a repeating action resets next.
    """
    a = ctx.args
    view = _view(ctx, a["pid"], a["env"])
    user = users.find_user(ctx.session, ctx.org_id, a["account"], a["platform"])
    return {"userId": user.account if user else a["account"],
            **progress.user_progress(ctx.session, view, user, ctx.now)}


# -- campaign -----------------------------------------------------------------

@route(bp, "/campaign/info", summary="The campaign as clients see it (env=dev: the draft)",
       query=(PID, ENV_PARAM))
def campaign_info(ctx: Ctx):
    """The published campaign as clients see it: actions, quests, seasons, leaderboard settings and
    branding. `env=dev` reads the draft instead.
    """
    view = _view(ctx, ctx.args["pid"], ctx.args["env"])
    d = view.definition
    info = {"id": d["id"], "name": d["name"], "actions": d.get("actions", []),
            "quests": d.get("quests", [])}
    for key in ("description", "status", "starts_at", "ends_at", "timezone", "invite_only"):
        if key in d:
            info[key] = d[key]
    info["version"] = view.version
    return info


@route(bp, "/campaign/points", summary="Points awarded in the campaign and its current season",
       query=(PID, ENV_PARAM))
def campaign_points(ctx: Ctx):
    """Total points awarded in the campaign, overall and in its current season."""
    view = _view(ctx, ctx.args["pid"], ctx.args["env"])
    total, season = stats.points(ctx.session, view)
    return {"id": view.campaign.pid, "name": view.definition["name"], "total_points": total,
            "season_points": season.points, "season_index": season.index,
            "season": {"name": season.name, "max_xp": season.max_xp} if season.name else None}


@route(bp, "/campaign/stats", summary="Points awarded, participants and active participants (7 days)",
       query=(PID, ENV_PARAM))
def campaign_stats_(ctx: Ctx):
    """Campaign figures: points awarded, number of participants, and participants active in the last 7
    days.
    """
    view = _view(ctx, ctx.args["pid"], ctx.args["env"])
    total, _ = stats.points(ctx.session, view)
    users_total, active = stats.participation(ctx.session, view, ctx.now)
    return {"id": view.campaign.pid, "name": view.definition["name"], "total_points": total,
            "total_users": users_total, "active_users": active,
            "stats": {"stats": {"pcn": total, "ecn": users_total, "acn": active}}}


# -- inputs: events, values, streams ----------------------------------------------

def _outcome_data(outcome, user) -> dict:
    return {"paid": outcome.paid_to(user.id), "completed": outcome.completed,
            "quests_completed": outcome.quests}


EVENT_BODY = obj(
    ["account", "platform", "pid", "name"],
    account=STR, platform=STR, pid=STR, name=STR, env=ENV,
    id={**STR, "description": "the client's event id: repeated for the same user, counted once"},
    category=STR, data={"type": "object", "description": "at most 64 KiB of JSON"},
    # Bounded so that it fits the BIGINT column: seconds, milliseconds or microseconds.
    ts={"type": "number", "minimum": 0, "maximum": 10**16,
        "description": "the client's timestamp; stored, not used for periods"},
)


@route(bp, "/event", "POST", summary="Store an event and advance the tasks it matches", body=EVENT_BODY)
def post_event(ctx: Ctx):
    """Store an event for a user (registered on first use). Tasks of type events_count and events_value
    that match its name, category and data advance; completed tasks pay. An id repeated for the user
    counts once.
    """
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    user = _writer(ctx, b["account"], b["platform"])
    result = events.record_event(
        ctx.session, view, user, name=b["name"], category=b.get("category"), data=b.get("data"),
        client_id=b.get("id"), ts=int(b["ts"]) if b.get("ts") is not None else None, now=ctx.now)
    return {"duplicate": result.duplicate, **_outcome_data(result.outcome, user)}


@route(bp, "/events", summary="A user's events, filtered by name and category "
       "(the list sits at the top level: {success, events})",
       query=(ACCOUNT, PLATFORM, PID, ENV_PARAM, Param("name"), Param("category")))
def get_events(ctx: Ctx):
    """The user's stored events, newest first, optionally filtered by name and category."""
    a = ctx.args
    view = _view(ctx, a["pid"], a["env"])
    user = users.find_user(ctx.session, ctx.org_id, a["account"], a["platform"])
    rows = events.list_events(ctx.session, view, user, name=a["name"], category=a["category"])
    return Reply({"success": True, "events": [
        {**events.event_doc(e, user), "pid": view.campaign.pid, "oid": str(ctx.org_id),
         "ts": e.ts if e.ts is not None else int(e.received_at.timestamp())}
        for e in rows]}, raw=True)


VALUE_BODY = obj(
    ["account", "platform", "pid", "aid"],
    account=STR, platform=STR, pid=STR, aid=STR, env=ENV,
    cid={**STR, "description": "the quest of the action; omit for an action outside quests"},
    value={**NUMBER, "description": "required for api_number and api_score"},
)


@route(bp, "/action/value", "POST", summary="Feed an api_call, api_number or api_score action",
       body=VALUE_BODY, responses={404: "unknown action", 409: "the action is locked"})
def action_value(ctx: Ctx):
    """Feed one api_call, api_number or api_score action (aid, and cid for a quest's action). api_call
    completes on the call; api_number and api_score compare `value` with the target. An action whose
    dependencies are not done answers 409.
    """
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    user = _writer(ctx, b["account"], b["platform"])
    outcome = events.feed_value(ctx.session, view, user, aid=b["aid"], cid=b.get("cid"),
                                value=b.get("value"), now=ctx.now)
    return _outcome_data(outcome, user)


STREAM_BODY = obj(
    ["account", "platform", "pid", "stream", "value"],
    account=STR, platform=STR, pid=STR, stream=STR, env=ENV, value={**NUMBER, "minimum": 0},
)


@route(bp, "/stream/value", "POST", summary="Add a value to every api_stream action of the stream",
       body=STREAM_BODY)
def stream_value(ctx: Ctx):
    """Add a value to every api_stream action listening to the stream: each accumulates it and pays
    when its target is reached.
    """
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    user = _writer(ctx, b["account"], b["platform"])
    outcome = events.feed_stream(ctx.session, view, user, stream=b["stream"], value=b["value"],
                                 now=ctx.now)
    return _outcome_data(outcome, user)


# -- referrals --------------------------------------------------------------------

@route(bp, "/user/ref_id", summary="The user's referral id in the campaign, created on first call "
       "(the same id in both environments)", query=(ACCOUNT, PLATFORM, PID, ENV_PARAM), writes=True)
def get_ref_id(ctx: Ctx):
    """The user's referral id in this campaign, created on the first call. Give it to friends: POST
    /user/ref_id links them.
    """
    a = ctx.args
    campaigns.parse_env(a["env"])
    campaign = campaigns.get_campaign(ctx.session, ctx.org_id, a["pid"])
    user = users.ensure_user(ctx.session, ctx.org_id, a["account"], a["platform"], ctx.now)
    return {"ref_id": referrals.ensure_ref_id(ctx.session, campaign, user, ctx.now)}


REF_ID_BODY = obj(["account", "platform", "pid", "ref_id"],
                  account=STR, platform=STR, pid=STR, ref_id=STR, env=ENV)
REFERRER_BODY = obj(["account", "platform", "pid", "ref_account", "ref_platform"],
                    account=STR, platform=STR, pid=STR, ref_account=STR, ref_platform=STR, env=ENV)
REFERRAL_ERRORS = {400: "self-referral or a cycle", 404: "unknown referrer",
                   409: "the user's referrer is already set"}


@route(bp, "/user/ref_id", "POST", summary="Set who referred the user, by referral id",
       body=REF_ID_BODY, responses=REFERRAL_ERRORS)
def post_ref_id(ctx: Ctx):
    """Set who referred this user, by the referrer's referral id. Once set it cannot change (409);
    referring oneself or a cycle is refused (400). Referral rewards are paid as the campaign says.
    """
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    referrer = referrals.user_by_ref_id(ctx.session, view.campaign, b["ref_id"])
    user = users.ensure_user(ctx.session, ctx.org_id, b["account"], b["platform"], ctx.now)
    referrals.set_referrer(ctx.session, view, user, referrer, ctx.now)
    return {}


@route(bp, "/user/referrer", "POST", summary="Set who referred the user, by their account",
       body=REFERRER_BODY, responses=REFERRAL_ERRORS)
def post_referrer(ctx: Ctx):
    """Set who referred this user, by the referrer's account and platform. Same rules as POST
    /user/ref_id.
    """
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    referrer = users.find_user(ctx.session, ctx.org_id, b["ref_account"], b["ref_platform"])
    if referrer is None:
        raise NotFound("unknown referrer: no user with that ref_account and ref_platform")
    user = users.ensure_user(ctx.session, ctx.org_id, b["account"], b["platform"], ctx.now)
    referrals.set_referrer(ctx.session, view, user, referrer, ctx.now)
    return {}


@route(bp, "/user/referrals", summary="Users this user referred and what each earned them",
       query=USER_QUERY)
def user_referrals(ctx: Ctx):
    """The users this user referred, each with the points it earned the referrer."""
    a = ctx.args
    view = _view(ctx, a["pid"], a["env"])
    user = users.find_user(ctx.session, ctx.org_id, a["account"], a["platform"])
    return {"referrals": [
        {"id": r["user"].account, "name": users.display_name(r["user"]), "ref_xp": r["ref_xp"],
         "xp": r["total"], "cts": int(r["created_at"].timestamp())}
        for r in referrals.referrals_of(ctx.session, view, user)]}


# -- invite codes -------------------------------------------------------------------

@route(bp, "/code", summary="Who used an invite code", query=(Param("code", True), PID, ENV_PARAM))
def get_code(ctx: Ctx):
    """Who used an invite code of the campaign (used_by), and how many uses it has left."""
    a = ctx.args
    view = _view(ctx, a["pid"], a["env"])
    return {"used_by": [u.account for u in invites.used_by(ctx.session, view, a["code"])]}


CODE_BODY = obj(
    ["code", "pid", "used_by"], code=STR, pid=STR, env=ENV,
    used_by={**STR, "description": "a wallet address, or an account on `platform` when given"},
    platform={**STR, "description": "the platform of used_by; absent means a web3 wallet"},
)
RELEASE_BODY = obj(["code", "pid"], code=STR, pid=STR, env=ENV, used_by=STR, platform=STR)


@route(bp, "/code", "POST", summary="Claim an invite code for a user",
       body=CODE_BODY, responses={404: "unknown code", 409: "used up, or the user already claimed one"})
def claim_code(ctx: Ctx):
    """Claim an invite code for a user (used_by: an account or wallet address). Invite-only campaigns
    admit only users with a code. A used-up code, or a user who already claimed one, answers 409.
    """
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    user = users.ensure_user(ctx.session, ctx.org_id, *invites.identity_of(b["used_by"], b.get("platform")),
                             ctx.now)
    invites.claim(ctx.session, view, user, b["code"], ctx.now)
    return {}


@route(bp, "/code", "DELETE", summary="Release an invite code (from used_by only, when given)",
       body=RELEASE_BODY)
def release_code(ctx: Ctx):
    """Release an invite code so it can be used again; with used_by, only that user's claim is
    released.
    """
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    user = None
    if b.get("used_by") is not None:
        user = users.find_user(ctx.session, ctx.org_id, *invites.identity_of(b["used_by"], b.get("platform")))
        if user is None:
            raise NotFound("this code is not used by that user")
    invites.release(ctx.session, view, b["code"], user)
    return {}


# -- wallets ---------------------------------------------------------------------

ADDRESS = Param("address", True, {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"},
                "an EVM address (0x + 40 hex), compared case-insensitively")
WALLET_QUERY = (ADDRESS, PID, ENV_PARAM)


def _wallet(ctx: Ctx, address: str, *, create: bool = False):
    if create:
        return users.ensure_user(ctx.session, ctx.org_id, address, users.WALLET_PLATFORM, ctx.now)
    return users.find_user(ctx.session, ctx.org_id, address, users.WALLET_PLATFORM)


@route(bp, "/wallet/code", summary="The invite code a wallet used (empty string if none)",
       query=WALLET_QUERY)
def wallet_code(ctx: Ctx):
    """The invite code a wallet address used in the campaign; an empty string if none."""
    view = _view(ctx, ctx.args["pid"], ctx.args["env"])
    return {"code": invites.code_of(ctx.session, view, _wallet(ctx, ctx.args["address"])) or ""}


@route(bp, "/wallet/ref_id", summary="A registered wallet's referral id (created on first call)",
       query=(ADDRESS, PID, ENV_PARAM), writes=True, responses={404: "unknown wallet"})
def wallet_ref_id(ctx: Ctx):
    """The referral id of a registered wallet (platform web3), created on the first call."""
    campaigns.parse_env(ctx.args["env"])
    campaign = campaigns.get_campaign(ctx.session, ctx.org_id, ctx.args["pid"])
    user = _wallet(ctx, ctx.args["address"])
    if user is None:
        raise NotFound("unknown wallet")
    return {"ref_id": referrals.ensure_ref_id(ctx.session, campaign, user, ctx.now)}


@route(bp, "/wallet/referrals", summary="Wallets this wallet referred and the points each earned it",
       query=WALLET_QUERY)
def wallet_referrals(ctx: Ctx):
    """The wallets this wallet referred and the points each earned it."""
    view = _view(ctx, ctx.args["pid"], ctx.args["env"])
    user = _wallet(ctx, ctx.args["address"])
    return {"address": user.account if user else ctx.args["address"].lower(),
            "points": [{"address": r["user"].account, "total_points": r["ref_xp"]}
                       for r in referrals.referrals_of(ctx.session, view, user)]}


WALLET_ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
WALLET_REWARD_BODY = obj(["address", "pid", "id", "xp"], address=WALLET_ADDRESS, pid=STR, id=STR,
                         xp=POINTS, env=ENV, kind=STR)
WALLET_WITHDRAW_BODY = obj(["address", "pid", "id", "xp"], address=WALLET_ADDRESS, pid=STR, id=STR,
                           xp=POINTS, env=ENV, strict=BOOL)


@route(bp, "/wallet/reward", "POST", summary="Add xp to a wallet (platform web3)",
       body=WALLET_REWARD_BODY)
def wallet_reward(ctx: Ctx):
    """Credit xp to a wallet address (the user with platform web3). The id makes a repeat a no-op."""
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    user = _wallet(ctx, b["address"], create=True)
    return _movement_data(credits.reward(ctx.session, view, user, reward_id=b["id"], xp=b["xp"],
                                        kind=b.get("kind"), now=ctx.now))


@route(bp, "/wallet/withdraw", "POST", summary="Subtract xp from a wallet; strict never below zero",
       body=WALLET_WITHDRAW_BODY, responses={409: "strict withdrawal larger than the total"})
def wallet_withdraw(ctx: Ctx):
    """Debit xp from a wallet address; strict refuses to go below zero (409)."""
    b = ctx.body
    view = _view(ctx, b["pid"], b.get("env"))
    user = _wallet(ctx, b["address"], create=True)
    return _movement_data(credits.withdraw(ctx.session, view, user, withdraw_id=b["id"], xp=b["xp"],
                                          strict=b.get("strict", False), now=ctx.now))


# -- leaderboard --------------------------------------------------------------------

PAGE = {"type": "integer", "minimum": 0, "maximum": 10**9}


@route(bp, "/leaderboard", summary="Ranked users; v2 campaigns page with offset/limit or around=N",
       query=(PID, ENV_PARAM, Param("account", description="rank this user too (required in v2)"),
              Param("platform"), Param("offset", schema=PAGE),
              Param("limit", schema={"type": "integer", "minimum": 1, "maximum": 100}),
              Param("around", schema={"type": "integer", "minimum": 1, "maximum": 50},
                    description="v2: the N users above and below the caller instead of a page")))
def get_leaderboard(ctx: Ctx):
    """The campaign's ranked users. A v1 board pages with offset and limit. A v2 board needs account
    and platform, answers the caller's own rank too, and with around=N answers the N users above and
    below the caller instead of a page.
    """
    a = ctx.args
    view = _view(ctx, a["pid"], a["env"])
    if (a["account"] is None) != (a["platform"] is None):
        raise InvalidInput("account and platform are required together")
    named = a["account"] is not None
    user = users.find_user(ctx.session, ctx.org_id, a["account"], a["platform"]) if named else None
    b = leaderboard.board(ctx.session, view, user and user.id, named=named, offset=a["offset"] or 0,
                          limit=a["limit"] or leaderboard.MAX_PAGE, around_n=a["around"])
    data = {"live": True, "leaderboard": [
        {"rank": s.rank, "score": s.score, "user": {"id": s.account, "name": s.name, "avatar": s.avatar}}
        for s in b.rows]}
    if named:
        data["rank"] = b.rank
    return data


# -- webhooks -----------------------------------------------------------------------

HOOK_BODY = obj(
    ["scope", "uri", "hook_id"], scope=STR, hook_id=STR,
    uri={"type": "string", "minLength": 1, "maxLength": 2048},
    secret={**STR, "description": "HMAC key: whsec_<base64> as in Standard Webhooks (what their "
                                  "libraries verify with), or any text used as is; absent: the "
                                  "server generates a whsec_ secret and answers it once"},
    pids={"type": "array", "items": STR, "maxItems": 1000,
          "description": "only these campaigns; empty or absent: all"},
)
UNHOOK_BODY = obj(["scope", "hook_id"], scope=STR, hook_id=STR)


# writes=False: the transaction does not take SQLite's write lock up front
# (the first write does), since resolving the URI can take seconds.
@route(bp, "/hook", "POST", summary="Register (or update) a webhook for user activity", body=HOOK_BODY,
       writes=False, responses={400: "the uri is not allowed (https and a public address unless "
                                     "WEBHOOK_ALLOW_PRIVATE=1), or a bad whsec_ secret"})
def register_hook(ctx: Ctx):
    """Register a webhook (or update the one with this hook_id): every credit and completion of the
    listed campaigns (all if pids is empty) is POSTed to uri, signed as Standard Webhooks say
    (webhook-id, webhook-timestamp, webhook-signature headers). The uri must be public https;
    WEBHOOK_ALLOW_PRIVATE=1 also allows http and private addresses (development). Without a secret
    the server generates a `whsec_` secret and answers it once; a given secret is used as is (a
    `whsec_` secret is what the standardwebhooks libraries expect).
    """
    b = ctx.body
    hook = webhooks.register(ctx.session, ctx.org_id, scope=b["scope"], hook_id=b["hook_id"], uri=b["uri"],
                             secret=b.get("secret"), pids=b.get("pids") or [], now=ctx.now,
                             allow_private=current_settings().webhook_allow_private)
    # A generated secret is answered here only: store it to verify the deliveries.
    return {} if "secret" in b else {"secret": hook.secret}


@route(bp, "/hook", "DELETE", summary="Unregister a webhook: deliveries stop", body=UNHOOK_BODY)
def unregister_hook(ctx: Ctx):
    """Remove a webhook: messages not yet delivered are dropped, and no new ones are queued."""
    webhooks.unregister(ctx.session, ctx.org_id, scope=ctx.body["scope"], hook_id=ctx.body["hook_id"],
                        now=ctx.now)
    return {}
