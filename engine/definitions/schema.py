"""JSON Schema validation whose every error names its JSON path.

General: the campaign checks (engine/definitions/checks.py) run it against
the campaign schema, and the API layer against small per-endpoint schemas,
so it knows nothing about campaigns. Every problem is an :class:`Issue`,
e.g. ``quests[0].actions[2].target: must be > 0``. Integers are strict
(a boolean is not a number) and formats are checked without optional extras.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any, Iterable

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

# How an empty path (the document itself) is shown. format_path() returns ""
# for it so that machine-readable error lists keep "" as the root's path.
ROOT = "(root)"


@dataclass(frozen=True)
class Issue:
    """One validation problem: where (a JSON path, "" for the root) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or ROOT}: {self.message}"


# ---------------------------------------------------------------------------
# Paths

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def format_path(parts: Iterable[str | int]) -> str:
    """Render path parts as ``quests[0].actions[2].target``; ``[]`` gives ``""``.

    Keys that are not plain identifiers are quoted (``meta["a.b"]``) so a path
    always reads back to exactly one location. Show ``""`` as :data:`ROOT`.
    """
    out: list[str] = []
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out.append(f"[{part}]")
        elif isinstance(part, str) and _PLAIN_KEY.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(str(part), ensure_ascii=False)}]")
    return "".join(out)


def _sort_key(parts: tuple) -> tuple:
    # Index 10 must sort after index 2, which comparing rendered strings gets wrong.
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in parts)


def sorted_issues(raw: Iterable[tuple[tuple, str]]) -> list[Issue]:
    """Issues from (path parts, message) pairs: unique, sorted by path (index 10 after 2)."""
    unique = {(parts, message) for parts, message in raw}
    ordered = sorted(unique, key=lambda item: (_sort_key(item[0]), item[1]))
    return [Issue(format_path(parts), message) for parts, message in ordered]


# ---------------------------------------------------------------------------
# JSON Schema errors -> issues

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}

FORMAT_MESSAGES = {
    "date-time": "must be an ISO 8601 date-time such as 2026-06-01T00:00:00Z",
    "date": "must be an ISO 8601 date such as 2026-06-01",
    "email": "must be an email address",
}

# Errors that say "this value is the wrong kind of thing" rather than "this
# value is almost right"; used to tell which oneOf/anyOf branch was meant.
_SHAPE_KEYWORDS = {"type", "additionalProperties", "unevaluatedProperties", "const", "enum", "not", None}


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _type_message(expected: Any) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    return "must be " + " or ".join(_TYPE_NAMES.get(n, n) for n in names)


def _keyword_message(error: jsonschema.ValidationError) -> str:
    kw, value = error.validator, error.validator_value
    if kw == "type":
        return _type_message(value)
    if kw == "enum":
        return "must be one of: " + ", ".join(_show(v) for v in value)
    if kw == "const":
        return f"must be {_show(value)}"
    if kw == "minimum":
        return f"must be >= {_num(value)}"
    if kw == "exclusiveMinimum":
        return f"must be > {_num(value)}"
    if kw == "maximum":
        return f"must be <= {_num(value)}"
    if kw == "exclusiveMaximum":
        return f"must be < {_num(value)}"
    if kw == "multipleOf":
        return f"must be a multiple of {_num(value)}"
    if kw == "minLength":
        return "must not be empty" if value == 1 else f"must be at least {plural(value, 'character')}"
    if kw == "maxLength":
        return f"must be at most {plural(value, 'character')}"
    if kw == "pattern":
        return f"must match the pattern {value}"
    if kw == "format":
        return FORMAT_MESSAGES.get(value, f"must be a valid {value}")
    if kw == "minItems":
        return "must not be empty" if value == 1 else f"must have at least {plural(value, 'item')}"
    if kw == "maxItems":
        return f"must have at most {plural(value, 'item')}"
    if kw == "uniqueItems":
        return "must not contain duplicate items"
    if kw == "minProperties":
        return f"must have at least {plural(value, 'field')}"
    if kw == "maxProperties":
        return f"must have at most {plural(value, 'field')}"
    if kw in ("not", None):  # None: the subschema is literally `false`
        return "is not allowed here"
    return error.message


def _describe_branch(branch: Any, index: int) -> str:
    if isinstance(branch, dict):
        if "title" in branch:
            return str(branch["title"])
        if "required" in branch:
            return "{" + ", ".join(branch["required"]) + "}"
        if "const" in branch:
            return _show(branch["const"])
        if "type" in branch:
            return _type_message(branch["type"])[len("must be "):]
        if "$ref" in branch:
            return str(branch["$ref"]).rsplit("/", 1)[-1]
    return f"schema #{index}"


def _explain_choice(error: jsonschema.ValidationError) -> list[tuple[tuple, str]]:
    """oneOf/anyOf: point into the one branch the value clearly aims at, else list the forms."""
    parts = tuple(error.absolute_path)
    branches = error.validator_value
    by_branch: dict[int, list] = defaultdict(list)
    for sub in error.context or ():
        by_branch[sub.relative_schema_path[0]].append(sub)
    plausible = [
        i for i, errors in sorted(by_branch.items())
        if not any(len(e.relative_path) == 0 and e.validator in _SHAPE_KEYWORDS for e in errors)
    ]
    if len(plausible) == 1:
        out: list[tuple[tuple, str]] = []
        for sub in by_branch[plausible[0]]:
            out.extend(_explain(sub))
        return out
    quantifier = "exactly one" if error.validator == "oneOf" else "at least one"
    forms = " | ".join(_describe_branch(b, i) for i, b in enumerate(branches))
    return [(parts, f"must match {quantifier} of: {forms}")]


def _explain(error: jsonschema.ValidationError) -> list[tuple[tuple, str]]:
    """One jsonschema error as (path parts, message) pairs; some errors name several fields."""
    parts = tuple(error.absolute_path)
    kw = error.validator
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}

    # Missing and unknown fields are reported at the field's own path, which
    # is what a user searching their document for the problem needs.
    if kw == "required" and isinstance(instance, dict):
        return [(parts + (name,), "is required") for name in error.validator_value if name not in instance]
    if kw == "dependentRequired" and isinstance(instance, dict):
        return [
            (parts + (name,), f"is required when {trigger} is present")
            for trigger, needed in error.validator_value.items() if trigger in instance
            for name in needed if name not in instance
        ]
    if kw == "additionalProperties" and error.validator_value is False and isinstance(instance, dict):
        known = schema.get("properties", {})
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        return [
            (parts + (key,), "unknown field")
            for key in instance
            if key not in known and not any(p.search(key) for p in patterns)
        ]
    if kw in ("oneOf", "anyOf"):
        return _explain_choice(error)

    # errorMessage: a Questkit annotation in our schemas, {keyword: message},
    # for the few places where the generic wording would not help (patterns).
    custom = schema.get("errorMessage")
    if isinstance(custom, dict) and isinstance(custom.get(kw), str):
        return [(parts, custom[kw])]
    return [(parts, _keyword_message(error))]


def schema_issues(validator: Validator, instance: Any) -> list[Issue]:
    """Validate ``instance`` with ``validator``; every error as an :class:`Issue`.

    Messages are short and uniform (``must be >= 0``, ``is required``,
    ``unknown field``, ``must be an integer``...). When a value has the wrong
    type, other complaints about that same value are dropped as noise. The
    result is de-duplicated and sorted by path (list indexes numerically),
    then message, so it is deterministic. An empty list means valid.
    """
    raw: list[tuple[tuple, str, str | None]] = []
    wrong_type: set[tuple] = set()
    for error in validator.iter_errors(instance):
        if error.validator == "type":
            wrong_type.add(tuple(error.absolute_path))
        raw.extend((parts, message, error.validator) for parts, message in _explain(error))
    kept = [
        (parts, message) for parts, message, kw in raw
        if kw == "type" or parts not in wrong_type
    ]
    return sorted_issues(kept)


# ---------------------------------------------------------------------------
# Validators


_DATETIME_START = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def parse_datetime(value: str, tz: tzinfo | None = None) -> datetime:
    """Parse an ISO 8601 date-time (``2026-06-01T00:00:00Z``, ``...+02:00``) to an aware datetime.

    A date and a time are both required (``2026-06-01`` alone is rejected).
    A value without an offset is read in ``tz`` (the campaign's time zone),
    or UTC when ``tz`` is None. Raises ValueError when it does not parse.
    """
    if not isinstance(value, str) or not _DATETIME_START.match(value):
        raise ValueError(f"not an ISO 8601 date-time: {value!r}")
    text = value[:10] + "T" + value[11:]
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz or timezone.utc)
    try:
        # 9999-12-31T23:59-23:59 parses, but the engine could never convert it to UTC.
        parsed.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"date-time out of range: {value!r}") from None
    return parsed


def _is_strict_integer(checker, instance) -> bool:
    # Points are integers everywhere (SPEC §12): 5.0 would slip a float into the
    # ledger, so "integer" means a JSON number written without a fraction.
    return isinstance(instance, int) and not isinstance(instance, bool)


_FORMAT_CHECKER = jsonschema.FormatChecker(formats=())


@_FORMAT_CHECKER.checks("date-time", raises=(ValueError, TypeError))
def _check_date_time(instance) -> bool:
    if isinstance(instance, str):
        parse_datetime(instance)
    return True


@_FORMAT_CHECKER.checks("date", raises=(ValueError, TypeError))
def _check_date(instance) -> bool:
    if isinstance(instance, str):
        datetime.strptime(instance, "%Y-%m-%d")
    return True


@_FORMAT_CHECKER.checks("email")
def _check_email(instance) -> bool:
    return not isinstance(instance, str) or "@" in instance


_StrictValidator = jsonschema.validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)


def make_validator(schema: dict) -> Validator:
    """A draft 2020-12 validator the way Questkit validates campaigns.

    Differences from a plain ``Draft202012Validator``: ``integer`` rejects
    ``5.0``, and ``format`` is asserted for ``date-time`` (ISO 8601, see
    :func:`parse_datetime`), ``date`` and ``email`` only (a fixed set, so the
    result does not depend on which optional jsonschema extras are installed).
    """
    return _StrictValidator(schema, format_checker=_FORMAT_CHECKER)


