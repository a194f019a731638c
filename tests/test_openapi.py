"""/openapi.json covers every JSON endpoint and is a valid document."""
from __future__ import annotations

import re

# Routes that answer HTML or files, not JSON. A JSON route missing from the
# document fails test_every_json_route_is_documented; add HTML routes here.
NON_JSON = {"/static/<path:filename>", "/play", "/embed.js"}
# Whole HTML areas: the participant widget and the operator dashboard.
NON_JSON_PREFIXES = ("/widget/", "/dashboard")


def test_every_json_route_is_documented(app, client):
    doc = client.get("/openapi.json").json
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.rule in NON_JSON or rule.rule.startswith(NON_JSON_PREFIXES):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method) not in documented:
                missing.append(f"{method} {path}")
    assert missing == []


def test_document_is_openapi_3_with_request_schemas(client):
    doc = client.get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    reward = doc["paths"]["/api/v1/user/reward"]["post"]
    schema = reward["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"account", "platform", "pid", "id", "xp"}
    assert schema["properties"]["xp"]["maximum"] == 1_000_000_000
    balance = doc["paths"]["/api/v1/user/balance"]["get"]
    assert {p["name"] for p in balance["parameters"]} >= {"account", "platform", "pid", "env"}
    assert balance["security"] == [{"bearer": []}]


def test_a_route_opened_by_a_user_token_says_so(client):
    doc = client.get("/openapi.json").json
    play = doc["paths"]["/v1/games/{game_type}/play"]["post"]
    assert play["security"] == [{"userToken": []}]
    assert doc["components"]["securitySchemes"]["userToken"]["scheme"] == "bearer"
