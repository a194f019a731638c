"""The Rewards API (GamifyHost's dialect): /v1, X-API-Secret.

Envelopes exactly as GamifyHost documents them: the award answers
``{"message", "code": 201, "status": "success", "data"}``, everything else
``{"status": "success", "data"}``; every error
``{"status": "error", "code": <status>, "message": "..."}``; camelCase.
The Games SDK endpoints (blueprints/games_api.py) share this dialect.
"""
from __future__ import annotations

from flask import Blueprint

from engine.definitions import campaigns
from engine.run import instant_win
from engine.participation import awards
from engine.access import users
from engine.errors import InvalidInput, NotFound, UnknownCampaign
from engine.access.users import INTERNAL_PLATFORM
from settings import current_settings, services

from ._api import Ctx, Reply
from ._json import BOOL, STR, obj
from .dialects import rewards as rewards_dialect
bp = Blueprint("rewards_api", __name__, url_prefix="/v1")
route = rewards_dialect.route




AWARD_BODY = obj(
    ["userId", "eventType"], userId=STR, eventType=STR, displayName=STR,
    email={"type": "string", "format": "email", "maxLength": 256},
    metadata={"type": "object"}, reference=STR, sendPlayLink=BOOL,
    linkExpiresInHours={"type": "integer", "minimum": 1, "maximum": 720},
)


@route(bp, "/points/award", "POST", summary="Award the default campaign's reward rule for an event type",
       body=AWARD_BODY, status=201,
       responses={404: "No reward rule found for event type",
                  409: "Duplicate reference, or max_per_user reached"})
def award_points(ctx: Ctx):
    """Award the default campaign's reward rule for an event type to a user (created on first use, with
    displayName and email). `reference` makes a repeat a no-op (409 Duplicate reference). With
    sendPlayLink, a one-time play link is e-mailed and answered in data.playLink.
    """
    b = ctx.body
    view = ctx.default_view()
    if b.get("sendPlayLink") and not (b.get("email")):
        raise InvalidInput("email is required when sendPlayLink is true")
    user = users.ensure_user(ctx.session, ctx.org_id, b["userId"], INTERNAL_PLATFORM, ctx.now,
                             name=b.get("displayName"), email=b.get("email"))
    made = awards.award(ctx.session, view, user, event_type=b["eventType"], now=ctx.now,
                         reference=b.get("reference"), metadata=b.get("metadata"))
    data = {"ledgerId": str(made.entry.id), "userId": user.account, "eventType": b["eventType"],
            "pointsAwarded": made.points, "userBalance": made.balance,
            "reference": b.get("reference"), "createdAt": made.entry.created_at}
    if b.get("sendPlayLink"):
        data["playLink"] = _play_link(ctx, view, user, b.get("linkExpiresInHours", 48))
    return Reply({"message": "Points awarded successfully", "code": 201, "status": "success",
                  "data": data}, status=201, raw=True)


def _play_link(ctx: Ctx, view: campaigns.View, user, hours) -> dict:
    """The award's ``playLink``: ``emailSent`` becomes true only once an SMTP
    server accepted the e-mail, sent after the commit and before the answer
    is written. A rolled-back award sends nothing."""
    settings = current_settings()
    offer = awards.offer_play_link(ctx.session, settings.signing_secrets, view, user, now=ctx.now,
                                   hours=hours, public_url=settings.base_url(), mailer=settings.mailer())
    link = {"url": offer.url, "expiresAt": offer.expires_at, "emailSent": False}
    ctx.after_commit(lambda _data: link.update(emailSent=offer.send_after_commit()))
    return link


EVENT_BODY = obj(["userId", "eventType"], userId=STR, eventType=STR, metadata={"type": "object"})


@route(bp, "/campaigns/<slug>/events", "POST", body=EVENT_BODY,
       summary="Record a campaign event: mechanics, milestones, instant win and tasks",
       responses={404: "Campaign not found or not active", 409: "User has exceeded maximum plays"})
def campaign_event(ctx: Ctx, slug: str):
    """Record an event in a campaign (by slug): points mechanics, milestones, an instant-win draw (a
    winCode when a prize is won) and tasks, in one step.
    """
    b = ctx.body
    try:
        campaign = campaigns.get_campaign_by_slug(ctx.session, ctx.org_id, slug)
    except UnknownCampaign:
        raise NotFound("Campaign not found or not active") from None
    user = users.ensure_user(ctx.session, ctx.org_id, b["userId"], INTERNAL_PLATFORM, ctx.now)
    r = awards.campaign_event(ctx.session, campaign, user, event_type=b["eventType"],
                               metadata=b.get("metadata"), now=ctx.now, rng=services().rng)
    data = {"pointsEarned": r.points_earned, "totalPoints": r.total_points, "milestones": r.milestones}
    if r.triggered:
        data["instantWin"] = {
            "won": r.draw.won, "prizeTier": r.draw.tier, "pointsEarned": r.draw.points,
            "winCode": r.draw.win_code,
            "message": (f"Congratulations! You won the {r.draw.tier} prize!" if r.draw.won
                        else "No prize this time. Better luck next time!"),
        }
    data["message"] = "Event recorded successfully"
    return data


def _play_data(play) -> dict:
    return {"winCode": play.win_code, "prizeTier": play.tier, "pointsEarned": play.points_won,
            "userId": play.user.account, "campaign": play.campaign.pid,
            "createdAt": play.created_at, "redeemedAt": play.redeemed_at}


def _win_code(ctx: Ctx, code: str):
    ids = [c.id for c in campaigns.list_campaigns(ctx.session, ctx.org_id)]
    return instant_win.find_win_code(ctx.session, ids, code)


@route(bp, "/win-codes/<code>", summary="Look up a win code")
def get_win_code(ctx: Ctx, code: str):
    """Look up an instant-win code: its prize, its owner and whether it was redeemed."""
    return _play_data(_win_code(ctx, code))


@route(bp, "/win-codes/<code>/redeem", "POST", summary="Redeem a win code (once)",
       responses={409: "already redeemed"})
def redeem_win_code(ctx: Ctx, code: str):
    """Redeem a win code; a second redemption answers 409."""
    play = instant_win.redeem(ctx.session, _win_code(ctx, code), ctx.now)
    return _play_data(play)


@route(bp, "/users/<user_id>", summary="A user's balance in the default campaign",
       responses={404: "unknown user"})
def get_user(ctx: Ctx, user_id: str):
    """A user's balance and profile in the default campaign."""
    return awards.user_summary(ctx.session, ctx.default_view(), ctx.internal_user(user_id))
