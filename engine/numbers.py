"""Whole numbers written as text (query strings, path segments, form fields, settings).

Python's ``int()`` also reads other scripts' digits (``int("٣") == 3``),
underscores (``int("1_0") == 10``), a ``+`` sign and surrounding whitespace
(``int(" 7 ") == 7``). A number a client sends is accepted here only as ASCII
digits, with a leading ``-`` where negatives are allowed, so every layer
(the database, a cache key, a log line, another server) reads the same text
the same way.
"""
from __future__ import annotations

import re

from engine.errors import InvalidInput

MAX_DIGITS = 30  # far beyond any column (BIGINT has 19); longer text is not a number we take
_UNSIGNED = re.compile(r"[0-9]{1,%d}" % MAX_DIGITS, re.ASCII)
_SIGNED = re.compile(r"-?[0-9]{1,%d}" % MAX_DIGITS, re.ASCII)


class NotAnInteger(InvalidInput, ValueError):
    """Text that is not an ASCII whole number (400). A ValueError too, as ``int()``'s failure is."""


def parse_int(text, *, negative: bool = False, low: int | None = None, high: int | None = None,
              name: str = "value") -> int:
    """The integer ``text`` spells in ASCII digits ('-' first only if ``negative``),
    within ``low``..``high`` when given; NotAnInteger otherwise."""
    pattern = _SIGNED if negative else _UNSIGNED
    if not isinstance(text, str) or pattern.fullmatch(text) is None:
        raise NotAnInteger(f"{name}: must be a whole number written in digits 0-9"
                           if negative is False else
                           f"{name}: must be a whole number written in digits 0-9, '-' first if negative")
    value = int(text, 10)
    if (low is not None and value < low) or (high is not None and value > high):
        raise NotAnInteger(f"{name}: must be between {low} and {high}" if low is not None and high is not None
                           else f"{name}: must be at least {low}" if low is not None
                           else f"{name}: must be at most {high}")
    return value
