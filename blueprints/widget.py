"""The participant widget (SPEC §7): /embed.js, the widget page, its fragments
and actions.

How a user gets in, without a third-party cookie:
- embedded: embed.js inserts an iframe on ``/widget/<pid>/frame``, which
  asks its parent for the user token by postMessage and POSTs it to
  ``/widget/<pid>``: the token never travels in a URL;
- development preview: ``GET /widget/<pid>?user_token=…&env=dev``;
- a spent play link (blueprints/play.py) renders the same page.
The page carries a short-lived signed *widget session* in ``hx-headers``:
every fragment and action request sends it as ``X-Widget-Session``. A header
is never sent cross-site by a browser on its own, so the actions need no
CSRF token.

A fragment owns its root id and swaps itself; after an action the balance,
the activity list and a toast go out of band. The page route answers the
whole body to an htmx request (HX-Request) and the page otherwise.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, render_template, request

from engine.access import tokens
from engine.definitions import campaigns
from engine.definitions.branding import safe_url
from engine.errors import Conflict, EngineError, InsufficientBalance, NotFound, Unauthorized
from engine.participation import events, games, invites
from extensions import db
from settings import current_settings, services

from . import pipeline
from .widget_page import PARTS, Viewer, context, render_page, start_session, viewer_for

bp = Blueprint("widget", __name__)

SESSION_HEADER = "X-Widget-Session"


def _error_page(status: int, title: str, advice: str):
    return render_template("widget/error.html", title=title, advice=advice), status


def _page_error(status: int, message: str, exc: EngineError | None):
    if status == 401:
        return _error_page(401, "This widget could not sign you in",
                           "The link or page that opened it is missing a valid user token.")
    if status == 404:
        return _error_page(404, "This campaign was not found", "Check the campaign id in the embed code.")
    if status == 503:
        return _error_page(503, "Please try again in a moment", "The service is busy.")
    return _error_page(status, "This widget could not open", message)


PAGE_ERRORS = pipeline.Errors(_page_error, {Unauthorized: 401, NotFound: 404}, http=False)


def _toast_error(status: int, message: str, exc: EngineError | None):
    if status == 401:
        return toast_only("Your session has ended. Reload the page to continue.", 401)
    if status == 503:
        return toast_only("The service is busy; try again in a moment.", 503)
    return toast_only(message, status)


FRAGMENT_ERRORS = pipeline.Errors(_toast_error, {Unauthorized: 401, NotFound: 404, Conflict: 409}, http=False)


# -- the page --------------------------------------------------------------------

def _open(pid: str, user_token, env_value, page_url=None):
    """Start a widget session from a user token and render the page."""
    now = services().clock.now()
    secrets = current_settings().signing_secrets
    page_url = (safe_url(page_url) or "").split("#")[0]

    def open_page(unit) -> str:
        user, ident = tokens.widget_user(db.session, secrets, user_token, now)  # not expired nor revoked
        env = campaigns.parse_env(env_value)
        campaign = campaigns.get_campaign(db.session, ident.org_id, pid)  # the token's org only
        ws = tokens.session_from_token(ident, campaign.id, env, page_url)
        return render_page(viewer_for(ws, start_session(ws, now), now))

    # A write: the page may create the user's referral id.
    return pipeline.run(open_page, write=True, errors=PAGE_ERRORS)


@bp.get("/widget/<pid>")
def page(pid: str):
    """The development preview (?user_token=…&env=dev), or the whole body for htmx."""
    if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
        return body(pid)
    return _open(pid, request.args.get("user_token"), request.args.get("env"))


@bp.post("/widget/<pid>")
def page_from_embed(pid: str):
    """embed.js's iframe posts the token here: it never appears in a URL."""
    return _open(pid, request.form.get("user_token"), request.form.get("env"), request.form.get("page"))


@bp.get("/widget/<pid>/frame")
def frame(pid: str):
    return render_template("widget/frame.html", pid=pid)


@bp.get("/embed.js")
def embed_js():
    return current_app.send_static_file("js/embed.js")


# -- fragments and actions -------------------------------------------------------

def session_route(rule: str, method: str = "GET"):
    """A widget request authenticated by its X-Widget-Session header.

    The request pipeline's transaction and retry; an engine error becomes a
    toast with the error's status (the page's htmx config swaps 4xx).
    """
    def decorator(view):
        @wraps(view)
        def endpoint(pid: str, **kw):
            now = services().clock.now()
            token = request.headers.get(SESSION_HEADER, "")

            def work(unit):
                ws = tokens.read_widget_session(current_settings().signing_secrets, token, now.timestamp())
                viewer = viewer_for(ws, token, now)
                if viewer.view.campaign.pid != pid:
                    raise Unauthorized("this widget session is for another campaign")
                return view(viewer, **kw)

            return pipeline.run(work, write=method == "POST", errors=FRAGMENT_ERRORS)

        bp.add_url_rule(f"/widget/<pid>{rule}", endpoint=view.__name__, view_func=endpoint,
                        methods=[method])
        return endpoint
    return decorator


def toast_only(message: str, status: int):
    """An error told in a toast; HX-Reswap: none keeps the target as it is."""
    html = render_template("widget/_toast.html", message=message, kind="error", oob=True)
    return html, status, {"HX-Reswap": "none"}


@session_route("/body")
def body(viewer: Viewer):
    return render_template("widget/_body.html", **context(viewer))


@session_route("/part/<name>")
def part(viewer: Viewer, name: str):
    if name not in PARTS:
        raise NotFound(f"no widget part {name!r}")
    ctx = context(viewer, parts=(name,))
    # A part the page leaves out (no referrals section, not invite-only) is a
    # 404, never an empty referral card or a pointless code form.
    if (name == "referral" and ctx["referral"] is None) or (name == "invite" and not ctx["invite_only"]):
        raise NotFound(f"this campaign shows no {name} part")
    return render_template(f"widget/_{name}.html", **ctx)


def _after_action(viewer: Viewer, main: str, message: str | None, kind: str = "success", result=None) -> str:
    """The fragment the action targets, then the header, activity, leaderboard
    and a toast out of band."""
    ctx = context(viewer, parts=(main, "header", "activity", "leaderboard"), result=result)
    html = render_template(f"widget/_{main}.html", **ctx)
    html += render_template("widget/_header.html", **{**ctx, "oob": True})
    html += render_template("widget/_activity.html", **{**ctx, "oob": True})
    html += render_template("widget/_leaderboard.html", **{**ctx, "oob": True})
    if message is None:
        return html
    return html + render_template("widget/_toast.html", message=message, kind=kind, oob=True)


@session_route("/visit/<aid>", "POST")
def visit(viewer: Viewer, aid: str):
    outcome = events.complete_visit(db.session, viewer.view, viewer.user, aid=aid, now=viewer.now)
    paid = outcome.paid_to(viewer.user.id)
    message = f"+{paid} points" if paid else "Done!"
    if outcome.quests:
        message += " · quest completed!"
    return _after_action(viewer, "quests", message)


INVITE_REFUSALS = {"used_up": "This code has been used up.",
                   "already_claimed": "You have already claimed an invite code."}


@session_route("/invite", "POST")
def claim_invite(viewer: Viewer):
    code = (request.form.get("code") or "").strip()
    if not code:
        return _invite_error(viewer, "Enter your invite code."), 400
    try:
        with db.session.begin_nested():
            invites.claim(db.session, viewer.view, viewer.user, code, viewer.now)
    except NotFound:
        return _invite_error(viewer, "We don't know this code. Check it and try again.", code), 404
    except Conflict as exc:
        text = INVITE_REFUSALS.get(exc.code, exc.message)
        return _invite_error(viewer, text, code), 409
    html = _after_action(viewer, "invite", "Invite code accepted. Welcome!")
    ctx = context(viewer, parts=("quests",))
    return html + render_template("widget/_quests.html", **{**ctx, "oob": True})


def _invite_error(viewer: Viewer, message: str, code: str = "") -> str:
    ctx = context(viewer, parts=("invite",))
    ctx["invite_error"] = message
    # The refused code stays in the field, to be corrected ("check it and try again").
    ctx["invite_value"] = code
    return render_template("widget/_invite.html", **ctx)


@session_route("/games/<game_type>/play", "POST")
def play_game(viewer: Viewer, game_type: str):
    try:
        with db.session.begin_nested():
            played = games.play(db.session, viewer.view, viewer.user, game_type, now=viewer.now,
                                rng=services().rng)
    except InsufficientBalance:
        return toast_only("You don't have enough points to play this game.", 409)
    p = played.play
    box = request.form.get("box", "0")
    result = {"type": game_type, "tier": p.tier, "points": p.points_won, "win_code": p.win_code,
              "box": int(box) if box in ("0", "1", "2") else 0}
    # No toast: the card announces the outcome once its animation has revealed it.
    return _after_action(viewer, "games", None, result=result)
