"""/openapi.json covers every JSON endpoint and is a valid document."""
from __future__ import annotations

import re

# Routes that answer HTML or files, not JSON. A JSON route missing from the
# document fails test_every_json_route_is_documented; add HTML routes here.
NON_JSON = {"/static/<path:filename>", "/play", "/embed.js", "/", "/docs", "/demo",
            "/demo/webhook"}  # the last: the demo hook's receiver (blueprints/site.py)
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


def test_every_operation_has_a_description_and_an_example(client):
    from blueprints._api import ROUTES
    from engine.definitions import make_validator

    doc = client.get("/openapi.json").json
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            name = f"{method.upper()} {path}"
            text = op["description"].split("Example")[0].strip()
            assert len(text) > 20 and text != op["summary"], name
            assert op["x-codeSamples"][0]["source"].startswith("curl -s "), name
            assert op["x-codeSamples"][0]["source"] in op["description"], name
    # the request examples are valid requests
    for spec in ROUTES:
        if spec.body is None:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", spec.path)
        example = doc["paths"][path][spec.method.lower()]["requestBody"]["content"]["application/json"]["example"]
        errors = list(make_validator(spec.body).iter_errors(example))
        assert errors == [], (spec.method, spec.path, example)


def test_statuses_the_pipeline_answers_are_documented(client):
    """No key: 401; a bad body: 400; another method: 405 with Allow. Each is in the document."""
    doc = client.get("/openapi.json").json
    for path, ops in doc["paths"].items():
        url = re.sub(r"\{[^}]+\}", "x", path)
        for method, op in ops.items():
            resp = client.open(url, method=method.upper(), data="[", content_type="application/json")
            assert str(resp.status_code) in op["responses"], (method, path, resp.status_code)
            assert resp.status_code < 500
        unused = {"get", "post", "put", "patch", "delete"} - set(ops)
        for method in unused:
            resp = client.open(url, method=method.upper())
            assert resp.status_code == 405, (method, path)
            assert set(resp.headers["Allow"].split(", ")) >= {m.upper() for m in ops}
            for op in ops.values():
                assert "Allow" in op["responses"]["405"]["headers"], path


def test_a_401_names_the_header_of_its_dialect_in_the_document(client):
    """The document's 401 says what the server's 401 says: the header the route reads."""
    doc = client.get("/openapi.json").json
    assert "Authorization header" in doc["paths"]["/api/v1/user/balance"]["get"]["responses"]["401"]["description"]
    assert "X-API-Key" in doc["paths"]["/api/v1/gamify/events"]["post"]["responses"]["401"]["description"]
    assert "X-API-Secret" in doc["paths"]["/v1/points/award"]["post"]["responses"]["401"]["description"]
    assert "X-API-Key" in doc["paths"]["/v1/games"]["get"]["responses"]["401"]["description"]
    envelopes = {"/api/v1/gamify": lambda j: j["error"]["message"], "/v1/": lambda j: j["message"],
                 "/api/v1": lambda j: j["error"]}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if {"bearer", "apiKey", "apiSecret"}.isdisjoint(*[s.keys() for s in op.get("security", [{}])]):
                continue
            resp = client.open(re.sub(r"\{[^}]+\}", "x", path), method=method.upper())
            assert resp.status_code == 401, (method, path)
            message = next(f for prefix, f in envelopes.items() if path.startswith(prefix))(resp.json)
            assert op["responses"]["401"]["description"] == message, (method, path)
