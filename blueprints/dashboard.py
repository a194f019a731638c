"""The operator dashboard (SPEC §8): /dashboard, login at /dashboard/login.

Server-rendered pages over the same engine functions as the APIs. Every
page needs a logged-in operator and shows only their organization's objects:
ids in URLs are always looked up *within* the operator's organization.
Every POST carries a CSRF token (a form field, or X-CSRF-Token for htmx),
checked before the view runs. Dashboard pages may not be framed
(blueprints/security_headers.py).

Operator sessions (flask-login): the session cookie (signed with SECRET_KEY,
old keys from SECRET_KEY_FALLBACKS still verify) holds the operator's id with
their session generation, when they logged in and when they were last seen;
engine.access.operators decides whether that session still holds (ended on
the server, or its idle or absolute lifetime passed: SESSION_IDLE_MINUTES,
SESSION_ABSOLUTE_HOURS in settings.py). It is HttpOnly and SameSite=Lax, and
Secure when PUBLIC_URL is https.
"""
from __future__ import annotations

import difflib
import hmac
import json
import secrets as random_secrets
from dataclasses import dataclass
from functools import wraps

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_login import (LoginManager, UserMixin, current_user, login_required, login_user, logout_user,
    user_logged_in)

from engine.reads import analytics, exports, stats, progress
from engine.definitions import campaigns
from engine.outbox import webhook_delivery, webhooks
from engine.participation import awards, events, invites, credits, simulate
from engine.access import keys, operators, tokens
from engine import ledger
from engine.errors import Conflict, EngineError, InvalidInput, NotFound
from engine.numbers import NotAnInteger, parse_int
from extensions import db
from models import Operator, User
from settings import current_settings, services

from . import pipeline
from ._json import SIMULATE_BODY, check, parse_json, validator_for

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
# Ids are BIGINT columns: the routes take no larger number (a 404), which
# would overflow the query.
ROW_ID = "int(max=9223372036854775807)"

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CHART_W, CHART_H = 640, 160


# -- operator sessions -----------------------------------------------------------

login_manager = LoginManager()
login_manager.session_protection = "strong"
LOGGED_IN_AT, SEEN_AT = "qk_login_at", "qk_seen_at"
SEEN_STEP = 60  # seconds: the cookie is re-sent with a new "last seen" at most once a minute


@dataclass
class OperatorLogin(UserMixin):
    id: int
    org_id: int
    email: str
    generation: int = 0

    def get_id(self) -> str:
        return f"{self.id}.{self.generation}"


@login_manager.user_loader
def _load(user_id: str):
    try:
        operator_id, generation = (parse_int(part) for part in str(user_id).split("."))
        logged_in_at, seen_at = float(session[LOGGED_IN_AT]), float(session[SEEN_AT])
    except (NotAnInteger, KeyError, TypeError, ValueError):
        return None  # a session of another shape (or none): logged out
    settings, at = current_settings(), now()
    op = operators.session_operator(db.session, operator_id, generation, logged_in_at, seen_at, at,
                                    idle=settings.session_idle, absolute=settings.session_absolute)
    if op is None:
        return None
    if at.timestamp() - seen_at >= SEEN_STEP:
        session[SEEN_AT] = at.timestamp()
    return OperatorLogin(op.id, op.org_id, op.email, op.session_generation)


@user_logged_in.connect
def _stamp(app, user, **_):
    session[LOGGED_IN_AT] = session[SEEN_AT] = now().timestamp()


@login_manager.unauthorized_handler
def _login_first():
    return redirect(url_for("dashboard.login", next=request.path))


def init_app(app) -> None:
    login_manager.init_app(app)
    secure = app.extensions["questkit"].settings.public_url.startswith("https://")
    # Flask's defaults hold these keys already (SameSite unset): set them unless configured.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("SESSION_COOKIE_SECURE")) or secure
    app.config["SESSION_COOKIE_NAME"] = "questkit_session"


# -- security --------------------------------------------------------------------

def csrf_token() -> str:
    if "_csrf" not in session:
        session["_csrf"] = random_secrets.token_urlsafe(32)
    return session["_csrf"]


@bp.app_context_processor
def _template_helpers():
    return {"csrf_token": csrf_token}


@bp.before_request
def _check_csrf():
    # PostgreSQL text cannot hold U+0000 (a 500 there, stored on SQLite): refused in every field,
    # the path and the query on both databases alike, as the APIs refuse it in their bodies.
    if "\x00" in request.path or any("\x00" in v for src in (request.args, request.form)
                                      for _, v in src.items(multi=True)):
        return render_template("dashboard/message.html", title="Invalid input",
                               text="NUL characters are not allowed."), 400
    if request.method == "POST":
        sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
        expected = session.get("_csrf") or ""
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            return render_template("dashboard/message.html", title="This form has expired",
                                   text="Reload the page and try again (the CSRF token was missing or wrong)."), 400


def org_id() -> int:
    return current_user.org_id


def now():
    return services().clock.now()


def _not_found_page(message: str):
    return render_template("dashboard/message.html", title="Not found", text=message), 404


def _flash_error(status: int, message: str, exc: EngineError | None):
    """What the engine refuses (a bad code batch, a slug another campaign took before
    publishing, a message a worker is sending) is the operator's news, not a 500; the
    pipeline has rolled everything back. Ids outside the organization are unknown: 404."""
    if status == 404:
        return _not_found_page(message)
    flash("The database is busy; nothing was changed. Try again." if status == 503 else message, "error")
    return redirect(request.referrer or url_for("dashboard.home"))


ERRORS = pipeline.Errors(_flash_error, {NotFound: 404}, http=False)


def _page_error(status: int, message: str, exc: EngineError | None):
    if status == 404:
        return _not_found_page(message)
    if status == 503:
        return render_template("dashboard/message.html", title="Please try again in a moment",
                               text="The database is busy."), 503
    return render_template("dashboard/message.html", title="This page could not be shown", text=message), status


PAGE_ERRORS = pipeline.Errors(_page_error, {NotFound: 404}, http=False)


def writes(view):
    """A POST that writes: the request pipeline with SQLite's write lock up front;
    engine errors become flash messages."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        return pipeline.run(lambda unit: view(*args, **kwargs), write=True, errors=ERRORS)
    return wrapper


def reads(view):
    """A page that writes nothing: the request pipeline, rolled back; engine errors
    become a message page with their status."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        def work(unit: pipeline.Unit):
            unit.keep_nothing()
            return view(*args, **kwargs)
        return pipeline.run(work, write=False, errors=PAGE_ERRORS)
    return wrapper


# -- login -----------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("dashboard/login.html", error=None)
    email = request.form.get("email", "")
    password = request.form.get("password", "")

    def attempt(unit: pipeline.Unit):
        try:
            return operators.login(db.session, email, password, now(), client=request.remote_addr)
        except operators.TooManyAttempts as exc:
            unit.keep_nothing()
            return render_template("dashboard/login.html", error=exc.message, email=email), 429
        except EngineError as exc:  # committed: the failure is counted
            return render_template("dashboard/login.html", error=exc.message, email=email), 401

    op = pipeline.run(attempt, write=True, errors=ERRORS)  # a success clears the count
    if not isinstance(op, Operator):
        return op
    session.clear()  # no session fixation: a fresh session (and CSRF token) per login
    login_user(OperatorLogin(op.id, op.org_id, op.email, op.session_generation))
    target = request.args.get("next") or ""
    # Only a path of ours: never an open redirect. Control characters (CR/LF) cannot go into a
    # Location header at all (a 500 after a good password), so they fall back to home too.
    if not target.startswith("/dashboard") or target.startswith("//") or not target.isprintable():
        target = url_for("dashboard.home")
    return redirect(target)


@bp.post("/logout")
@login_required
@writes
def logout():
    return _end_every_session()


def _end_every_session():
    # Ended on the server: a copy of this session's cookie, or of any other
    # session of the operator, opens nothing afterwards.
    operators.end_sessions_of(db.session, current_user.id)
    logout_user()
    session.clear()
    return redirect(url_for("dashboard.login"))


@bp.get("/account")
@login_required
@reads
def account():
    return render_template("dashboard/account.html")


@bp.post("/account/password")
@login_required
@writes
def change_password():
    f = request.form
    if f.get("new_password", "") != f.get("repeat_password", ""):
        flash("the new passwords differ", "error")
        return redirect(url_for("dashboard.account"))
    op = operators.change_password(db.session, current_user.id, f.get("current_password", ""),
                                   f.get("new_password", ""))
    # Every other session has ended; this one carries on with the new generation.
    login_user(OperatorLogin(op.id, op.org_id, op.email, op.session_generation))
    flash("Password changed. Every other session has been signed out.", "success")
    return redirect(url_for("dashboard.account"))


@bp.post("/account/sign-out-everywhere")
@login_required
@writes
def sign_out_everywhere():
    return _end_every_session()


# -- campaigns -------------------------------------------------------------------

@bp.get("")
@login_required
@reads
def home():
    rows = []
    for c in campaigns.list_campaigns(db.session, org_id()):
        rows.append({"pid": c.pid, "name": (c.live or c.draft or {}).get("name", c.pid),
                     "status": (c.live or {}).get("status", "active") if c.live else "draft only",
                     "version": c.version, "draft_differs": c.draft_differs})
    has_keys = bool(keys.list_keys(db.session, org_id()))
    public = current_settings().base_url()
    return render_template("dashboard/home.html", campaigns=rows, has_keys=has_keys, public=public)


def _campaign(pid: str):
    return campaigns.get_campaign(db.session, org_id(), pid)  # NotFound outside the organization


@bp.errorhandler(NotFound)
def _not_found(exc):
    return _not_found_page(exc.message)


def _diff(live: dict | None, draft: dict) -> list[dict]:
    """Side-by-side rows of live (left) and draft (right), pretty-printed JSON."""
    left = json.dumps(live, indent=2, sort_keys=True).splitlines() if live else []
    right = json.dumps(draft, indent=2, sort_keys=True).splitlines()
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=left, b=right, autojunk=False).get_opcodes():
        a, b = left[i1:i2], right[j1:j2]
        for k in range(max(len(a), len(b))):
            rows.append({"kind": tag, "left": a[k] if k < len(a) else "", "right": b[k] if k < len(b) else ""})
    return rows


@bp.get("/campaigns/<pid>")
@login_required
@reads
def campaign(pid: str):
    c = _campaign(pid)
    return _campaign_page(c, draft_text=json.dumps(c.draft, indent=2, ensure_ascii=False), issues=[])


def _campaign_page(c, *, draft_text: str, issues: list, status: int = 200):
    view = campaigns.view(c, "dev")
    codes = invites.list_codes(db.session, campaigns.view(c, "live")) if c.live else []
    changed = [r for r in _diff(c.live, c.draft) if r["kind"] != "equal"]
    return render_template(
        "dashboard/campaign.html", c=c, draft_text=draft_text, issues=issues,
        diff=_diff(c.live, c.draft), changed=len(changed), codes=codes, definition=view.definition,
        brand=view.compiled.brand), status


@bp.post("/campaigns/<pid>/draft")
@login_required
@writes
def save_draft(pid: str):
    c = _campaign(pid)
    text = request.form.get("definition", "")
    try:
        doc = parse_json(text, malformed="not valid JSON", where="not valid JSON")
    except InvalidInput as exc:
        return _campaign_page(c, draft_text=text, issues=[{"path": "(document)", "message": exc.message}],
                              status=400)
    try:
        campaigns.put_draft(db.session, org_id(), pid, doc, now())
    except (InvalidInput, Conflict) as exc:  # Conflict: the slug is another campaign's
        db.session.rollback()
        issues = getattr(exc, "issues", None) or [{"path": "", "message": exc.message}]
        return _campaign_page(c, draft_text=text, issues=issues, status=409 if isinstance(exc, Conflict) else 400)
    flash("Draft saved. Publish it to make it live.", "success")
    return redirect(url_for("dashboard.campaign", pid=pid) + "#diff")


@bp.post("/campaigns/<pid>/publish")
@login_required
@writes
def publish(pid: str):
    c, changed = campaigns.publish(db.session, org_id(), pid, now())
    flash(f"Published version {c.version}." if changed else "Nothing to publish: live is the draft.", "success")
    return redirect(url_for("dashboard.campaign", pid=pid))


def _filled(form, fields, *, prefix: str = "") -> dict:
    """The fields the operator filled in, trimmed: an empty field means "not set"."""
    values = {k: form.get(prefix + k, "").strip() for k in fields}
    return {k: v for k, v in values.items() if v}


@bp.post("/campaigns/<pid>/settings")
@login_required
@writes
def save_settings(pid: str):
    """Branding, the play-link e-mail template and the widget's allowed origins, into the draft."""
    f = request.form
    sections = {
        "branding": _filled(f, ("logo_url", "primary_color", "accent_color")),
        "email": _filled(f, ("subject", "heading", "body", "cta_text"), prefix="email_"),
        "widget": {"allowed_origins": [o.strip() for o in f.get("allowed_origins", "").splitlines() if o.strip()]},
    }
    try:
        campaigns.set_draft_sections(db.session, org_id(), pid, sections, now())
    except InvalidInput as exc:
        db.session.rollback()
        for issue in exc.issues[:5] or [{"path": "", "message": exc.message}]:
            flash(f"{issue['path']}: {issue['message']}", "error")
        return redirect(url_for("dashboard.campaign", pid=pid) + "#settings")
    flash("Settings saved in the draft. Publish to make them live.", "success")
    return redirect(url_for("dashboard.campaign", pid=pid) + "#settings")


def _email_message(c, to: str):
    settings = current_settings()
    return awards.sample_play_link_message(campaigns.view(c, "dev"), to=to, public_url=settings.base_url(),
                                           now=now(), mailer=settings.mailer())


@bp.get("/campaigns/<pid>/email-preview")
@login_required
@reads
def email_preview(pid: str):
    """The draft's play-link e-mail as HTML, framed by the campaign page only."""
    msg = _email_message(_campaign(pid), current_user.email)
    return Response(msg.get_body(("html",)).get_content(), mimetype="text/html")


@bp.post("/campaigns/<pid>/test-email")
@login_required
@reads
def test_email(pid: str):
    msg = _email_message(_campaign(pid), current_user.email)
    db.session.rollback()
    # A refusing or unreachable server, or a bad SMTP_PORT, comes back as sent.error.
    try:
        sent = current_settings().mailer().send(msg, now())
    except Exception as exc:  # whatever else fails is the operator's news, not a 500
        flash(f"The test e-mail could not be sent: {exc}", "error")
        return redirect(url_for("dashboard.campaign", pid=pid) + "#settings")
    if sent.error:
        flash(f"The test e-mail could not be sent: {sent.error}", "error")
    else:
        flash(f"Test e-mail sent to {current_user.email}." if sent.sent
              else f"No SMTP_HOST: the e-mail was written to {sent.path}.", "success")
    return redirect(url_for("dashboard.campaign", pid=pid) + "#settings")


SIMULATION = validator_for(SIMULATE_BODY)


@bp.post("/campaigns/<pid>/simulate")
@login_required
def run_simulation(pid: str):
    """The dry run of the draft on pasted events; writes nothing (a rolled-back savepoint)."""
    c = _campaign(pid)

    def dry_run(unit: pipeline.Unit):
        unit.keep_nothing()
        given = parse_json(request.form.get("events", "") or "[]", malformed="not valid JSON",
                           where="not valid JSON")
        if not isinstance(given, list) or not all(isinstance(e, dict) and isinstance(e.get("name"), str)
                                                  for e in given):
            raise InvalidInput('paste a JSON list of events like [{"name": "GameSession", "category": "dices"}]')
        if len(given) > 1000:  # said in the operator's words before the schema's
            raise InvalidInput("at most 1,000 events per dry run")
        body = {"account": request.form.get("account") or "dry-run",
                "platform": request.form.get("platform") or "internal", "events": given}
        check(SIMULATION, body)  # typed and bounded as the Management API's dry run is
        result = simulate.simulate(db.session, c, account=body["account"], platform=body["platform"],
                                   now=now(), events_in=given)
        return render_template("dashboard/_simulation.html", result=result, error=None)

    def refused(status: int, message: str, exc: EngineError | None):
        # Whatever the engine refuses is a 400 here; a busy database keeps its 503.
        return (render_template("dashboard/_simulation.html", result=None, error=message),
                status if status >= 500 else 400)

    return pipeline.run(dry_run, write=False, errors=pipeline.Errors(refused, {}, http=False))


# -- invite codes ----------------------------------------------------------------

@bp.post("/campaigns/<pid>/codes")
@login_required
@writes
def generate_codes(pid: str):
    c = _campaign(pid)
    try:
        count = parse_int(request.form.get("count", "1"))
        max_uses = parse_int(request.form.get("max_uses", "1"))
    except ValueError:
        flash("count and max uses must be whole numbers", "error")
        return redirect(url_for("dashboard.campaign", pid=pid) + "#codes")
    made = invites.generate(db.session, c, count=count, now=now(),
                            prefix=request.form.get("prefix") or None, max_uses=max_uses)
    flash(f"{len(made)} codes generated.", "success")
    return redirect(url_for("dashboard.campaign", pid=pid) + "#codes")


@bp.post("/campaigns/<pid>/codes/<code>/release")
@login_required
@writes
def release_code(pid: str, code: str):
    c = _campaign(pid)
    released = invites.release(db.session, campaigns.view(c, "live"), code, None)
    flash(f"Code {code} released ({released} claims removed).", "success")
    return redirect(url_for("dashboard.campaign", pid=pid) + "#codes")


@bp.get("/campaigns/<pid>/codes.csv")
@login_required
@reads
def export_codes(pid: str):
    c = _campaign(pid)
    codes = invites.list_codes(db.session, campaigns.view(c, "live")) if c.live else []
    text = exports.csv_text(["code", "max_uses", "uses", "used_by", "created_at"], (
        [cu.code.code, cu.code.max_uses, len(cu.users), " ".join(f"{u.account}@{u.platform}" for u in cu.users),
         cu.code.created_at.isoformat()] for cu in codes))
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{pid}-codes.csv"'})


# -- analytics -------------------------------------------------------------------

def _chart(series) -> dict:
    """Bars for a server-rendered SVG: readable without JavaScript."""
    top = max(series.values) or 1
    n = len(series.values)
    bw = CHART_W / n
    bars = []
    for i, (day, v) in enumerate(zip(series.days, series.values)):
        h = round(v / top * (CHART_H - 20), 1)
        bars.append({"x": round(i * bw + 1, 1), "y": round(CHART_H - h, 1), "w": round(max(1.0, bw - 2), 1),
                     "h": h, "day": day.isoformat(), "value": v})
    return {"label": series.label, "total": series.total, "max": top, "bars": bars,
            "first": series.days[0].isoformat(), "last": series.days[-1].isoformat()}


@bp.get("/campaigns/<pid>/analytics")
@login_required
@reads
def campaign_analytics(pid: str):
    c = _campaign(pid)
    if c.live is None:
        return render_template("dashboard/message.html", title="Not published yet",
                               text="Analytics start once the campaign is published."), 200
    view = campaigns.view(c, "live")
    try:
        # Bounded: the offset of a page past 2**63 rows overflows the database's integers (a 500).
        page = min(max(1, parse_int(request.args.get("page", "1"))), 1_000_000)
    except ValueError:
        page = 1
    search = request.args.get("q", "")[:256]
    rows, total_users = analytics.users_page(db.session, view, search=search, page=page)
    ctx = {"c": c, "rows": rows, "total_users": total_users, "page": page, "search": search,
           "pages": max(1, -(-total_users // analytics.USERS_PAGE))}
    if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
        resp = Response(render_template("dashboard/_users.html", **ctx))
    else:
        total, season = stats.points(db.session, view)
        participants, active = stats.participation(db.session, view, now())
        ctx.update(points=total, season=season, participants=participants, active=active,
                   charts=[_chart(s) for s in analytics.daily(db.session, view, now(), 30)],
                   top=analytics.top_actions(db.session, view))
        resp = Response(render_template("dashboard/analytics.html", **ctx))
    resp.headers["Vary"] = "HX-Request"
    return resp


def _user(c, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.org_id != c.org_id:
        raise NotFound("unknown user")
    return user


@bp.get(f"/campaigns/<pid>/users/<{ROW_ID}:user_id>")
@login_required
@reads
def user_page(pid: str, user_id: int):
    c = _campaign(pid)
    if c.live is None:
        abort(404)
    view = campaigns.view(c, "live")
    user = _user(c, user_id)
    return render_template(
        "dashboard/user.html", c=c, user=user,
        balances=ledger.get_balances(db.session, c.id, user.id, "live"),
        sources=analytics.points_by_source(db.session, view, user.id),
        entries=ledger.recent(db.session, c.id, user.id, "live", 100),
        events=events.list_events(db.session, view, user, limit=50)[::-1],
        progress=progress.user_progress(db.session, view, user, now()))


@bp.post(f"/campaigns/<pid>/users/<{ROW_ID}:user_id>/adjust")
@login_required
@writes
def adjust_points(pid: str, user_id: int):
    c = _campaign(pid)
    user = _user(c, user_id)
    try:
        amount = parse_int(request.form.get("amount", ""), negative=True)
    except ValueError:
        flash("the amount must be a whole number (negative to take points away)", "error")
        return redirect(url_for("dashboard.user_page", pid=pid, user_id=user_id))
    try:
        moved = credits.adjust(db.session, campaigns.view(c, "live"), user, amount=amount,
                              reason=request.form.get("reason", ""), operator=current_user.email, now=now())
    except EngineError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("dashboard.user_page", pid=pid, user_id=user_id))
    flash(f"Adjusted by {amount:+d}: the balance is now {moved.balances.total}.", "success")
    return redirect(url_for("dashboard.user_page", pid=pid, user_id=user_id))


@bp.post(f"/campaigns/<pid>/users/<{ROW_ID}:user_id>/revoke-tokens")
@login_required
@writes
def revoke_user_tokens(pid: str, user_id: int):
    user = _user(_campaign(pid), user_id)
    tokens.revoke_widget_tokens(db.session, user)
    flash("Every widget token of this user is revoked: the widget asks the partner for a new one.", "success")
    return redirect(url_for("dashboard.user_page", pid=pid, user_id=user_id))


# -- keys and webhooks -----------------------------------------------------------

@bp.get("/keys")
@login_required
@reads
def key_list():
    return render_template("dashboard/keys.html", keys=keys.list_keys(db.session, org_id()), new_key=None)


@bp.post("/keys")
@login_required
@writes
def create_key():
    kind = "publishable" if request.form.get("kind") == "publishable" else "secret"
    label = (request.form.get("label") or "").strip()[:256] or None
    _, raw = keys.create_key(db.session, org_id(), now(), kind=kind, label=label)
    # Shown once, on this response only; never stored, never redirected with.
    return render_template("dashboard/keys.html", keys=keys.list_keys(db.session, org_id()), new_key=raw)


@bp.post(f"/keys/<{ROW_ID}:key_id>/revoke")
@login_required
@writes
def revoke_key(key_id: int):
    keys.revoke_key(db.session, org_id(), key_id, now())
    flash("Key revoked: it stops working at once.", "success")
    return redirect(url_for("dashboard.key_list"))


@bp.get("/webhooks")
@login_required
@reads
def hook_list():
    hooks = webhooks.list_hooks(db.session, org_id())
    return render_template("dashboard/webhooks.html",
                           hooks=[(h, webhook_delivery.messages_of(db.session, h, limit=50)) for h in hooks])


@bp.post("/webhooks/messages/<msg_id>/redeliver")
@login_required
@writes
def redeliver(msg_id: str):
    webhook_delivery.redeliver(db.session, org_id(), msg_id, now())
    flash("Message queued for delivery again.", "success")
    return redirect(url_for("dashboard.hook_list"))


@bp.app_template_filter("signed")
def _signed(value: int) -> str:
    return f"{value:+d}"

