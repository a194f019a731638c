"""Play links (SPEC §7): issued by the Rewards API's award, opened from an e-mail.

- The award issues the link and its e-mail through the engine
  (engine.participation.awards.offer_play_link); the e-mail leaves after
  the award's commit.
- ``GET /play?token=…`` shows a branded "start playing" page with a form and
  writes nothing, so mail scanners that prefetch the URL do not burn it.
- ``POST /play`` (the form) spends the link and shows the participant
  widget (blueprints/widget_page.py) of the link's campaign with a fresh
  widget session. No cookie is involved: the form carries the token itself,
  which is what makes the POST safe from cross-site forgery (a forger would
  need the token).

Unusable links (expired, used, tampered, unknown) get a friendly page with a
4xx status. These pages may not be framed (blueprints/security_headers.py).
"""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy.exc import OperationalError

from engine.access import playlinks, tokens, users
from engine.access.playlinks import PlayLinkError, PlayLinkExpired, PlayLinkTampered, PlayLinkUnknown, PlayLinkUsed
from engine.definitions import campaigns
from engine.errors import EngineError
from extensions import db
from models import Campaign, User
from settings import current_settings, services

from . import pipeline
from .widget_page import Viewer, render_page, start_session

bp = Blueprint("play", __name__)

# Each engine error's status, the page's headline and what the user can do.
ASK_AGAIN = "Ask for a new play link and it will arrive by e-mail."
LINK_ERRORS: dict[type, tuple[int, str, str]] = {
    PlayLinkExpired: (410, "This link has expired",
                      "Play links work for a limited time. " + ASK_AGAIN),
    PlayLinkUsed: (410, "This link has already been used",
                   "Each play link works once. " + ASK_AGAIN),
    PlayLinkUnknown: (404, "We could not find this link",
                      "It may have been replaced by a newer one. " + ASK_AGAIN),
    PlayLinkTampered: (400, "This link is not valid",
                       "Check that you opened the whole address from the e-mail. " + ASK_AGAIN),
}


def _page_error(status: int, message: str, exc: EngineError | None):
    if status == 503:
        return render_template("play/error.html", title="Please try again in a moment",
                               advice="We could not open your link right now; it has not been used.",
                               brand=None), 503
    if isinstance(exc, campaigns.UnknownCampaign):
        exc = PlayLinkUnknown("We could not find this play link.")
    status, title, advice = next(
        (v for cls, v in LINK_ERRORS.items() if isinstance(exc, cls)), LINK_ERRORS[PlayLinkTampered])
    campaign_id = exc.details.get("campaign_id") if isinstance(exc, PlayLinkError) else None
    return render_template("play/error.html", title=title, advice=advice,
                           brand=_brand_of_campaign(campaign_id)), status


ERRORS = pipeline.Errors(_page_error, {cls: v[0] for cls, v in LINK_ERRORS.items()}, http=False)


def _brand_of_campaign(campaign_id):
    """The brand of a link whose campaign is known (expired, used); None otherwise."""
    if campaign_id is None:
        return None
    try:
        campaign = db.session.get(Campaign, campaign_id)
        return campaigns.view(campaign, "live").compiled.brand if campaign else None
    except (campaigns.UnknownCampaign, OperationalError):
        return None
    finally:
        db.session.rollback()


def _owner(link) -> tuple[User, campaigns.View]:
    session = db.session
    user = session.get(User, link.user_id)
    campaign = session.get(Campaign, link.campaign_id)
    if user is None or campaign is None or user.org_id != link.org_id or campaign.org_id != link.org_id:
        raise PlayLinkUnknown("We could not find this play link.")
    return user, campaigns.view(campaign, "live")


@bp.get("/play")
def start():
    """The "start playing" page: the link is checked, not spent."""
    now = services().clock.now()

    def show(unit: pipeline.Unit) -> str:
        unit.keep_nothing()
        token = request.args.get("token")
        link = playlinks.open_link(db.session, current_settings().signing_secrets, token, now)
        user, view = _owner(link)
        return render_template("play/start.html", brand=view.compiled.brand,
                               name=users.display_name(user), token=token.strip(),
                               expires_at=link.expires_at)

    return pipeline.run(show, write=False, errors=ERRORS)


@bp.post("/play")
def play():
    """Spend the link and show the campaign's games with a fresh play session."""
    token = request.form.get("token")
    now = services().clock.now()

    def spend(unit: pipeline.Unit) -> str:
        link = playlinks.spend_link(db.session, current_settings().signing_secrets, token, now)
        user, view = _owner(link)
        ws = tokens.WidgetSession(link.org_id, user.id, view.campaign.id, view.env)
        return render_page(Viewer(user, view, start_session(ws, now), now), play_page=True)

    return pipeline.run(spend, write=True, errors=ERRORS)  # the spend is a write
