"""Campaigns as code through the Management API."""
from __future__ import annotations

import json
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name):
    return json.loads((EXAMPLES / name).read_text())


def test_both_example_files_are_accepted_and_published(client, auth):
    for name in ("campaign-example.json", "default-example.json"):
        doc = example(name)
        r = client.put(f"/api/v1/admin/campaigns/{doc['id']}", json=doc, headers=auth)
        assert r.status_code == 200, r.json
        r = client.post(f"/api/v1/admin/campaigns/{doc['id']}/publish", headers=auth)
        assert r.status_code == 200 and r.json["data"]["changed"] is True
        r = client.get(f"/api/v1/admin/campaigns/{doc['id']}", query_string={"env": "live"}, headers=auth)
        assert r.json["data"]["definition"] == doc


def test_default_campaign_exists_from_creation_named_after_the_org(client, auth):
    r = client.get("/api/v1/admin/campaigns/default", headers=auth)
    assert r.status_code == 200
    assert r.json["data"]["definition"] == {"id": "default", "name": "acme"}
    assert r.json["data"]["version"] == 1


def test_invalid_definition_lists_errors_with_paths(client, auth):
    doc = example("campaign-example.json")
    doc["quests"][1]["actions"][0]["target"] = 0
    doc["status"] = "sleeping"
    r = client.put("/api/v1/admin/campaigns/summer_games", json=doc, headers=auth)
    assert r.status_code == 400 and r.json["success"] is False
    paths = {e["path"] for e in r.json["errors"]}
    assert {"quests[1].actions[0].target", "status"} <= paths
    assert client.get("/api/v1/admin/campaigns/summer_games", query_string={"env": "dev"},
                      headers=auth).status_code == 404


def test_body_id_must_match_the_url(client, auth):
    r = client.put("/api/v1/admin/campaigns/other", json={"id": "x", "name": "X"}, headers=auth)
    assert r.status_code == 400 and r.json["errors"][0]["path"] == "id"


def test_publish_bumps_the_version_only_when_the_draft_changed(client, auth):
    doc = {"id": "c", "name": "C"}
    client.put("/api/v1/admin/campaigns/c", json=doc, headers=auth)
    assert client.get("/api/v1/admin/campaigns/c", headers=auth).status_code == 404  # no live yet
    v1 = client.post("/api/v1/admin/campaigns/c/publish", headers=auth).json["data"]
    again = client.post("/api/v1/admin/campaigns/c/publish", headers=auth).json["data"]
    assert (v1["version"], v1["changed"]) == (1, True)
    assert (again["version"], again["changed"]) == (1, False)
    client.put("/api/v1/admin/campaigns/c", json={**doc, "name": "C2"}, headers=auth)
    d = client.get("/api/v1/admin/campaigns/c", query_string={"env": "dev"}, headers=auth).json["data"]
    assert d["draft_differs"] is True and d["definition"]["name"] == "C2"
    assert client.post("/api/v1/admin/campaigns/c/publish", headers=auth).json["data"]["version"] == 2


def test_slug_must_be_unique_in_the_organization(client, auth):
    client.put("/api/v1/admin/campaigns/a", json={"id": "a", "name": "A", "slug": "promo"}, headers=auth)
    r = client.put("/api/v1/admin/campaigns/b", json={"id": "b", "name": "B", "slug": "promo"}, headers=auth)
    assert r.status_code == 409


def test_default_campaign_keeps_its_slug(client, auth):
    r = client.put("/api/v1/admin/campaigns/default", json={"id": "default", "name": "D", "slug": "x"},
                   headers=auth)
    assert r.status_code == 400


def test_schema_is_served_and_validates_the_examples(client):
    from jsonschema import Draft202012Validator
    schema = client.get("/schemas/campaign.json").json
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    for name in ("campaign-example.json", "default-example.json"):
        assert list(validator.iter_errors(example(name))) == []
