"""Request parsing shared by every dialect: JSON bodies, query strings, schemas.

A body is validated against a small JSON Schema per endpoint; the same
schema goes into /openapi.json, so the document and the checks cannot drift.
Unknown fields are ignored (clients send extra fields such as kind, ts, env);
known fields are strictly typed (a boolean is not a number).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from flask import request
from werkzeug.routing import IntegerConverter

from engine.definitions import make_validator, schema_issues
from engine.errors import InvalidInput
from engine.ledger import MAX_AMOUNT
from engine.numbers import NotAnInteger, parse_int

MAX_NAME = 256

# Schema fragments the endpoint schemas are made of.
STR = {"type": "string", "minLength": 1, "maxLength": MAX_NAME}
OPT_STR = {"type": "string", "maxLength": MAX_NAME}
POINTS = {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT}
BOOL = {"type": "boolean"}
NUMBER = {"type": "number", "minimum": -1e15, "maximum": 1e15}
ENV = {"type": "string", "enum": ["", "live", "dev"],
       "description": "dev runs against the draft and the sandbox; absent or live is live"}


def obj(required: list[str], **props) -> dict:
    """An object schema: ``required`` fields must be present; others are ignored."""
    return {"type": "object", "required": required, "properties": props}


# The dry run's input (the Management API's and the dashboard's). Values are
# bounded as in /action/value and /stream/value (counters are BIGINT columns).
_EVENT = obj(["name"], name=STR, category=STR, data={"type": "object"})
_VALUE = obj(["aid"], aid=STR, cid=STR, value=NUMBER)
_STREAM = obj(["stream", "value"], stream=STR, value={**NUMBER, "minimum": 0})
SIMULATE_BODY = obj(
    ["account", "platform"], account=STR, platform=STR,
    events={"type": "array", "items": _EVENT, "maxItems": 1000},
    values={"type": "array", "items": _VALUE, "maxItems": 1000},
    streams={"type": "array", "items": _STREAM, "maxItems": 1000},
)


def validator_for(schema: dict):
    """Compile once, at route registration; validating then costs no compilation."""
    return make_validator(schema)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400 parses as infinity, which no column can hold
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _no_nul(value: str, where: str) -> None:
    # PostgreSQL text and jsonb cannot hold U+0000; refuse it everywhere alike.
    if "\x00" in value:
        raise InvalidInput(f"{where}: NUL characters are not allowed")
    _encodable(value, where)


def _encodable(value: str, where: str) -> None:
    # "\ud800" parses as a lone surrogate, which no database can store.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{where}: invalid Unicode (a lone surrogate)") from None


def read_json(validator=None):
    """The request's JSON body, checked by ``validator``; InvalidInput otherwise.

    Content-Type is not required: curl users forget it, and the body is
    parsed as JSON either way.
    """
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    if not raw.strip():
        raise InvalidInput("a JSON request body is required")
    doc = parse_json(raw)
    if validator is not None:
        check(validator, doc)
    return doc


def parse_json(raw: str | bytes, *, malformed: str = "malformed JSON", where: str = "request body"):
    """JSON text as every input path reads it: no NaN or Infinity, no number out
    of range, no nesting too deep to parse, and none of what no database can
    store (U+0000, lone surrogates, which JSON's \\u escapes can make).
    InvalidInput otherwise, its message starting with ``malformed`` or ``where``."""
    try:
        doc = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"{malformed}: {exc}") from None
    nul, surrogate = (b"\\u0000", b"\\ud") if isinstance(raw, bytes) else ("\\u0000", "\\ud")
    if nul in raw:
        raise InvalidInput(f"{where}: NUL characters (\\u0000) are not allowed")
    if surrogate in raw.lower():  # only then can a lone surrogate hide in it
        _encodable(json.dumps(doc, ensure_ascii=False), where)
    return doc


def check(validator, doc) -> None:
    issues = schema_issues(validator, doc)
    if issues:
        raise InvalidInput("; ".join(str(i) for i in issues[:5]),
                           [{"path": i.path, "message": i.message} for i in issues])


@dataclass(frozen=True)
class Param:
    """A query-string parameter. ``schema`` is of the converted value."""

    name: str
    required: bool = False
    schema: dict = field(default_factory=lambda: dict(STR))
    description: str = ""


def query_validator(params: tuple[Param, ...]):
    return validator_for(obj([], **{p.name: p.schema for p in params}))


def read_query(params: tuple[Param, ...], validator) -> dict:
    """Declared query parameters, converted and checked; undeclared ones ignored."""
    out = {}
    doc = {}
    for name, value in request.args.items(multi=True):
        _no_nul(value, name)
    for p in params:
        value = request.args.get(p.name)
        if value is None:
            if p.required:
                raise InvalidInput(f"{p.name}: is required",
                                   [{"path": p.name, "message": "is required"}])
            out[p.name] = None
            continue
        if p.schema.get("type") == "integer":
            try:  # ASCII digits only: int() would also take "٣", "1_0" and " 7 "
                value = parse_int(value, negative=True, name=p.name)
            except NotAnInteger:
                raise InvalidInput(f"{p.name}: must be an integer",
                                   [{"path": p.name, "message": "must be an integer"}]) from None
        elif p.schema.get("type") == "boolean":
            if value not in ("true", "false", "1", "0"):
                raise InvalidInput(f"{p.name}: must be true or false",
                                   [{"path": p.name, "message": "must be true or false"}])
            value = value in ("true", "1")
        doc[p.name] = value
        out[p.name] = value
    check(validator, doc)
    return out


# Query parameters most Campaign API endpoints share.
ACCOUNT = Param("account", True, description="the user's account")
PLATFORM = Param("platform", True, description="the user's platform")
PID = Param("pid", True, description="the campaign id")
ENV_PARAM = Param("env", False, ENV, "dev: the draft and its sandbox")


class AsciiIntegerConverter(IntegerConverter):
    """``<int:...>`` path segments in ASCII digits only: werkzeug's matches ``\\d+``,
    which takes any script's digits (/users/٣)."""

    regex = r"[0-9]+"

    @property
    def signed_regex(self) -> str:
        return r"-?[0-9]+"

    def num_convert(self, value):
        if isinstance(value, int):  # url_for(..., user_id=3)
            return int(value)
        return parse_int(value, negative=self.signed)
