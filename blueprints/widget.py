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

import logging
import math
import secrets as random_secrets
from dataclasses import dataclass
from functools import wraps

from flask import Blueprint, Response, current_app, g, render_template, request
from sqlalchemy.exc import OperationalError

from engine.reads import stats, leaderboard, progress
from engine.definitions import campaigns
from engine.participation import events, games, invites, referrals
from engine.run import instant_win, settling
from engine import ledger
from engine.access import tokens, users
from engine.definitions.branding import brand_of, safe_url
from engine.errors import Conflict, EngineError, InsufficientBalance, NotFound, Unauthorized
from engine.db.storage import in_transaction
from extensions import db
from models import Campaign, User

from ._api import services, signing_secrets

log = logging.getLogger(__name__)
bp = Blueprint("widget", __name__)

SESSION_HEADER = "X-Widget-Session"
ACTIVITY_ITEMS = 8
BOARD_TOP = 5
BOARD_AROUND = 2
KIND_LABELS = {
    "task": "Task completed", "referral": "Referral bonus", "ugc": "Content reward",
    "reward": "Reward", "withdraw": "Points used", "rule": "Reward", "event": "Points earned",
    "milestone": "Milestone reached", "instant_win": "Prize won", "play": "Game played",
    "claim": "Reward claimed", "adjustment": "Adjustment",
}
SLOT_SYMBOLS = ("★", "◆", "●", "▲", "♣", "♥", "☀", "☾")


# -- security headers ------------------------------------------------------------

@bp.before_request
def _nonce():
    g.csp_nonce = random_secrets.token_urlsafe(16)


@bp.after_request
def _headers(resp: Response):
    if request.endpoint == "widget.embed_js":
        resp.headers["Cache-Control"] = "public, max-age=300"
        return resp
    nonce = g.get("csp_nonce", "")
    # Framed by the campaign's widget.allowed_origins (default: any); the
    # frame bootstrap holds nothing and may be framed by anyone.
    ancestors = g.get("frame_ancestors") or "*"
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' https: data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        f"frame-ancestors {ancestors}")
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Vary"] = "HX-Request"
    return resp


def _frame_ancestors(definition: dict) -> str:
    origins = [o for o in ((definition.get("widget") or {}).get("allowed_origins") or [])
               if isinstance(o, str) and safe_url(o) and " " not in o and ";" not in o]
    return " ".join(origins) if origins else "*"


# -- who is asking ---------------------------------------------------------------

@dataclass
class Viewer:
    """The widget's user on one campaign view, for one request."""

    user: User
    view: campaigns.View
    session_token: str
    now: object
    page: str = ""  # the embedding page's URL (referral links point there)

    @property
    def session(self):
        return db.session


def _viewer(session: tokens.WidgetSession, token: str, now) -> Viewer:
    user = db.session.get(User, session.user_id)
    campaign = db.session.get(Campaign, session.campaign_id)
    if user is None or campaign is None or user.org_id != session.org_id or campaign.org_id != session.org_id:
        raise Unauthorized("missing or invalid widget session")
    if not tokens.session_holds(session, user, now.timestamp()):  # its token revoked or expired
        raise Unauthorized("missing or invalid widget session")
    view = campaigns.view(campaign, session.env)
    g.frame_ancestors = _frame_ancestors(view.definition)
    return Viewer(user, view, token, now, session.page)


def start_session(ws: tokens.WidgetSession, now) -> str:
    return tokens.make_widget_session(signing_secrets(), ws, now.timestamp())


def _error_page(status: int, title: str, advice: str):
    return render_template("widget/error.html", title=title, advice=advice), status


# -- the page --------------------------------------------------------------------

def _open(pid: str, user_token, env_value, page_url=None):
    """Start a widget session from a user token and render the page."""
    now = services().clock.now()
    secrets = signing_secrets()
    page_url = (safe_url(page_url) or "").split("#")[0]

    def open_page() -> str:
        user, ident = tokens.widget_user(db.session, secrets, user_token, now)  # not expired nor revoked
        env = campaigns.parse_env(env_value)
        campaign = campaigns.get_campaign(db.session, ident.org_id, pid)  # the token's org only
        ws = tokens.session_from_token(ident, campaign.id, env, page_url)
        return render_page(_viewer(ws, start_session(ws, now), now))

    try:
        # A write: the page may create the user's referral id.
        return in_transaction(db.session, open_page, write=True)
    except Unauthorized:
        return _error_page(401, "This widget could not sign you in",
                           "The link or page that opened it is missing a valid user token.")
    except NotFound:
        return _error_page(404, "This campaign was not found", "Check the campaign id in the embed code.")
    except EngineError as exc:
        return _error_page(400, "This widget could not open", exc.message)
    except OperationalError:
        log.exception("database error opening the widget")
        return _error_page(503, "Please try again in a moment", "The service is busy.")


def render_page(viewer: Viewer, *, play_page: bool = False) -> str:
    """The whole widget page for ``viewer`` (also wrapped by the play page)."""
    return render_template("widget/page.html", **context(viewer), play_page=play_page)


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

    One transaction, retried on lock failures; an engine error becomes a
    toast with the error's status (the page's htmx config swaps 4xx).
    """
    def decorator(view):
        @wraps(view)
        def endpoint(pid: str, **kw):
            now = services().clock.now()
            token = request.headers.get(SESSION_HEADER, "")

            def run():
                ws = tokens.read_widget_session(signing_secrets(), token, now.timestamp())
                viewer = _viewer(ws, token, now)
                if viewer.view.campaign.pid != pid:
                    raise Unauthorized("this widget session is for another campaign")
                return view(viewer, **kw)

            try:
                return in_transaction(db.session, run, write=method == "POST")
            except Unauthorized:
                return toast_only("Your session has ended. Reload the page to continue.", 401)
            except EngineError as exc:
                status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 400
                return toast_only(exc.message, status)
            except OperationalError:
                log.exception("database error in the widget")
                return toast_only("The service is busy; try again in a moment.", 503)

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


PARTS = ("header", "quests", "referral", "invite", "leaderboard", "activity", "games")


@session_route("/part/<name>")
def part(viewer: Viewer, name: str):
    if name not in PARTS:
        raise NotFound(f"no widget part {name!r}")
    ctx = context(viewer, parts=(name,))
    # A part the page leaves out (no referrals section, not invite-only)
    # rendered an empty referral card or a pointless code form; 404 instead.
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
        text = ("This code has been used up." if "used up" in exc.message
                else "You have already claimed an invite code." if "already claimed" in exc.message
                else exc.message)
        return _invite_error(viewer, text, code), 409
    html = _after_action(viewer, "invite", "Invite code accepted. Welcome!")
    ctx = context(viewer, parts=("quests",))
    return html + render_template("widget/_quests.html", **{**ctx, "oob": True})


def _invite_error(viewer: Viewer, message: str, code: str = "") -> str:
    ctx = context(viewer, parts=("invite",))
    ctx["invite_error"] = message
    # The re-rendered form kept nothing of what was typed, so "check it
    # and try again" left an empty field; the refused code stays to be corrected.
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


# -- what the templates show -----------------------------------------------------

def context(viewer: Viewer, parts: tuple[str, ...] = PARTS, result: dict | None = None) -> dict:
    """The template variables of the parts asked for (each reads only what it shows).

    ``result``: a game just played, which its card shows (and the wheel lands on).
    """
    view, user, s = viewer.view, viewer.user, db.session
    definition = view.definition
    ctx: dict = {"pid": view.campaign.pid, "brand": brand_of(definition), "session": viewer.session_token,
                 "env": view.env, "name": users.display_name(user), "oob": False, "result": result,
                 "invite_error": None, "parts": parts}
    balances = ledger.get_balances(s, view.campaign.id, user.id, view.env)
    ctx["balance"] = balances.total
    if "header" in parts:
        total, season = stats.points(s, view)
        reached, nxt = settling.current_tier(view.compiled.tiers, balances.total_earned)
        ctx.update(season=season, tier=reached, next_tier=nxt,
                   to_next=(nxt["points_required"] - balances.total_earned) if nxt else None)
    if "quests" in parts:
        ctx["quests"] = _quests(viewer)
    if "referral" in parts:
        ctx["referral"] = _referral(viewer) if "referrals" in definition else None
    if "invite" in parts or "quests" in parts:
        ctx["invite_only"] = view.compiled.invite_only
        ctx["invite_code"] = invites.code_of(s, view, user) if view.compiled.invite_only else None
    if "leaderboard" in parts:
        ctx["board"] = _board(viewer)
    if "activity" in parts:
        ctx["activity"] = [{"label": _label(e, view), "amount": e.amount, "at": e.created_at}
                           for e in ledger.recent(s, view.campaign.id, user.id, view.env, ACTIVITY_ITEMS)]
    if "games" in parts:
        ctx["games"] = [_game(game, definition, balances.total, result) for game in games.list_games(view)
                        if game.active]
    return ctx


def _label(entry, view) -> str:
    meta = entry.meta or {}
    if entry.kind == "task" and meta.get("aid") in view.compiled.actions:
        return view.compiled.actions[meta["aid"]].name
    if entry.kind == "milestone" and meta.get("code"):
        names = {m["code"]: m["name"] for m in (view.definition.get("mechanics") or {}).get("milestones", [])}
        return f"Milestone: {names.get(meta['code'], meta['code'])}"
    return KIND_LABELS.get(entry.kind, entry.kind)


def _quests(viewer: Viewer) -> list[dict]:
    view = viewer.view
    doc = progress.user_progress(db.session, view, viewer.user, viewer.now)
    by_id = {a["id"]: a for a in doc["actions"]}
    names = {a.id: a.name for a in view.compiled.actions.values()}
    running = view.compiled.running(viewer.now)
    for a in doc["actions"]:
        raw = view.compiled.actions[a["id"]].raw
        a["url"] = safe_url(raw.get("url"))
        a["button_text"] = raw.get("button_text") or "Go"
        a["description"] = raw.get("description")
        a["resets_in"] = _until(a["next_reset_at"], viewer.now) if a["next_reset_at"] else None
        a["next_reset_iso"] = a["next_reset_at"].isoformat() if a["next_reset_at"] else None
        if a["status"] == "locked":
            missing = [names.get(d, d) for d in a["deps"] if by_id.get(d, {}).get("completions", 0) == 0]
            a["unlock"] = ("Complete " + ", ".join(missing) + " first" if missing and running
                           else "Claim an invite code first" if running
                           else "Opens when the campaign is running")
    groups = []
    for q in doc["quests"]:
        quest = view.compiled.quests[q["id"]]
        groups.append({**q, "description": quest.description,
                       "actions": [by_id[a] for a in quest.action_ids]})
    loose = [a for a in doc["actions"] if a["quest"] is None]
    if loose:
        groups.append({"id": "_tasks", "name": "Tasks", "status": None, "description": None,
                       "actions": loose})
    return groups


def _until(when, now) -> str:
    minutes = max(1, int((when - now).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h {minutes % 60} min" if hours < 48 else f"{hours // 24} days"


def _referral(viewer: Viewer) -> dict:
    view = viewer.view
    ref_id = referrals.ensure_ref_id(db.session, view.campaign, viewer.user, viewer.now)
    count = len(referrals.referrals_of(db.session, view, viewer.user))
    page = viewer.page
    link = f"{page}{'&' if '?' in page else '?'}ref={ref_id}" if page else None
    return {"ref_id": ref_id, "link": link, "count": count,
            "bonus": int((view.definition.get("referrals") or {}).get("referrer_bonus", 0))}


def _board(viewer: Viewer) -> dict:
    s, view, uid = db.session, viewer.view, viewer.user.id
    top = leaderboard.standings(s, view, limit=BOARD_TOP)
    rank = leaderboard.rank_of(s, view, uid)
    near = []
    if rank is not None and rank > BOARD_TOP:
        near = [r for r in leaderboard.around(s, view, uid, BOARD_AROUND) if r.rank > BOARD_TOP]
    return {"top": top, "near": near, "rank": rank, "me": uid}


NO_PRIZE = "Try again"
WHEEL_RADIUS = 95


def _wedges(segments: list[str]) -> list[dict]:
    """SVG paths of the wheel: segment i is centred at i * 360/n degrees
    clockwise from the top, where the pointer is (widget.js turns the wheel
    by -i * 360/n plus whole turns to land on it)."""
    n, out = len(segments), []
    for i, label in enumerate(segments):
        a0 = math.radians((i - 0.5) * 360 / n - 90)
        a1 = math.radians((i + 0.5) * 360 / n - 90)
        mid = (a0 + a1) / 2
        x0, y0 = WHEEL_RADIUS * math.cos(a0), WHEEL_RADIUS * math.sin(a0)
        x1, y1 = WHEEL_RADIUS * math.cos(a1), WHEEL_RADIUS * math.sin(a1)
        out.append({
            "d": f"M0 0 L{x0:.2f} {y0:.2f} A{WHEEL_RADIUS} {WHEEL_RADIUS} 0 0 1 {x1:.2f} {y1:.2f} Z",
            "label": label, "shade": "none" if label == NO_PRIZE else i % 2,
            "x": f"{58 * math.cos(mid):.2f}", "y": f"{58 * math.sin(mid):.2f}",
            "rot": f"{math.degrees(mid):.1f}"})  # the label reads along the radius
    return out


def _game(game, definition: dict, balance: int, result: dict | None) -> dict:
    """A game card: the wheel's segments (every prize tier, then "Try again",
    repeated to the configured count), and where a play just landed."""
    tiers = [t["name"] for t in (instant_win.config(definition) or {}).get("tiers", [])]
    labels = tiers + [NO_PRIZE]
    wanted = (game.config or {}).get("segments", 8)
    n = min(24, max(len(labels), wanted if isinstance(wanted, int) else 8))
    segments = [labels[i % len(labels)] for i in range(n)]
    card = {"game": game, "image_url": safe_url(game.image_url), "segments": segments,
            "wedges": _wedges(segments), "affordable": balance >= game.points_to_unlock, "result": None}
    if result is not None and result["type"] == game.type:
        outcome = result["tier"] or NO_PRIZE
        # The server drew the outcome; the animation only reveals it.
        land = segments.index(outcome) if outcome in segments else segments.index(NO_PRIZE)
        symbol = SLOT_SYMBOLS[(tiers.index(outcome) if outcome in tiers else 0) % len(SLOT_SYMBOLS)]
        reels = [symbol] * 3 if result["tier"] else [SLOT_SYMBOLS[i] for i in (0, 3, 5)]
        card["result"] = {**result, "label": outcome, "land": land, "reels": reels}
    return card
