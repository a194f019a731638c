"""Campaign definitions (SPEC §2): the campaign schema, the checks beyond it, defaults.

A definition is checked in two passes. The JSON Schema (``campaign.schema.json``,
served at ``GET /schemas/campaign.json``) catches shapes, types and limits; only
when it passes do the semantic checks run (unique ids, dependency graph, time
zone, date windows, instant-win probabilities, JMESPath), because they assume a
well-formed document.

Free of Flask: the CLI and the engine use it without an app.
"""
from __future__ import annotations

import copy
import json
import math
from datetime import timezone, tzinfo
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jmespath
import jmespath.exceptions
import jmespath.functions
from jsonschema.protocols import Validator

from engine.definitions.schema import (FORMAT_MESSAGES, Issue, format_path, make_validator, parse_datetime,
                                       plural, schema_issues,
                                       sorted_issues)

SCHEMA_PATH = Path(__file__).with_name("campaign.schema.json")

# The most points one ledger entry, and so one request or one completion, may move (SPEC §10).
MAX_AMOUNT = 1_000_000_000

# Defaults SPEC §2 gives every action; deps is copied per action, never shared.
ACTION_DEFAULTS: dict[str, Any] = {
    "xp": 0,
    "xp_mul": 0,
    "ref_xp": 0,
    "recurrence": "once",
    "continuous": False,
    "progressive": False,
    "is_optional": False,
    "deps": [],
}


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The campaign JSON Schema (``engine/definitions/campaign.schema.json``), read once.

    The dict is shared between callers: treat it as read-only.
    """
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def _campaign_validator() -> Validator:
    return make_validator(load_schema())


# ---------------------------------------------------------------------------
# Dates and numbers

def _exact(number: Any) -> Fraction:
    """A number as the exact decimal it was written as (0.3 is 3/10, not 0.29999...)."""
    if isinstance(number, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(number, (int, Fraction, Decimal)):
        return Fraction(number)
    if isinstance(number, float):
        if not math.isfinite(number):
            raise ValueError(f"not a finite number: {number!r}")
        # repr() is the shortest string that reads back as this float, i.e.
        # what the JSON document said; the float's binary value is not.
        return Fraction(repr(number))
    raise TypeError(f"not a number: {number!r}")


def action_reward(xp: int, xp_mul) -> int:
    """Points an action pays: ``floor(xp * (100 + xp_mul) / 100)``, computed exactly.

    ``xp_mul`` is a percent bonus (claimr's "Points multiplier (%)"), so
    ``action_reward(100, 5) == 105``. A float ``xp_mul`` is taken as the decimal
    written in the definition, so binary rounding never costs a point
    (``action_reward(750, 57.2) == 1179``, where float arithmetic gives 1178).
    """
    if isinstance(xp, bool) or not isinstance(xp, int):
        raise TypeError(f"xp must be an integer, not {xp!r}")
    return math.floor(Fraction(xp) * (100 + _exact(xp_mul)) / 100)


# ---------------------------------------------------------------------------
# Semantic checks (run only on schema-valid documents)


def _iter_actions(doc: dict) -> Iterable[tuple[tuple, dict]]:
    """Every action with its path, in document order: top level first, then quests."""
    for i, action in enumerate(doc.get("actions", ())):
        yield ("actions", i), action
    for q, quest in enumerate(doc.get("quests", ())):
        for i, action in enumerate(quest.get("actions", ())):
            yield ("quests", q, "actions", i), action


def _check_unique(items: list, key: str, base: tuple, label: str, out: list) -> None:
    first: dict[Any, tuple] = {}
    for i, item in enumerate(items):
        if key not in item:
            continue
        parts = base + (i, key)
        value = item[key]
        if value in first:
            out.append((parts, f"duplicate {label} {value!r} (first at {format_path(first[value])})"))
        else:
            first[value] = parts


def _check_actions(doc: dict, out: list) -> None:
    actions = list(_iter_actions(doc))
    first: dict[str, tuple] = {}
    for parts, action in actions:
        aid = action["id"]
        if aid in first:
            where = format_path(first[aid] + ("id",))
            out.append((parts + ("id",), f"duplicate action id {aid!r} (first at {where})"))
        else:
            first[aid] = parts

    # One completion must fit in one ledger entry.
    for parts, action in actions:
        xp, mul = action.get("xp", 0), action.get("xp_mul", 0)
        if isinstance(xp, int) and action_reward(xp, mul) > MAX_AMOUNT:
            out.append((parts + ("xp",), f"xp with the xp_mul bonus must be at most {MAX_AMOUNT}"))

    # Dependency graph over the first definition of each id; edges remember
    # where they were written so a cycle is reported at a deps entry to cut.
    edges: dict[str, list[tuple[str, tuple]]] = {}
    for parts, action in actions:
        own = edges.setdefault(action["id"], []) if first[action["id"]] == parts else None
        for j, dep in enumerate(action.get("deps", ())):
            where = parts + ("deps", j)
            if dep == action["id"]:
                out.append((where, "an action cannot depend on itself"))
            elif dep not in first:
                out.append((where, f"unknown action id {dep!r}"))
            elif own is not None:
                own.append((dep, where))
    _report_cycles(edges, out)


def _report_cycles(edges: dict[str, list[tuple[str, tuple]]], out: list) -> None:
    # Iterative DFS: a long dependency chain must not hit the recursion limit.
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(edges, white)
    for start in edges:
        if colour[start] != white:
            continue
        colour[start] = grey
        stack = [(start, 0)]
        while stack:
            node, next_edge = stack[-1]
            if next_edge == len(edges[node]):
                colour[node] = black
                stack.pop()
                continue
            stack[-1] = (node, next_edge + 1)
            dep, where = edges[node][next_edge]
            if colour[dep] == grey:
                chain = [n for n, _ in stack]
                cycle = chain[chain.index(dep):] + [dep]
                out.append((where, "dependency cycle: " + " -> ".join(cycle)))
            elif colour[dep] == white:
                colour[dep] = grey
                stack.append((dep, 0))


def _check_timezone(doc: dict, out: list) -> tzinfo:
    name = doc.get("timezone", "UTC")
    # "localtime" and "posixrules" load from most zone databases but mean
    # whatever the host is set to, which is not a campaign's time zone.
    if name not in ("localtime", "posixrules"):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    out.append((("timezone",), f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"))
    return timezone.utc


def _check_window(item: dict, base: tuple, tz: tzinfo, out: list) -> None:
    bounds = {}
    for key in ("starts_at", "ends_at"):
        if key in item:
            try:
                bounds[key] = parse_datetime(item[key], tz)
            except ValueError:
                out.append((base + (key,), FORMAT_MESSAGES["date-time"]))
    if len(bounds) == 2 and bounds["starts_at"] >= bounds["ends_at"]:
        out.append((base + ("ends_at",), "must be after starts_at"))


@lru_cache(maxsize=1)
def _jmespath_functions() -> dict:
    return jmespath.functions.Functions().FUNCTION_TABLE


def _jmespath_problem(expression: str) -> str | None:
    """Why ``expression`` cannot run, or None.

    Besides syntax, function names and argument counts are checked: jmespath
    only notices those when the expression runs, and a misspelt ``flor()``
    would then quietly pay nothing.
    """
    try:
        parsed = jmespath.compile(expression)
    except jmespath.exceptions.IncompleteExpressionError:
        return "is not a valid JMESPath expression: it ends too early"
    except jmespath.exceptions.LexerError as exc:
        return f"is not a valid JMESPath expression: {exc.message} (at character {exc.lexer_position + 1})"
    except jmespath.exceptions.ParseError as exc:
        return f"is not a valid JMESPath expression: {exc.msg} (at character {exc.lex_position + 1})"
    except jmespath.exceptions.JMESPathError as exc:
        return f"is not a valid JMESPath expression: {exc}"
    table = _jmespath_functions()
    nodes = [parsed.parsed]
    while nodes:
        node = nodes.pop()
        if not isinstance(node, dict):
            continue
        nodes.extend(node.get("children", ()))
        if node.get("type") != "function_expression":
            continue
        name = node.get("value")
        if name not in table:
            return f"calls unknown JMESPath function {name}()"
        signature = table[name]["signature"]
        given = len(node.get("children", ()))
        wanted = plural(len(signature), "argument")
        if signature and signature[-1].get("variadic"):
            if given < len(signature):
                return f"JMESPath function {name}() takes at least {wanted}, got {given}"
        elif given != len(signature):
            return f"JMESPath function {name}() takes {wanted}, got {given}"
    return None


def _check_jmespath(expression: str, parts: tuple, out: list) -> None:
    problem = _jmespath_problem(expression)
    if problem:
        out.append((parts, problem))


def _check_mechanics(doc: dict, out: list) -> None:
    mechanics = doc.get("mechanics", {})
    for i, entry in enumerate(mechanics.get("points", ())):
        parts = ("mechanics", "points", i)
        if "points" in entry and "points_query" in entry:
            out.append((parts, "must have exactly one of points or points_query, not both"))
        elif "points" not in entry and "points_query" not in entry:
            out.append((parts, "must have one of points or points_query"))
        if "points_query" in entry:
            _check_jmespath(entry["points_query"], parts + ("points_query",), out)
    _check_unique(mechanics.get("milestones", []), "code", ("mechanics", "milestones"),
                  "milestone code", out)

    tiers = mechanics.get("instant_win", {}).get("tiers", ())
    total = Fraction(0)
    for i, tier in enumerate(tiers):
        p = _exact(tier["probability"])
        if not 0 <= p <= 1:
            out.append((("mechanics", "instant_win", "tiers", i, "probability"), "must be between 0 and 1"))
        total += p
    # Exact sum: 0.1 + 0.2 + 0.7 is 1, though in floats it is 1.0000000000000002.
    if total > 1:
        shown = Decimal(total.numerator) / Decimal(total.denominator)
        out.append((("mechanics", "instant_win", "tiers"),
                    f"probabilities must sum to at most 1 (they sum to {shown.normalize():f})"))


def _semantic_issues(doc: dict) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    tz = _check_timezone(doc, out)
    _check_window(doc, (), tz, out)
    for i, challenge in enumerate(doc.get("challenges", ())):
        _check_window(challenge, ("challenges", i), tz, out)

    _check_actions(doc, out)
    for parts, action in _iter_actions(doc):
        if "query" in action:
            _check_jmespath(action["query"], parts + ("query",), out)

    _check_unique(doc.get("quests", []), "id", ("quests",), "quest id", out)
    for section, label in (("badges", "badge code"), ("tiers", "tier code"),
                           ("challenges", "challenge code"), ("rewards", "reward code")):
        _check_unique(doc.get(section, []), "code", (section,), label, out)
    _check_unique(doc.get("tiers", []), "points_required", ("tiers",), "points_required", out)
    _check_mechanics(doc, out)
    return out


# Deeper than any real definition (free `meta`/`config` objects included), and
# far below what copy.deepcopy and json.dumps can recurse through.
MAX_DEPTH = 32


def _too_deep(doc: Any, limit: int) -> tuple | None:
    """Path of the first object/array nested more than ``limit`` levels, or None."""
    stack: list[tuple[Any, tuple]] = [(doc, ())]
    while stack:
        node, parts = stack.pop()
        if isinstance(node, dict):
            children = node.items()
        elif isinstance(node, list):
            children = enumerate(node)
        else:
            continue
        if len(parts) >= limit:
            return parts
        stack.extend((value, parts + (key,)) for key, value in reversed(list(children)))
    return None


def validate_definition(doc: Any) -> list[Issue]:
    """Every problem with campaign definition ``doc``; an empty list means valid.

    First the JSON Schema; if it reports anything, those issues are returned
    alone (the semantic checks assume a well-formed document). Then: action
    ids unique across the campaign (top level and every quest); quest ids and
    badge, tier, challenge, reward and milestone codes unique; tiers'
    points_required unique; deps naming existing actions, no self-dependency,
    no cycle; an IANA ``timezone``; ``starts_at`` before ``ends_at`` (also per
    challenge; a time without offset is read in the campaign's time zone);
    instant-win probabilities in [0, 1] summing to at most 1; each
    mechanics.points entry with exactly one of points / points_query; every
    JMESPath (``query``, ``points_query``) compiling and calling known
    functions with the right number of arguments. Sorted by path.

    A document nested more than :data:`MAX_DEPTH` levels is refused before
    anything else, with one issue at the first too-deep value.
    """
    deep = _too_deep(doc, MAX_DEPTH)
    if deep is not None:
        return [Issue(format_path(deep), f"is nested too deeply (at most {MAX_DEPTH} levels)")]
    issues = schema_issues(_campaign_validator(), doc)
    if issues:
        return issues
    return sorted_issues(_semantic_issues(doc))


# ---------------------------------------------------------------------------
# Defaults


def normalize(doc: dict) -> dict:
    """A deep copy of a valid definition with SPEC §2's defaults filled in.

    Top level: ``status`` "active", ``slug`` = ``id``, ``timezone`` "UTC",
    ``invite_only`` false. Every action (top level and in quests): see
    :data:`ACTION_DEFAULTS`. Values already present are kept, and sections
    that are absent stay absent.
    """
    out = copy.deepcopy(doc)
    out.setdefault("status", "active")
    if "id" in out:
        out.setdefault("slug", out["id"])
    out.setdefault("timezone", "UTC")
    out.setdefault("invite_only", False)
    actions = list(out.get("actions") or ())
    for quest in out.get("quests") or ():
        if isinstance(quest, dict):
            actions.extend(quest.get("actions") or ())
    for action in actions:
        if isinstance(action, dict):
            for key, value in ACTION_DEFAULTS.items():
                if key not in action:
                    action[key] = copy.copy(value)
    return out
