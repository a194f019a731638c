"""Security headers and CSP nonces: the policy of every response, by kind of page.

- widget pages: framed only by the campaign's ``widget.allowed_origins``
  (default: any), which the widget states with :func:`allow_framing_by`;
  no Referer (the embedding page's URL stays private);
- play pages: never framed, no Referer (the token is in the URL);
- dashboard pages: never framed; the e-mail preview is framed by the
  dashboard itself and runs no script;
- site pages (landing page, API reference, demo page): never framed, no
  Referer, scripts, styles and images from this server only and no inline
  script; the demo page also loads embed.js and frames the widget from
  PUBLIC_URL's origin;
- everything else (the JSON APIs, documents, static files, errors): never framed.

Pages that render templates get a fresh nonce per response in
``g.csp_nonce``; their inline scripts and styles carry it.
"""
from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

from settings import current_settings

PAGE_KINDS = ("widget", "play", "dashboard")  # blueprints whose templates carry nonces


def allow_framing_by(origins: tuple[str, ...] | list[str]) -> None:
    """The widget response being served may be framed by these origins (none: any)."""
    g.frame_ancestors = " ".join(origins) if origins else "*"


def _nonce() -> None:
    if request.blueprint in PAGE_KINDS:
        g.csp_nonce = secrets.token_urlsafe(16)


def _csp(*, default: str, img: str, extra: str, ancestors: str) -> str:
    nonce = g.get("csp_nonce", "")
    return (f"default-src {default}; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
            f"img-src {img}; {extra}form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}")


def _widget(resp: Response) -> None:
    if request.endpoint == "widget.embed_js":
        resp.headers["Cache-Control"] = "public, max-age=300"
        _deny_framing(resp)
        return
    # The frame bootstrap holds nothing and may be framed by anyone.
    resp.headers["Content-Security-Policy"] = _csp(
        default="'none'", img="'self' https: data:", extra="connect-src 'self'; ",
        ancestors=g.get("frame_ancestors") or "*")
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Vary"] = "HX-Request"


def _play(resp: Response) -> None:
    resp.headers["Content-Security-Policy"] = _csp(
        default="'none'", img="'self' https: http: data:", extra="connect-src 'self'; ",
        ancestors="'none'")
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"


def _dashboard(resp: Response) -> None:
    if request.endpoint == "dashboard.email_preview":
        # E-mail HTML carries inline styles; it runs no script and only we may frame it.
        resp.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; "
                                                   "img-src https: data:; frame-ancestors 'self'")
        resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    else:
        resp.headers["Content-Security-Policy"] = _csp(
            default="'self'", img="'self' https: data:", extra="frame-src 'self'; ", ancestors="'none'")
        resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["X-Content-Type-Options"] = "nosniff"


# Site pages run no inline script or style, so they need no nonce.
SITE_CSP = ("default-src 'none'; script-src 'self'{own}; style-src 'self'; img-src 'self' data:; "
            "{extra}base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _site(resp: Response) -> None:
    if request.endpoint == "site.demo_webhook":  # a machine's endpoint: JSON or nothing
        _deny_framing(resp)
        return
    own, extra = "", ""
    if request.endpoint == "site.api_docs":
        # Swagger UI fetches /openapi.json and, with "Try it out", the API itself.
        extra = "connect-src 'self'; "
    elif request.endpoint == "site.demo_page":
        # embed.js and the widget's frame come from PUBLIC_URL, which may be
        # another origin than the one the browser used to open this page.
        origin = current_settings().public_origin()
        own = f" {origin}" if origin else ""
        extra = f"frame-src 'self'{own}; "
    resp.headers["Content-Security-Policy"] = SITE_CSP.format(own=own, extra=extra)
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"


def _deny_framing(resp: Response) -> None:
    resp.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    resp.headers["X-Frame-Options"] = "DENY"


POLICIES = {"widget": _widget, "play": _play, "dashboard": _dashboard, "site": _site}


def _apply(resp: Response) -> Response:
    POLICIES.get(request.blueprint, _deny_framing)(resp)
    return resp


def init_app(app: Flask) -> None:
    app.before_request(_nonce)
    app.after_request(_apply)
