"""The JSON dialects' routes, over the request pipeline (blueprints/pipeline.py).

A dialect declares its credential header, its envelopes and its table of
engine errors to statuses; ``Dialect.route`` wraps a view so that every
endpoint gets the same guarantees for free:

- authentication (and publishable keys refused outside read-only routes);
  a 401 names the header the dialect expects,
- the pipeline's one transaction per request, retried after a lost race,
  with engine errors in the dialect's own envelope,
- the Idempotency-Key header on every POST,
- an entry in /openapi.json (see blueprints/docs.py).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, Response, request

from engine.ledger import idempotency
from engine.access import keys, users
from engine.definitions import campaigns
from engine.clock import iso
from engine.errors import EngineError, Forbidden, InvalidInput, Unauthorized
from extensions import db
from settings import services

from . import pipeline
from ._json import Param, query_validator, read_json, read_query, validator_for


@dataclass
class Reply:
    """A view's answer when it is not a plain 200 inside the envelope."""

    data: Any
    status: int = 200
    raw: bool = False  # True: ``data`` is the whole body, no envelope


@dataclass
class Ctx:
    """What a view gets: who is calling, the parsed input, the time."""

    org_id: int | None
    key: keys.KeyIdentity | None
    body: Any
    args: dict
    now: datetime
    post_commit: list = field(default_factory=list)
    # Set by a route's own ``authenticate`` (a user credential instead of an API key).
    principal: Any = None
    idem_scope: str = ""

    @property
    def session(self):
        return db.session

    def default_view(self) -> campaigns.View:
        """The organization's `default` campaign, live: what the Rewards, Games SDK and
        Participants APIs read."""
        return campaigns.default_view(db.session, self.org_id)

    def internal_user(self, account: str):
        """The user a Rewards or Participants id names: the account on platform
        internal (SPEC §1); UnknownUser when there is none."""
        return users.get_user(db.session, self.org_id, account, users.INTERNAL_PLATFORM)

    def after_commit(self, fn) -> None:
        """Run ``fn(data)`` once the request's transaction committed, before the
        answer is written; it may complete ``data`` (e.g. whether an e-mail
        went out). Side effects that must not happen for a rolled-back change,
        like sending e-mail, belong here."""
        self.post_commit.append(fn)


@dataclass
class RouteSpec:
    """Everything /openapi.json says about one endpoint."""

    dialect: "Dialect"
    path: str
    method: str
    summary: str
    body: dict | None
    query: tuple[Param, ...]
    auth: bool
    publishable: bool
    status: int = 200
    responses: dict[int, str] = field(default_factory=dict)
    authenticate: Callable | None = None
    key_hint: str | None = None  # where this route's API key goes, when not where the dialect's does

    def __post_init__(self):
        # Compiled once here: validating a request then costs no compilation.
        self.body_validator = validator_for(self.body) if self.body is not None else None
        self.query_validator = query_validator(self.query)


ROUTES: list[RouteSpec] = []


def to_json(payload) -> str:
    return json.dumps(payload, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def _json_default(value):
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(payload, status: int) -> Response:
    return Response(to_json(payload), status=status, mimetype="application/json")



@dataclass
class Dialect:
    name: str
    prefix: str
    # The raw key from the request, or None.
    credential: Callable[[], str | None]
    # Where the key goes, said in every 401: "send it in the X-API-Secret header".
    key_hint: str
    ok: Callable[[Any], Any]
    error: Callable[[int, str, EngineError | None], Any]

    def __post_init__(self):
        self.errors = pipeline.Errors(self.error_response)

    # -- errors -------------------------------------------------------------
    def error_response(self, status: int, message: str, exc: EngineError | None = None) -> Response:
        return json_response(self.error(status, message, exc), status)

    # -- routes -------------------------------------------------------------
    def route(self, bp: Blueprint, rule: str, method: str = "GET", *, summary: str,
              body: dict | None = None, query: tuple[Param, ...] = (), auth: bool = True,
              publishable: bool = False, writes: bool | None = None, status: int = 200,
              responses: dict[int, str] | None = None, authenticate: Callable | None = None,
              key_hint: str | None = None):
        """Register ``view(ctx, **path_args)`` as ``method rule`` on ``bp``.

        ``authenticate(ctx)``, for routes with ``auth=False`` that a user's own
        credential opens: it raises Unauthorized or sets ctx.org_id,
        ctx.principal and ctx.idem_scope (Idempotency-Keys are then kept per
        that scope, so two users never replay each other's answers).
        """
        writes = (method != "GET") if writes is None else writes
        spec = RouteSpec(self, self.prefix + rule, method, summary, body, query, auth, publishable,
                         status, responses or {}, authenticate, key_hint)
        ROUTES.append(spec)

        def decorator(view):
            @wraps(view)
            def endpoint(**path_args):
                return pipeline.run(lambda unit: self._attempt(unit, spec, view, path_args),
                                    write=bool(writes), errors=self.errors)

            endpoint.openapi = spec
            bp.add_url_rule(rule, endpoint=view.__name__, view_func=endpoint, methods=[method])
            return view

        return decorator

    def _attempt(self, unit: pipeline.Unit, spec: RouteSpec, view, path_args: dict) -> Response:
        session = db.session
        for name, value in path_args.items():
            if "\x00" in value:
                raise InvalidInput(f"{name}: NUL characters are not allowed")
        # Parse before touching the database (no lock is held while
        # parsing), but report a bad key before bad input.
        try:
            body = read_json(spec.body_validator) if spec.body is not None else None
            args = read_query(spec.query, spec.query_validator)
            bad_input = None
        except InvalidInput as exc:
            bad_input = exc
        key = None
        if spec.auth:
            try:
                key = keys.authenticate(session, self.credential())
            except Unauthorized as exc:
                raise Unauthorized(f"{exc.message}: {spec.key_hint or self.key_hint}") from None
            if key.kind == "publishable" and not spec.publishable:
                raise Forbidden("a publishable key can only read games data; use a secret key")
        if bad_input is not None:
            raise bad_input
        ctx = Ctx(org_id=key.org_id if key else None, key=key, body=body, args=args,
                  now=services().clock.now())
        if spec.authenticate is not None:
            spec.authenticate(ctx)
        record = None
        idem_key = request.headers.get("Idempotency-Key")
        if spec.method == "POST" and idem_key is not None and ctx.org_id is not None:
            fp = idempotency.fingerprint(spec.method, request.path,
                                         request.get_data(cache=True))
            scoped = idem_key
            if ctx.idem_scope:  # hashed: the stored key stays short whatever the scope
                if not idem_key or len(idem_key) > idempotency.MAX_KEY:
                    raise InvalidInput(
                        f"Idempotency-Key must be 1 to {idempotency.MAX_KEY} characters")
                scoped = ctx.idem_scope + hashlib.sha256(idem_key.encode()).hexdigest()
            claimed = idempotency.claim(session, ctx.org_id, scoped, fp, ctx.now)
            if isinstance(claimed, idempotency.Replay):
                unit.keep_nothing()
                resp = Response(claimed.body, status=claimed.status, mimetype="application/json")
                resp.headers["Idempotent-Replayed"] = "true"
                return resp
            record = claimed
        result = view(ctx, **path_args)
        resp = self._shape(result, spec.status)
        if not 200 <= resp.status_code < 300:
            unit.keep_nothing()
            return resp
        if record is not None:
            idempotency.store(record, resp.status_code, resp.get_data(as_text=True), session)
        if ctx.post_commit:
            def completed(unit: pipeline.Unit) -> None:
                data = result.data if isinstance(result, Reply) else result
                for fn in ctx.post_commit:
                    fn(data)
                unit.answer = self._shape(result, spec.status)
                if record is not None:  # replays answer what the client was told
                    idempotency.store(record, unit.answer.status_code,
                                      unit.answer.get_data(as_text=True), session)
                    session.commit()
            unit.after_commit(completed)
        return resp

    def _shape(self, result, status: int) -> Response:
        if isinstance(result, Response):
            return result
        if isinstance(result, Reply):
            return json_response(result.data if result.raw else self.ok(result.data), result.status)
        return json_response(self.ok(result), status)

