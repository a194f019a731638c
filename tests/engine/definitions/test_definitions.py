"""Campaign definitions: schema, semantic checks, defaults, action rewards (SPEC §2).

Pure engine tests: no Flask app, no database.
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator

from engine.definitions import (Issue, action_reward, format_path, load_schema, make_validator, normalize,
    parse_datetime, schema_issues, validate_definition)

REPO = Path(__file__).resolve().parents[3]
SPEC_DIR = Path("/work/shared/spec")


def example_path(name: str) -> Path | None:
    """The repo's copy of a spec example, else the shared spec's, else None."""
    for candidate in (REPO / "examples" / name, SPEC_DIR / name):
        if candidate.is_file():
            return candidate
    return None


def messages(doc) -> list[str]:
    return [str(issue) for issue in validate_definition(doc)]


# ---------------------------------------------------------------------------
# The spec's examples must be accepted as they are


@pytest.mark.parametrize("name", ["campaign-example.json", "default-example.json"])
def test_spec_examples_are_valid(name):
    path = example_path(name)
    if path is None:
        pytest.skip(f"{name} not found in examples/ or {SPEC_DIR}")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert validate_definition(doc) == []


def test_minimal_definition_is_valid():
    # What every organization's default campaign starts as (SPEC §1).
    assert validate_definition({"id": "default", "name": "Acme"}) == []


def test_schema_is_valid_draft_2020_12():
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["id", "name"]
    assert load_schema() is schema  # cached


# ---------------------------------------------------------------------------
# Broken variants of a valid base definition

BASE = {
    "id": "spring",
    "name": "Spring Games",
    "starts_at": "2026-03-01T00:00:00Z",
    "ends_at": "2026-06-01T00:00:00Z",
    "timezone": "Europe/Berlin",
    "actions": [
        {"id": "visit_site", "name": "Visit", "type": "visit", "url": "https://example.com", "xp": 10},
    ],
    "quests": [
        {"id": "q1", "name": "Quest one", "actions": [
            {"id": "login", "name": "Login", "type": "api_call", "recurrence": "daily", "xp": 5},
            {"id": "bets", "name": "Bet 500", "type": "events_value",
             "event": {"category": "dices", "name": "GameSession"}, "query": "[].data.bet", "target": 500},
            {"id": "score", "name": "Score", "type": "api_number", "target": 1000, "deps": ["login"]},
        ]},
        {"id": "q2", "name": "Quest two", "actions": [
            {"id": "friends", "name": "Friends", "type": "referrals", "count": 3, "deps": ["score"]},
            {"id": "volume", "name": "Volume", "type": "api_stream", "stream": "trades", "target": 10000},
            {"id": "rolls", "name": "Rolls", "type": "events_count",
             "event": {"category": "dices", "name": "GameSession", "platform": "wowhaus"}, "count": 5},
        ]},
    ],
    "mechanics": {
        "points": [
            {"event_type": "purchase", "points": 100},
            {"event_type": "deposit", "points_query": "floor(metadata.amount)"},
        ],
        "milestones": [{"code": "m250", "name": "250", "threshold": 250, "reward_points": 20}],
        "instant_win": {
            "event_types": ["purchase"], "prefix": "SPR",
            "tiers": [
                {"name": "Gold", "probability": 0.1, "points": 500, "quantity": 3},
                {"name": "Silver", "probability": 0.2, "points": 100},
            ],
        },
    },
    "tiers": [
        {"code": "bronze", "name": "Bronze", "level": 1, "color": "#CD7F32", "points_required": 0},
        {"code": "silver", "name": "Silver", "level": 2, "color": "#C0C0C0", "points_required": 1000},
    ],
    "badges": [
        {"code": "first", "name": "First", "rarity": "common",
         "criteria": {"event_type": "login", "count": 1}},
        {"code": "rich", "name": "Rich", "rarity": "rare", "criteria": {"points": 5000}},
    ],
    "challenges": [
        {"code": "five", "name": "Five orders", "event_type": "order_paid", "count": 5,
         "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-04-01T00:00:00Z", "reward_points": 300},
    ],
    "rewards": [{"code": "coffee", "name": "Coffee", "cost": 300, "quantity": 10}],
}


def test_base_is_valid():
    assert validate_definition(BASE) == []


def _walk(doc, path):
    for part in path[:-1]:
        doc = doc[part]
    return doc, path[-1]


def put(path, value):
    def op(doc):
        parent, key = _walk(doc, path)
        parent[key] = value
    return op


def delete(path):
    def op(doc):
        parent, key = _walk(doc, path)
        del parent[key]
    return op


def append(path, value):
    def op(doc):
        parent, key = _walk(doc, path)
        parent[key].append(value)
    return op


Q1 = ("quests", 0, "actions")
Q2 = ("quests", 1, "actions")

BROKEN = [
    # --- shapes and types (JSON Schema)
    ("target-zero", [append(Q1, {"id": "n", "name": "N", "type": "api_number", "target": 0})],
     ["quests[0].actions[3].target: must be > 0"]),
    ("target-zero-existing", [put(Q1 + (2, "target"), 0)],
     ["quests[0].actions[2].target: must be > 0"]),
    ("missing-id", [delete(("id",))], ["id: is required"]),
    ("missing-id-and-name", [delete(("id",)), delete(("name",))], ["id: is required", "name: is required"]),
    ("unknown-top-level-field", [put(("colour",), "red")], ["colour: unknown field"]),
    ("typo-in-action", [put(("actions", 0, "xp_mull"), 5)], ["actions[0].xp_mull: unknown field"]),
    ("bool-as-integer", [put(("actions", 0, "xp"), True)], ["actions[0].xp: must be an integer"]),
    ("bool-as-number", [put(Q1 + (0, "xp_mul"), False)], ["quests[0].actions[0].xp_mul: must be a number"]),
    ("bool-as-probability", [put(("mechanics", "instant_win", "tiers", 0, "probability"), True)],
     ["mechanics.instant_win.tiers[0].probability: must be a number"]),
    ("float-as-integer", [put(("rewards", 0, "cost"), 300.0)], ["rewards[0].cost: must be an integer"]),
    ("string-as-integer", [put(("tiers", 1, "points_required"), "1000")],
     ["tiers[1].points_required: must be an integer"]),
    ("negative-xp", [put(("actions", 0, "xp"), -1)], ["actions[0].xp: must be >= 0"]),
    ("negative-xp-mul", [put(("actions", 0, "xp_mul"), -0.5)], ["actions[0].xp_mul: must be >= 0"]),
    ("absurd-amount", [put(("rewards", 0, "cost"), 1_000_000_001)],
     ["rewards[0].cost: must be <= 1000000000"]),
    ("name-too-long", [put(("name",), "x" * 257)], ["name: must be at most 256 characters"]),
    ("empty-name", [put(("quests", 1, "name"), "")], ["quests[1].name: must not be empty"]),
    ("bad-status", [put(("status",), "running")], ["status: must be one of: active, paused, ended"]),
    ("bad-action-type", [put(("actions", 0, "type"), "click")],
     ["actions[0].type: must be one of: visit, api_call, api_number, api_score, api_stream, "
      "events_count, events_value, referrals, invite_code"]),
    ("bad-recurrence", [put(Q1 + (0, "recurrence"), "hourly")],
     ["quests[0].actions[0].recurrence: must be one of: once, daily, weekly, monthly"]),
    ("bad-leaderboard-version", [put(("leaderboard",), {"version": 3})],
     ["leaderboard.version: must be one of: 1, 2"]),
    ("action-needs-type", [delete(("actions", 0, "type"))], ["actions[0].type: is required"]),
    ("api-number-needs-target", [delete(Q1 + (2, "target"))], ["quests[0].actions[2].target: is required"]),
    ("api-stream-needs-stream", [delete(Q2 + (1, "stream"))], ["quests[1].actions[1].stream: is required"]),
    ("events-count-needs-event-and-count", [delete(Q2 + (2, "event")), delete(Q2 + (2, "count"))],
     ["quests[1].actions[2].count: is required", "quests[1].actions[2].event: is required"]),
    ("events-value-needs-query", [delete(Q1 + (1, "query"))], ["quests[0].actions[1].query: is required"]),
    ("referrals-need-count", [delete(Q2 + (0, "count"))], ["quests[1].actions[0].count: is required"]),
    ("event-needs-name", [delete(Q2 + (2, "event", "name"))],
     ["quests[1].actions[2].event.name: is required"]),
    ("field-unused-by-type", [put(Q2 + (2, "target"), 5)],
     ["quests[1].actions[2].target: is not used by events_count actions"]),
    ("quest-needs-actions", [delete(("quests", 1, "actions"))], ["quests[1].actions: is required"]),
    ("timezone-not-a-string", [put(("timezone",), 1)], ["timezone: must be a string"]),
    ("date-without-time", [put(("starts_at",), "2026-03-01")],
     ["starts_at: must be an ISO 8601 date-time such as 2026-06-01T00:00:00Z"]),
    ("date-garbage", [put(("challenges", 0, "ends_at"), "soon")],
     ["challenges[0].ends_at: must be an ISO 8601 date-time such as 2026-06-01T00:00:00Z"]),
    ("probability-over-one", [put(("mechanics", "instant_win", "tiers", 1, "probability"), 1.5)],
     ["mechanics.instant_win.tiers[1].probability: must be <= 1"]),
    ("bad-color", [put(("tiers", 0, "color"), "red; background: url(x)")],
     ["tiers[0].color: must be a hex color like #4F46E5"]),
    ("bad-url", [put(("actions", 0, "url"), "javascript:alert(1)")],
     ["actions[0].url: must be an http:// or https:// URL"]),
    ("bad-origin", [put(("widget",), {"allowed_origins": ["https://ok.example.com", "https://x.com/path"]})],
     ["widget.allowed_origins[1]: must be an origin like https://example.com "
      "(scheme, host and optional port; *.example.com allowed)"]),
    ("bad-slug", [put(("slug",), "spring games/2")],
     ["slug: must start with a letter or digit and contain only letters, digits, '.', '_', '~' and '-'"]),
    ("duplicate-deps-entry", [put(Q1 + (2, "deps"), ["login", "login"])],
     ["quests[0].actions[2].deps: must not contain duplicate items"]),
    ("badge-criteria-incomplete", [put(("badges", 0, "criteria"), {"event_type": "login"})],
     ["badges[0].criteria.count: is required"]),
    ("badge-criteria-mixed", [put(("badges", 0, "criteria"), {"points": 5, "streak": 3})],
     ["badges[0].criteria: must match exactly one of: {event_type, count} | {points} | {streak}"]),
    ("badge-criteria-bad-value", [put(("badges", 1, "criteria"), {"points": -5})],
     ["badges[1].criteria.points: must be >= 0"]),
    ("badge-criteria-not-object", [put(("badges", 1, "criteria"), 5000)],
     ["badges[1].criteria: must be an object"]),
    ("bad-rarity", [put(("badges", 1, "rarity"), "mythic")],
     ["badges[1].rarity: must be one of: common, uncommon, rare, epic, legendary"]),
    ("schema-errors-hide-semantic-ones",
     [put(("timezone",), "Mars/Olympus"), put(("rewards", 0, "cost"), -1)],
     ["rewards[0].cost: must be >= 0"]),

    # --- semantic checks
    ("duplicate-action-id-across-quests", [put(Q2 + (1, "id"), "login")],
     ["quests[1].actions[1].id: duplicate action id 'login' (first at quests[0].actions[0].id)"]),
    ("duplicate-action-id-top-level-and-quest",
     [put(Q1 + (0, "id"), "visit_site"), put(Q1 + (2, "deps"), [])],
     ["quests[0].actions[0].id: duplicate action id 'visit_site' (first at actions[0].id)"]),
    ("dep-on-unknown-action", [put(Q2 + (0, "deps"), ["score", "scor"])],
     ["quests[1].actions[0].deps[1]: unknown action id 'scor'"]),
    ("dep-on-itself", [put(("actions", 0, "deps"), ["visit_site"])],
     ["actions[0].deps[0]: an action cannot depend on itself"]),
    ("dependency-cycle", [put(Q1 + (0, "deps"), ["friends"])],
     ["quests[0].actions[2].deps[0]: dependency cycle: login -> friends -> score -> login"]),
    ("two-node-cycle", [put(("actions", 0, "deps"), ["volume"]), put(Q2 + (1, "deps"), ["visit_site"])],
     ["quests[1].actions[1].deps[0]: dependency cycle: visit_site -> volume -> visit_site"]),
    ("bad-timezone", [put(("timezone",), "Mars/Olympus")],
     ["timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Berlin)"]),
    ("host-timezone-alias", [put(("timezone",), "localtime")],
     ["timezone: unknown time zone 'localtime' (use an IANA name such as Europe/Berlin)"]),
    ("starts-after-ends", [put(("starts_at",), "2026-07-01T00:00:00Z")],
     ["ends_at: must be after starts_at"]),
    ("starts-equals-ends", [put(("ends_at",), "2026-03-01T01:00:00+01:00")],
     ["ends_at: must be after starts_at"]),
    ("challenge-window-reversed", [put(("challenges", 0, "starts_at"), "2026-05-01T00:00:00Z")],
     ["challenges[0].ends_at: must be after starts_at"]),
    ("probabilities-over-one", [put(("mechanics", "instant_win", "tiers", 1, "probability"), 0.95)],
     ["mechanics.instant_win.tiers: probabilities must sum to at most 1 (they sum to 1.05)"]),
    ("jmespath-does-not-compile", [put(Q1 + (1, "query"), "[].data.bet[")],
     ["quests[0].actions[1].query: is not a valid JMESPath expression: it ends too early"]),
    ("jmespath-syntax-error", [put(("mechanics", "points", 1, "points_query"), "metadata..amount")],
     ["mechanics.points[1].points_query: is not a valid JMESPath expression: Expecting: "
      "['quoted_identifier', 'unquoted_identifier', 'lbracket', 'lbrace'], got: dot (at character 10)"]),
    ("jmespath-unknown-function", [put(("mechanics", "points", 1, "points_query"), "flor(metadata.amount)")],
     ["mechanics.points[1].points_query: calls unknown JMESPath function flor()"]),
    ("jmespath-wrong-arity",
     [put(("mechanics", "points", 1, "points_query"), "floor(metadata.a, metadata.b)")],
     ["mechanics.points[1].points_query: JMESPath function floor() takes 1 argument, got 2"]),
    ("points-and-points-query", [put(("mechanics", "points", 0, "points_query"), "metadata.n")],
     ["mechanics.points[0]: must have exactly one of points or points_query, not both"]),
    ("neither-points-nor-query", [delete(("mechanics", "points", 0, "points"))],
     ["mechanics.points[0]: must have one of points or points_query"]),
    ("duplicate-quest-id", [put(("quests", 1, "id"), "q1")],
     ["quests[1].id: duplicate quest id 'q1' (first at quests[0].id)"]),
    ("duplicate-badge-code", [put(("badges", 1, "code"), "first")],
     ["badges[1].code: duplicate badge code 'first' (first at badges[0].code)"]),
    ("duplicate-tier-code-and-threshold",
     [put(("tiers", 1, "code"), "bronze"), put(("tiers", 1, "points_required"), 0)],
     ["tiers[1].code: duplicate tier code 'bronze' (first at tiers[0].code)",
      "tiers[1].points_required: duplicate points_required 0 (first at tiers[0].points_required)"]),
    ("duplicate-challenge-code", [append(("challenges",), copy.deepcopy(BASE["challenges"][0]))],
     ["challenges[1].code: duplicate challenge code 'five' (first at challenges[0].code)"]),
    ("duplicate-reward-code", [append(("rewards",), {"code": "coffee", "name": "Tea", "cost": 1})],
     ["rewards[1].code: duplicate reward code 'coffee' (first at rewards[0].code)"]),
    ("duplicate-milestone-code",
     [append(("mechanics", "milestones"), {"code": "m250", "name": "x", "threshold": 9, "reward_points": 1})],
     ["mechanics.milestones[1].code: duplicate milestone code 'm250' "
      "(first at mechanics.milestones[0].code)"]),
]


@pytest.mark.parametrize("ops, expected", [pytest.param(o, e, id=i) for i, o, e in BROKEN])
def test_broken_variants(ops, expected):
    doc = copy.deepcopy(BASE)
    for op in ops:
        op(doc)
    assert messages(doc) == expected


def test_issue_fields_and_str():
    doc = copy.deepcopy(BASE)
    doc["quests"][0]["actions"][2]["target"] = 0
    assert validate_definition(doc) == [Issue("quests[0].actions[2].target", "must be > 0")]


def test_not_an_object():
    assert validate_definition([]) == [Issue("", "must be an object")]
    assert str(validate_definition("x")[0]) == "(root): must be an object"


def test_probabilities_summing_to_exactly_one_are_fine():
    # 0.1 + 0.2 + 0.7 is 1.0000000000000002 in floats; the definition says 1.
    doc = copy.deepcopy(BASE)
    doc["mechanics"]["instant_win"]["tiers"].append({"name": "Bronze", "probability": 0.7, "points": 1})
    assert validate_definition(doc) == []


def test_issues_sorted_by_path_with_numeric_indexes():
    doc = {"id": "x", "name": "x",
           "actions": [{"id": f"a{i}", "name": "a", "type": "visit", "xp": -1} for i in range(12)]}
    paths = [i.path for i in validate_definition(doc)]
    assert paths == [f"actions[{i}].xp" for i in range(12)]


def test_long_dependency_chain_is_not_recursive():
    n = 1000
    doc = {"id": "x", "name": "x", "actions": [
        {"id": f"a{i}", "name": "a", "type": "api_call", "deps": [f"a{i + 1}"] if i + 1 < n else ["a0"]}
        for i in range(n)
    ]}
    issues = validate_definition(doc)
    assert len(issues) == 1
    assert issues[0].path == f"actions[{n - 1}].deps[0]"
    assert issues[0].message.startswith("dependency cycle: a0 -> a1 -> ")


def test_naive_times_are_read_in_the_campaign_timezone():
    # 10:00 in Berlin (summer) is 08:00 UTC: the window is 08:00..09:00 UTC, not empty.
    doc = {"id": "x", "name": "x", "timezone": "Europe/Berlin",
           "starts_at": "2026-06-01T10:00:00", "ends_at": "2026-06-01T09:00:00Z"}
    assert validate_definition(doc) == []


def test_deeply_nested_meta_is_refused_without_recursing():
    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["x"] = {}
        node = node["x"]
    doc = {"id": "x", "name": "x", "actions": [{"id": "a", "name": "a", "type": "visit", "meta": deep}]}
    issues = validate_definition(doc)
    assert len(issues) == 1
    assert issues[0].path == "actions[0].meta" + ".x" * 29
    assert issues[0].message == "is nested too deeply (at most 32 levels)"
    # Ordinary free-form meta is fine.
    doc["actions"][0]["meta"] = {"a": {"b": [1, {"c": 2}]}}
    assert validate_definition(doc) == []


def test_dates_the_engine_could_not_convert_are_refused():
    doc = {"id": "x", "name": "x", "starts_at": "9999-12-31T23:59:59-23:59"}
    assert messages(doc) == ["starts_at: must be an ISO 8601 date-time such as 2026-06-01T00:00:00Z"]


# ---------------------------------------------------------------------------
# schema_issues on its own (the API layer reuses it for request bodies)


def test_schema_issues_general_messages():
    schema = {
        "type": "object",
        "required": ["amount", "user"],
        "additionalProperties": False,
        "properties": {
            "amount": {"type": "integer", "minimum": 1, "maximum": 10},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "user": {"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^[a-z]+$"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 3,
                     "uniqueItems": True},
            "kind": {"const": "award"},
            "when": {"type": "string", "format": "date-time"},
        },
    }
    v = make_validator(schema)
    assert [str(i) for i in schema_issues(v, {"extra": 1, "ratio": 1, "tags": ["a", "a"], "kind": "x",
                                              "when": "yesterday"})] == [
        "amount: is required",
        "extra: unknown field",
        "kind: must be award",
        "ratio: must be < 1",
        "tags: must not contain duplicate items",
        "user: is required",
        "when: must be an ISO 8601 date-time such as 2026-06-01T00:00:00Z",
    ]
    assert [str(i) for i in schema_issues(v, {"amount": 0, "user": "ABCD", "ratio": 0, "tags": ["a"]})] == [
        "amount: must be >= 1",
        "ratio: must be > 0",
        "tags: must have at least 2 items",
        "user: must be at most 3 characters",
        "user: must match the pattern ^[a-z]+$",
    ]
    # A wrong type says only that, not every other keyword the value also fails.
    assert [str(i) for i in schema_issues(v, {"amount": 11.5, "user": 7})] == [
        "amount: must be an integer",
        "user: must be a string",
    ]
    assert schema_issues(v, {"amount": 10, "user": "abc"}) == []


def test_schema_issues_with_a_plain_validator():
    v = Draft202012Validator({"properties": {"n": {"type": ["integer", "null"]}}})
    assert [str(i) for i in schema_issues(v, {"n": "1"})] == ["n: must be an integer or null"]
    assert [str(i) for i in schema_issues(v, {"n": False})] == ["n: must be an integer or null"]


@pytest.mark.parametrize("parts, expected", [
    ([], ""),
    (["id"], "id"),
    (["quests", 0, "actions", 2, "target"], "quests[0].actions[2].target"),
    ([3, "x"], "[3].x"),
    (["actions", 1, "meta", "a.b"], 'actions[1].meta["a.b"]'),
    (["meta", "with space", 0], 'meta["with space"][0]'),
])
def test_format_path(parts, expected):
    assert format_path(parts) == expected


# ---------------------------------------------------------------------------
# normalize


def test_normalize_fills_defaults():
    doc = {"id": "spring", "name": "Spring",
           "actions": [{"id": "a", "name": "A", "type": "visit"}],
           "quests": [{"id": "q", "name": "Q", "actions": [
               {"id": "b", "name": "B", "type": "api_call", "xp": 7, "recurrence": "daily", "deps": ["a"]},
               {"id": "c", "name": "C", "type": "api_call"},
           ]}]}
    before = copy.deepcopy(doc)
    out = normalize(doc)
    assert doc == before  # the input is untouched
    assert out["status"] == "active"
    assert out["slug"] == "spring"
    assert out["timezone"] == "UTC"
    assert out["invite_only"] is False
    defaults = {"xp": 0, "xp_mul": 0, "ref_xp": 0, "recurrence": "once", "continuous": False,
                "progressive": False, "is_optional": False, "deps": []}
    assert out["actions"][0] == {"id": "a", "name": "A", "type": "visit", **defaults}
    assert out["quests"][0]["actions"][0] == {
        "id": "b", "name": "B", "type": "api_call", **defaults, "xp": 7, "recurrence": "daily", "deps": ["a"]}
    assert out["quests"][0]["actions"][1] == {"id": "c", "name": "C", "type": "api_call", **defaults}
    assert validate_definition(out) == []
    # Every action gets its own deps list.
    out["actions"][0]["deps"].append("x")
    assert out["quests"][0]["actions"][1]["deps"] == []


def test_normalize_keeps_given_values_and_invents_no_sections():
    doc = {"id": "x", "name": "X", "slug": "x-promo", "status": "paused", "timezone": "Asia/Tokyo",
           "invite_only": True}
    out = normalize(doc)
    assert out == doc
    for section in ("actions", "quests", "mechanics", "tiers", "badges", "games", "seasons"):
        assert section not in out


@pytest.mark.parametrize("name", ["campaign-example.json", "default-example.json"])
def test_normalized_examples_still_validate(name):
    path = example_path(name)
    if path is None:
        pytest.skip(f"{name} not found")
    assert validate_definition(normalize(json.loads(path.read_text(encoding="utf-8")))) == []


# ---------------------------------------------------------------------------
# action_reward


@pytest.mark.parametrize("xp, xp_mul, expected", [
    (100, 5, 105),
    (50, 50, 75),
    (100, 0, 100),
    (0, 50, 0),
    (3, 33.3, 3),        # 3.999 -> 3
    (10, 33.3, 13),      # 13.33 -> 13
    (750, 57.2, 1179),   # exactly 1179; float arithmetic gives 1178.999...
    (1000, 0.3, 1003),
    (100, 0.5, 100),     # 100.5 -> 100
    (7, 100, 14),
    (1, 99.99999, 1),
    (1_000_000_000, 10000, 101_000_000_000),
])
def test_action_reward(xp, xp_mul, expected):
    assert action_reward(xp, xp_mul) == expected
    assert isinstance(action_reward(xp, xp_mul), int)


def test_action_reward_never_loses_a_point_to_floats():
    for xp in range(1, 2000):
        for tenths in range(0, 1000, 7):
            xp_mul = tenths / 10  # the float a JSON "57.2" becomes
            exact_hundredths = xp * (1000 + tenths)  # xp * (100 + xp_mul) * 10
            assert action_reward(xp, xp_mul) == exact_hundredths // 1000, (xp, xp_mul)


def test_action_reward_rejects_non_numbers():
    with pytest.raises(TypeError):
        action_reward(True, 5)
    with pytest.raises(TypeError):
        action_reward(100, True)
    with pytest.raises(TypeError):
        action_reward(100.0, 5)


# ---------------------------------------------------------------------------
# parse_datetime and the module's dependencies


def test_parse_datetime():
    utc = timezone.utc
    assert parse_datetime("2026-06-01T00:00:00Z") == datetime(2026, 6, 1, tzinfo=utc)
    assert parse_datetime("2026-06-01t00:00:00z") == datetime(2026, 6, 1, tzinfo=utc)
    assert parse_datetime("2026-06-01T02:00:00+02:00") == datetime(2026, 6, 1, tzinfo=utc)
    assert parse_datetime("2026-06-01 00:00") == datetime(2026, 6, 1, tzinfo=utc)
    berlin = parse_datetime("2026-06-01T02:00:00", ZoneInfo("Europe/Berlin"))
    assert berlin.utcoffset() == timedelta(hours=2)
    for bad in ("2026-06-01", "tomorrow", "2026-13-01T00:00:00Z", "", "2026-06-01T00:00:00Zjunk"):
        with pytest.raises(ValueError):
            parse_datetime(bad)


def test_module_does_not_import_flask():
    code = "import sys, engine.definitions; sys.exit('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or "engine.definitions imported flask"
