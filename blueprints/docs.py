"""Public machine-readable documents: the campaign schema and OpenAPI."""
from __future__ import annotations

import re

from flask import Blueprint, jsonify

from engine.definitions import load_schema

from ._api import ROUTES

bp = Blueprint("docs", __name__)

# Routes served here, described by hand since they sit outside any dialect.
PUBLIC_DOCS = {
    "/schemas/campaign.json": "The JSON Schema of a campaign definition",
    "/openapi.json": "This OpenAPI 3 document",
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


SECURITY_SCHEMES = {
    "campaign": ("bearer", {"type": "http", "scheme": "bearer"}),
    "management": ("bearer", {"type": "http", "scheme": "bearer"}),
    "rewards": ("apiSecret", {"type": "apiKey", "in": "header", "name": "X-API-Secret"}),
    "participants": ("apiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"}),
}


def build_openapi() -> dict:
    """The document, built from the same route specs that validate requests."""
    paths: dict[str, dict] = {}
    schemes = {}
    for spec in ROUTES:
        path, names = _path(spec.path)
        params = [{"name": n, "in": "path", "required": True,
                   "schema": {"type": "string", "minLength": 1, "maxLength": 256}} for n in names]
        params += [{"name": p.name, "in": "query", "required": p.required, "schema": p.schema,
                    **({"description": p.description} if p.description else {})}
                   for p in spec.query]
        responses = {str(spec.status): {"description": "success"}}
        responses.update({str(code): {"description": text} for code, text in spec.responses.items()})
        responses.setdefault("400", {"description": "bad input"})
        op = {"summary": spec.summary, "tags": [spec.dialect.name], "parameters": params,
              "responses": responses}
        if spec.authenticate is not None:  # opened by the user's own token, not an API key
            schemes["userToken"] = {"type": "http", "scheme": "bearer",
                                    "description": "a widget token or a play session"}
            op["security"] = [{"userToken": []}]
            op["responses"].setdefault("401", {"description": "missing or invalid user token"})
        if spec.auth:
            scheme_name, scheme = SECURITY_SCHEMES[spec.dialect.name]
            schemes[scheme_name] = scheme
            op["security"] = [{scheme_name: []}]
            op["responses"].setdefault("401", {"description": "missing or invalid key"})
        if spec.method == "POST":
            params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "schema": {"type": "string", "minLength": 1, "maxLength": 256}})
        if spec.body is not None:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": spec.body}}}
        paths.setdefault(path, {})[spec.method.lower()] = op
    for path, summary in PUBLIC_DOCS.items():
        paths[path] = {"get": {"summary": summary, "tags": ["docs"],
                               "responses": {"200": {"description": "the document"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Questkit", "version": "1",
                 "description": "Campaign, Rewards, Participants and Management APIs"},
        "paths": paths,
        "components": {"securitySchemes": schemes},
    }
