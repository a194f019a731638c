"""The Management API: campaigns as code. /api/v1/admin, Bearer key.

Same envelope as the Campaign API; an invalid definition is a 400 whose
``errors`` lists ``{path, message}`` for every problem.
"""
from __future__ import annotations

from flask import Blueprint

from engine.access import tokens, users
from engine.definitions import campaigns
from engine.outbox import webhook_delivery, webhooks
from engine.participation import invites, simulate

from ._api import Ctx
from ._json import SIMULATE_BODY, Param, obj
from .dialects import management as management_dialect

bp = Blueprint("management_api", __name__, url_prefix="/api/v1/admin")
route = management_dialect.route

def campaign_data(campaign, env: str) -> dict:
    definition = campaign.draft if env == "dev" else campaign.live
    return {
        "pid": campaign.pid,
        "slug": campaign.slug,
        "env": env,
        "version": campaign.version,
        "definition": definition,
        "published_at": campaign.published_at,
        "draft_updated_at": campaign.draft_updated_at,
        "draft_differs": campaign.draft_differs,
    }


# The body is checked by campaigns.put_draft against the full schema, which
# reports every path; the route-level schema is only a document for OpenAPI.
@route(bp, "/campaigns/<pid>", "PUT", summary="Store a definition as the campaign's draft",
       body={"type": "object"}, responses={400: "invalid definition: errors[] with paths",
                                          409: "slug already used by another campaign"})
def put_campaign(ctx: Ctx, pid: str):
    """Store a campaign definition (a JSON document, see /schemas/campaign.json) as the campaign's
    draft, creating the campaign if new. The live version is untouched until publish. An invalid
    definition answers 400 with errors, each with its JSON path.
    """
    campaign = campaigns.put_draft(ctx.session, ctx.org_id, pid, ctx.body, ctx.now)
    return campaign_data(campaign, "dev")


@route(bp, "/campaigns/<pid>", summary="A campaign's definition: env=live (default) or dev (draft)",
       query=(Param("env", schema={"type": "string", "enum": ["live", "dev"]}),))
def get_campaign(ctx: Ctx, pid: str):
    """The stored definition: env=live (default) the published one, env=dev the draft, with version
    numbers.
    """
    campaign = campaigns.get_campaign(ctx.session, ctx.org_id, pid)
    env = campaigns.parse_env(ctx.args["env"])
    if env == "live":
        campaigns.view(campaign, env)  # 404 when never published
    return campaign_data(campaign, env)


@route(bp, "/campaigns/<pid>/publish", "POST", summary="Publish the draft: live = draft, version + 1")
def publish_campaign(ctx: Ctx, pid: str):
    """Make the draft live: the live definition becomes the draft and the version goes up by one.
    Participants keep their progress.
    """
    campaign, changed = campaigns.publish(ctx.session, ctx.org_id, pid, ctx.now)
    return {"pid": campaign.pid, "version": campaign.version, "changed": changed,
            "published_at": campaign.published_at}


CODES_BODY = obj([], count={"type": "integer", "minimum": 1, "maximum": invites.MAX_BATCH},
                 prefix={"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"},
                 max_uses={"type": "integer", "minimum": 1, "maximum": invites.MAX_USES})


@route(bp, "/campaigns/<pid>/codes", "POST", summary="Generate invite codes",
       body=CODES_BODY, status=201)
def generate_codes(ctx: Ctx, pid: str):
    """Generate count invite codes with an optional prefix; the codes are answered once, and can be
    exported from the dashboard.
    """
    campaign = campaigns.get_campaign(ctx.session, ctx.org_id, pid)
    b = ctx.body
    codes = invites.generate(ctx.session, campaign, count=b.get("count", 1), prefix=b.get("prefix"),
                             max_uses=b.get("max_uses", 1), now=ctx.now)
    return {"codes": codes}


@route(bp, "/campaigns/<pid>/simulate", "POST",
       summary="Dry run: what the draft would pay for these inputs, step by step; writes nothing",
       body=SIMULATE_BODY)
def simulate_campaign(ctx: Ctx, pid: str):
    """A dry run against the draft: the given events and values are applied to a throwaway copy of a
    user, and the answer lists, step by step, what each would pay and complete. Nothing is written.
    """
    campaign = campaigns.get_campaign(ctx.session, ctx.org_id, pid)
    b = ctx.body
    return simulate.simulate(ctx.session, campaign, account=b["account"], platform=b["platform"],
                             now=ctx.now, events_in=b.get("events", []), values=b.get("values", []),
                             streams=b.get("streams", []))


@route(bp, "/hooks/<hook_id>/messages", summary="A hook's latest messages with their delivery attempts",
       query=(Param("limit", schema={"type": "integer", "minimum": 1, "maximum": 500}),))
def hook_messages(ctx: Ctx, hook_id: str):
    """The hook's latest messages, newest first, each with its delivery attempts (status, answer code,
    duration).
    """
    hook = webhooks.get_hook(ctx.session, ctx.org_id, hook_id)
    return {
        "hook": {"hook_id": hook.hook_id, "scope": hook.scope, "uri": hook.uri, "pids": hook.pids,
                 "active": hook.active, "disabled_reason": hook.disabled_reason},
        "messages": [
            {"id": m.msg_id, "type": m.type, "status": m.status, "attempts": len(attempts),
             "next_attempt_at": m.next_attempt_at if m.status == "pending" else None,
             "created_at": m.created_at, "delivered_at": m.delivered_at, "body": m.body,
             "log": [{"at": a.attempted_at, "status_code": a.status_code, "latency_ms": a.latency_ms,
                      "error": a.error, "response": a.response_excerpt} for a in attempts]}
            for m, attempts in webhook_delivery.messages_of(ctx.session, hook, ctx.args["limit"] or 100)],
    }


@route(bp, "/messages/<msg_id>/redeliver", "POST", summary="Queue a message again, with a fresh schedule")
def redeliver_message(ctx: Ctx, msg_id: str):
    """Queue a message again with a fresh retry schedule, e.g. after the receiver was fixed."""
    message = webhook_delivery.redeliver(ctx.session, ctx.org_id, msg_id, ctx.now)
    return {"id": message.msg_id, "status": message.status, "next_attempt_at": message.next_attempt_at}


@route(bp, "/users/<platform>/<account>/revoke-tokens", "POST",
       summary="Revoke every widget token of a user (and the widget sessions started from them)",
       responses={404: "unknown user"})
def revoke_user_tokens(ctx: Ctx, platform: str, account: str):
    """Revoke every widget token the user holds, permanent or expiring, and every widget session
    opened with one: they answer 401 from now on. Tokens made afterwards (GET /api/v1/token) work.
    """
    user = users.get_user(ctx.session, ctx.org_id, account, platform)
    tokens.revoke_widget_tokens(ctx.session, user)
    return {"account": user.account, "platform": user.platform, "revoked_at": ctx.now}
