"""Play links (SPEC §7): issued by the Rewards API's award, opened from an e-mail.

- ``issue_link`` is the award's half: it creates the link in the award's
  transaction and registers the e-mail to go out only after that commit.
- ``GET /play?token=…`` shows a branded "start playing" page with a form and
  writes nothing, so mail scanners that prefetch the URL do not burn it.
- ``POST /play`` (the form) spends the link and shows the participant
  widget (blueprints/widget.py) of the link's campaign with a fresh widget
  session. No cookie is involved: the form carries the token itself, which
  is what makes the POST safe from cross-site forgery (a forger would need
  the token).

Unusable links (expired, used, tampered, unknown) get a friendly page with a
4xx status. These pages may not be framed (``frame-ancestors 'none'``).
"""
from __future__ import annotations

import logging
import secrets as random_secrets
from pathlib import Path
from urllib.parse import quote, urlsplit

from flask import Blueprint, current_app, g, render_template, request
from sqlalchemy.exc import OperationalError

from engine.definitions import campaigns
from engine.outbox import mail
from engine.access import playlinks, tokens, users
from engine.definitions.branding import brand_of
from engine.ledger import get_balances
from engine.access.playlinks import (PlayLinkError, PlayLinkExpired, PlayLinkTampered, PlayLinkUnknown,
    PlayLinkUsed)
from engine.db.storage import in_transaction
from engine.numbers import parse_int
from extensions import db
from models import Campaign, User

from . import widget
from ._api import Ctx, services, signing_secrets

log = logging.getLogger(__name__)

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


def public_url() -> str:
    return str(current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")


def play_url(token: str) -> str:
    return f"{public_url()}/play?token={quote(token, safe='')}"


# -- the award's half ---------------------------------------------------------------------

def issue_link(ctx: Ctx, view: campaigns.View, user: User, hours) -> dict:
    """Create a play link for ``user`` on ``view``'s campaign; e-mail it after the commit.

    Answers the award's ``playLink`` object; ``emailSent`` becomes true only
    once an SMTP server accepted the message (set after the commit, before
    the response is written). A rolled-back award sends nothing.
    """
    to = mail.check_address(user.email)
    issued = playlinks.issue_link(ctx.session, signing_secrets(), org_id=ctx.org_id, user_id=user.id,
                                  campaign_id=view.campaign.id, now=ctx.now, hours=hours)
    url = play_url(issued.token)
    link = {"url": url, "expiresAt": issued.expires_at, "emailSent": False}
    # Everything the message needs is read now: after the commit the ORM
    # objects are expired, and the e-mail must not touch the database.
    config = current_app.config
    now, link_id = ctx.now, issued.link.id
    try:
        message = mail.play_link_message(
            to=to, brand=brand_of(view.definition), name=users.display_name(user),
            balance=get_balances(ctx.session, view.campaign.id, user.id, view.env).total,
            link=url, expires_at=issued.expires_at, now=now, template=view.definition.get("email"),
            sender=config.get("SMTP_FROM"), sender_domain=_sender_domain())
    except Exception:  # a broken message must not cost the user the award: no e-mail, logged
        log.exception("could not build the e-mail for play link %s", link_id)
        return link
    outbox = Path(current_app.instance_path) / "outbox"

    def send(_data) -> None:
        # Runs after the commit: the points are paid whatever happens here.
        try:
            delivery = mail.send_mail(message, smtp_settings(config), outbox, now)
        except Exception:
            log.exception("the e-mail for play link %s could not be sent", link_id)
            return
        link["emailSent"] = delivery.sent
        if delivery.path is not None:
            log.info("no SMTP_HOST: play link %s e-mail written to %s", link_id, delivery.path)

    ctx.after_commit(send)
    return link


def smtp_settings(config) -> mail.SmtpSettings | None:
    """SMTP_* settings; None without SMTP_HOST (then e-mails go to the outbox folder)."""
    host = (config.get("SMTP_HOST") or "").strip()
    if not host:
        return None
    port = parse_int(str(config.get("SMTP_PORT") or "25"), name="SMTP_PORT")  # a bad value fails the send, logged
    return mail.SmtpSettings(host=host, port=port, user=config.get("SMTP_USER") or None,
                             password=config.get("SMTP_PASSWORD") or None)


def _sender_domain() -> str:
    host = urlsplit(public_url()).hostname or ""
    if "." in host and not host.replace(".", "").isdigit():
        return host
    return "localhost"


# -- the pages ----------------------------------------------------------------------------

@bp.before_request
def _nonce():
    g.csp_nonce = random_secrets.token_urlsafe(16)


@bp.after_request
def _security_headers(resp):
    nonce = g.get("csp_nonce", "")
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' https: http: data:; connect-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'")
    resp.headers["X-Frame-Options"] = "DENY"
    # The token is in the URL: never hand it to the logo's host in a Referer.
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _link_error(exc: PlayLinkError):
    status, title, advice = next(
        (v for cls, v in LINK_ERRORS.items() if isinstance(exc, cls)), LINK_ERRORS[PlayLinkTampered])
    return render_template("play/error.html", title=title, advice=advice,
                           brand=_brand_of_campaign(exc.details.get("campaign_id"))), status


def _brand_of_campaign(campaign_id):
    """The brand of a link whose campaign is known (expired, used); None otherwise."""
    if campaign_id is None:
        return None
    try:
        campaign = db.session.get(Campaign, campaign_id)
        return brand_of(campaigns.view(campaign, "live").definition) if campaign else None
    except (campaigns.UnknownCampaign, OperationalError):
        return None
    finally:
        db.session.rollback()


def _unavailable():
    return render_template("play/error.html", title="Please try again in a moment",
                           advice="We could not open your link right now; it has not been used.",
                           brand=None), 503


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
    try:
        link = playlinks.open_link(db.session, signing_secrets(), request.args.get("token"), now)
        user, view = _owner(link)
        page = render_template("play/start.html", brand=brand_of(view.definition),
                               name=users.display_name(user), token=request.args["token"].strip(),
                               expires_at=link.expires_at)
    except PlayLinkError as exc:
        return _link_error(exc)
    except campaigns.UnknownCampaign:
        return _link_error(PlayLinkUnknown("We could not find this play link."))
    except OperationalError:
        log.exception("database error opening a play link")
        return _unavailable()
    finally:
        db.session.rollback()
    return page


@bp.post("/play")
def play():
    """Spend the link and show the campaign's games with a fresh play session."""
    token = request.form.get("token")
    now = services().clock.now()
    secrets = signing_secrets()

    def spend() -> str:
        link = playlinks.spend_link(db.session, secrets, token, now)
        user, view = _owner(link)
        return _play_page(user, view, link, now)

    try:
        return in_transaction(db.session, spend, write=True)  # the spend is a write
    except PlayLinkError as exc:
        return _link_error(exc)
    except campaigns.UnknownCampaign:
        return _link_error(PlayLinkUnknown("We could not find this play link."))
    except OperationalError:
        log.exception("database error spending a play link")
        return _unavailable()


def _play_page(user: User, view: campaigns.View, link, now) -> str:
    """The widget of the link's campaign, with a widget session for its user."""
    ws = tokens.WidgetSession(link.org_id, user.id, view.campaign.id, view.env)
    viewer = widget.Viewer(user, view, widget.start_session(ws, now), now)
    return widget.render_page(viewer, play_page=True)
