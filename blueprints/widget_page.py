"""The participant widget's page and what its templates show (SPEC §7).

Rendered by the widget's routes (blueprints/widget.py) and by a spent play
link (blueprints/play.py). Every fact about the campaign comes from the
compiled view (engine/definitions/compiled.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask import render_template

from engine import ledger
from engine.access import tokens, users
from engine.definitions import campaigns
from engine.errors import Unauthorized
from engine.participation import games, invites, referrals
from engine.reads import leaderboard, progress, stats
from engine.definitions.branding import safe_url
from engine.run import settling
from extensions import db
from models import Campaign, User
from settings import current_settings

from .security_headers import allow_framing_by

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


def viewer_for(session: tokens.WidgetSession, token: str, now) -> Viewer:
    """The viewer a widget session names; Unauthorized when its user or campaign is gone,
    or the widget token it started from was revoked or has expired."""
    user = db.session.get(User, session.user_id)
    campaign = db.session.get(Campaign, session.campaign_id)
    if user is None or campaign is None or user.org_id != session.org_id or campaign.org_id != session.org_id:
        raise Unauthorized("missing or invalid widget session")
    if not tokens.session_holds(session, user, now.timestamp()):  # its token revoked or expired
        raise Unauthorized("missing or invalid widget session")
    view = campaigns.view(campaign, session.env)
    allow_framing_by(view.compiled.allowed_origins)
    return Viewer(user, view, token, now, session.page)


def start_session(ws: tokens.WidgetSession, now) -> str:
    return tokens.make_widget_session(current_settings().signing_secrets, ws, now.timestamp())


def render_page(viewer: Viewer, *, play_page: bool = False) -> str:
    """The whole widget page for ``viewer`` (also wrapped by the play page)."""
    return render_template("widget/page.html", **context(viewer), play_page=play_page)


PARTS = ("header", "quests", "referral", "invite", "leaderboard", "activity", "games")


def context(viewer: Viewer, parts: tuple[str, ...] = PARTS, result: dict | None = None) -> dict:
    """The template variables of the parts asked for (each reads only what it shows).

    ``result``: a game just played, which its card shows (and the wheel lands on).
    """
    view, user, s = viewer.view, viewer.user, db.session
    compiled = view.compiled
    ctx: dict = {"pid": view.campaign.pid, "brand": compiled.brand, "session": viewer.session_token,
                 "env": view.env, "name": users.display_name(user), "oob": False, "result": result,
                 "invite_error": None, "parts": parts}
    balances = ledger.get_balances(s, view.campaign.id, user.id, view.env)
    ctx["balance"] = balances.total
    if "header" in parts:
        total, season = stats.points(s, view)
        reached, nxt = settling.current_tier(compiled.tiers, balances.total_earned)
        ctx.update(season=season, tier=reached, next_tier=nxt,
                   to_next=(nxt["points_required"] - balances.total_earned) if nxt else None)
    if "quests" in parts:
        ctx["quests"] = _quests(viewer)
    if "referral" in parts:
        ctx["referral"] = _referral(viewer) if compiled.has_referrals else None
    if "invite" in parts or "quests" in parts:
        ctx["invite_only"] = compiled.invite_only
        ctx["invite_code"] = invites.code_of(s, view, user) if compiled.invite_only else None
    if "leaderboard" in parts:
        ctx["board"] = _board(viewer)
    if "activity" in parts:
        ctx["activity"] = [{"label": _label(e, view), "amount": e.amount, "at": e.created_at}
                           for e in ledger.recent(s, view.campaign.id, user.id, view.env, ACTIVITY_ITEMS)]
    if "games" in parts:
        ctx["games"] = [_game(game, compiled.prize_tiers, balances.total, result) for game in games.list_games(view)
                        if game.active]
    return ctx


def _label(entry, view) -> str:
    meta = entry.meta or {}
    if entry.kind == "task" and meta.get("aid") in view.compiled.actions:
        return view.compiled.actions[meta["aid"]].name
    if entry.kind == "milestone" and meta.get("code"):
        names = view.compiled.milestone_names
        return f"Milestone: {names.get(meta['code'], meta['code'])}"
    return KIND_LABELS.get(entry.kind, entry.kind)


def _quests(viewer: Viewer) -> list[dict]:
    view = viewer.view
    doc = progress.user_progress(db.session, view, viewer.user, viewer.now)
    by_id = {a["id"]: a for a in doc["actions"]}
    names = {a.id: a.name for a in view.compiled.actions.values()}
    running = view.compiled.running(viewer.now)
    for a in doc["actions"]:
        action = view.compiled.actions[a["id"]]
        a["url"] = action.url
        a["button_text"] = action.button_text
        a["description"] = action.description
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
            "bonus": view.compiled.referrer_bonus}


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


def _game(game, tiers: tuple[str, ...], balance: int, result: dict | None) -> dict:
    """A game card: the wheel's segments (every prize tier, then "Try again",
    repeated to the configured count), and where a play just landed."""
    labels = [*tiers, NO_PRIZE]
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

