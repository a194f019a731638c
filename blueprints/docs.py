"""Public machine-readable documents: the campaign schema and OpenAPI.

The OpenAPI document is built from the same route specs that validate
requests (blueprints/_api.py ROUTES). An operation's description is its
view's docstring; its examples (request body, parameters and a curl line)
are made from the schemas and the example values below, so the document
cannot drift from what the server checks.
"""
from __future__ import annotations

import inspect
import json
import re
import shlex

from flask import Blueprint, current_app, jsonify

from engine.definitions import load_schema
from settings import current_settings

from ._api import ROUTES, RouteSpec

bp = Blueprint("docs", __name__)

# Routes served outside any dialect, described by hand: summary, description, statuses.
PUBLIC_DOCS = {
    "/schemas/campaign.json": ("The JSON Schema of a campaign definition",
                               "What PUT /api/v1/admin/campaigns/{pid} accepts (JSON Schema 2020-12).",
                               {"200": "the schema"}),
    "/openapi.json": ("This OpenAPI 3 document",
                      "Every JSON endpoint with its parameters, request schema, statuses and an example.",
                      {"200": "the document"}),
    "/health": ("Health check: the server answers and its database too",
                "For load balancers and uptime checks; no key needed. 200 `{\"status\": \"ok\"}`, "
                "or 503 `{\"status\": \"unavailable\"}` when the database does not answer.",
                {"200": "the server and its database answer", "503": "the database does not answer"}),
}


@bp.get("/schemas/campaign.json")
def campaign_schema():
    return jsonify(load_schema())


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_openapi())


def _path(rule: str) -> tuple[str, list[str]]:
    names = re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule), names


# Per dialect: the security scheme, and the header a curl example sends.
SECURITY_SCHEMES = {
    "campaign": ("bearer", {"type": "http", "scheme": "bearer",
                            "description": "the organization's API key: `Authorization: Bearer qk_live_...`"}),
    "management": ("bearer", {"type": "http", "scheme": "bearer",
                              "description": "the organization's API key: `Authorization: Bearer qk_live_...`"}),
    "rewards": ("apiSecret", {"type": "apiKey", "in": "header", "name": "X-API-Secret",
                              "description": "the organization's API key in `X-API-Secret` "
                                             "(the Games SDK sends `X-API-Key`)"}),
    "participants": ("apiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                "description": "the organization's API key in `X-API-Key`"}),
}
CURL_AUTH = {"campaign": "Authorization: Bearer $K", "management": "Authorization: Bearer $K",
             "rewards": "X-API-Secret: $K", "participants": "X-API-Key: $K"}

# Example values by field or parameter name; (dialect, name) wins over name.
EXAMPLES = {
    "account": "user123", "platform": "discord", "pid": "summer_games", "id": "r-1", "xp": 100,
    "name": "GameSession", "category": "dices", "data": {"bet": 120}, "aid": "daily_login",
    "cid": "pro_player", "value": 1200, "stream": "player_score", "ref_id": "3kq9x2mz",
    "ref_account": "user123", "ref_platform": "discord", "code": "VIP-7K2M9Q",
    "used_by": "0x1234567890abcdef1234567890abcdef12345678",
    "address": "0x1234567890abcdef1234567890abcdef12345678", "count": 3, "prefix": "VIP",
    "scope": "user_activity", "uri": "https://hooks.partner.example.com/questkit", "hook_id": "prod",
    "pids": ["summer_games"], "msg_id": "msg_2b1c7f0e", "strict": True, "kind": "ugc",
    "limit": 10, "offset": 0, "around": 2, "page": 1, "include": "points,tier,badges",
    "userId": "user_12345", "user_id": "user_12345", "eventType": "purchase", "displayName": "Alice",
    "email": "alice@example.com", "reference": "order_1042", "metadata": {"amount": 49.99},
    "slug": "summer-promo", "game_type": "NEON_WHEEL", "participant_id": "user_123",
    "event_type": "order_paid", "properties": {"amount": 1200}, "display_name": "Jane Doe",
    "avatar_url": "https://example.com/avatar.png", "attributes": {"plan": "premium"},
    ("campaign", "name"): "GameSession", ("participants", "pid"): "user_123",
    ("participants", "code"): "coffee", ("participants", "id"): "order-1",
    ("rewards", "code"): "ACME-7Q2K9", ("management", "id"): "spring",
}
# Query parameters whose example differs from a body field of the same name.
QUERY_EXAMPLES = {("/api/v1/token", "name"): "PlayerOne"}


def _example_for(dialect: str, name: str, schema: dict):
    if (dialect, name) in EXAMPLES:
        return EXAMPLES[(dialect, name)]
    if name in EXAMPLES:
        return EXAMPLES[name]
    return _from_schema(schema, dialect)


def _from_schema(schema: dict, dialect: str):
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v != ""), schema["enum"][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        props = schema.get("properties") or {}
        return {n: _example_for(dialect, n, s) for n, s in props.items()
                if n in schema.get("required", []) or n in EXAMPLES or (dialect, n) in EXAMPLES}
    if kind == "array":
        return [_from_schema(schema.get("items") or {}, dialect)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 10
    if kind == "boolean":
        return True
    return "text"


def request_example(spec: RouteSpec) -> dict | None:
    """The example request body of an operation (valid against its schema)."""
    if spec.body is None:
        return None
    return _from_schema(spec.body, spec.dialect.name)


def curl_example(spec: RouteSpec, path: str, names: list[str]) -> str:
    url = path
    for n in names:
        url = url.replace("{" + n + "}", str(_example_for(spec.dialect.name, n, {})))
    query = [(p.name, QUERY_EXAMPLES.get((spec.path, p.name), _example_for(spec.dialect.name, p.name,
                                                                          p.schema)))
             for p in spec.query if p.required]
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query)
    parts = ["curl -s"]
    if spec.auth:
        parts.append(f'-H "{CURL_AUTH[spec.dialect.name]}"')
    elif spec.authenticate is not None:
        parts.append('-H "Authorization: Bearer $T"')
    if spec.method != "GET":
        parts.append(f"-X {spec.method}")
    parts.append(f'"$H{url}"')
    body = request_example(spec)
    if body is not None:
        parts.append("-d " + shlex.quote(json.dumps(body)))
    return " ".join(parts)


def _descriptions() -> dict[int, str]:
    """Each route spec's view docstring, by id(spec)."""
    out = {}
    for fn in current_app.view_functions.values():
        spec = getattr(fn, "openapi", None)
        if spec is not None and fn.__doc__:
            out[id(spec)] = inspect.cleandoc(fn.__doc__)
    return out


def statuses(spec: RouteSpec, methods_of_path: set[str]) -> dict[str, str]:
    """Every status the request pipeline can answer for this route, its own first."""
    out = {str(spec.status): "success"}
    out.update({str(code): text for code, text in spec.responses.items()})
    out.setdefault("400", "bad input: the message says which field and why")
    if spec.auth:
        # What the 401 itself says (blueprints/dialects.py).
        out.setdefault("401", f"missing or invalid API key: {spec.key_hint or spec.dialect.key_hint}")
        if not spec.publishable:
            out.setdefault("403", "a publishable key (pk_live_) used where a secret key is needed")
    if spec.authenticate is not None:
        out.setdefault("401", "missing or invalid user token")
    out.setdefault("404", "no such campaign, user or resource")
    if spec.method != "GET" or spec.body is not None:
        out.setdefault("409", "conflict, e.g. with a concurrent request doing the same; retry it")
    if spec.body is not None:
        out.setdefault("413", f"request body larger than the limit ({current_settings().max_content_length} bytes)")
    if spec.method == "POST":
        out.setdefault("422", "Idempotency-Key reused with a different request")
    if methods_of_path != {"GET", "POST", "PUT", "PATCH", "DELETE"}:
        out.setdefault("405", "another method than those of this path; the Allow header lists them")
    out.setdefault("503", "the database is busy or unavailable; retry later")
    return out


def build_openapi() -> dict:
    """The document, built from the same route specs that validate requests."""
    paths: dict[str, dict] = {}
    schemes = {}
    descriptions = _descriptions()
    methods: dict[str, set[str]] = {}
    for spec in ROUTES:
        methods.setdefault(_path(spec.path)[0], set()).add(spec.method)
    for spec in ROUTES:
        path, names = _path(spec.path)
        params = [{"name": n, "in": "path", "required": True,
                   "schema": {"type": "string", "minLength": 1, "maxLength": 256},
                   "example": _example_for(spec.dialect.name, n, {})} for n in names]
        params += [{"name": p.name, "in": "query", "required": p.required, "schema": p.schema,
                    "example": QUERY_EXAMPLES.get((spec.path, p.name),
                                                  _example_for(spec.dialect.name, p.name, p.schema)),
                    **({"description": p.description} if p.description else {})}
                   for p in spec.query]
        responses = {}
        for code, text in statuses(spec, methods[path]).items():
            responses[code] = {"description": text}
            if code == "405":
                responses[code]["headers"] = {"Allow": {
                    "description": "the methods this path answers", "schema": {"type": "string"}}}
        description = descriptions.get(id(spec), "")
        curl = curl_example(spec, path, names)
        op = {"summary": spec.summary, "tags": [spec.dialect.name],
              "description": f"{description}\n\nExample (`K` is an API key, `H` the server's URL):\n\n"
                             f"```\n{curl}\n```",
              "parameters": params, "responses": responses,
              "x-codeSamples": [{"lang": "Shell", "label": "curl", "source": curl}]}
        if spec.authenticate is not None:  # opened by the user's own token, not an API key
            schemes["userToken"] = {"type": "http", "scheme": "bearer",
                                    "description": "a widget token or a play session"}
            op["security"] = [{"userToken": []}]
        if spec.auth:
            scheme_name, scheme = SECURITY_SCHEMES[spec.dialect.name]
            schemes[scheme_name] = scheme
            op["security"] = [{scheme_name: []}]
        if spec.method == "POST":
            params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "description": "a repeat with the same body replays the first answer",
                           "schema": {"type": "string", "minLength": 1, "maxLength": 256},
                           "example": "order-1042-award"})
        if spec.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": spec.body, "example": request_example(spec)}}}
        paths.setdefault(path, {})[spec.method.lower()] = op
    for path, (summary, description, codes) in PUBLIC_DOCS.items():
        responses = {code: {"description": text} for code, text in codes.items()}
        responses["405"] = {"description": "another method than GET",
                            "headers": {"Allow": {"schema": {"type": "string"}}}}
        paths[path] = {"get": {"summary": summary, "description": f"{description}\n\nExample:\n\n"
                                                                 f"```\ncurl -s \"$H{path}\"\n```",
                               "tags": ["docs"], "responses": responses,
                               "x-codeSamples": [{"lang": "Shell", "label": "curl",
                                                  "source": f'curl -s "$H{path}"'}]}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Questkit", "version": "1",
                 "description": "Four dialects over one engine: the Campaign API (`/api/v1`), the "
                                "Management API (`/api/v1/admin`), the Rewards API with the Games SDK "
                                "endpoints (`/v1`) and the Participants API (`/api/v1/gamify`). Each "
                                "takes the organization's API key in its own header (see each "
                                "operation's security). Any POST accepts an `Idempotency-Key` header."},
        "paths": paths,
        "components": {"securitySchemes": schemes},
    }
