"""engine.numbers.parse_int: whole numbers in ASCII digits only."""
from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.numbers import NotAnInteger, parse_int


@pytest.mark.parametrize("text,value", [("0", 0), ("7", 7), ("007", 7), ("9223372036854775807", 2**63 - 1)])
def test_ascii_digits_are_a_number(text, value):
    assert parse_int(text) == value


@pytest.mark.parametrize("text", ["\u0663", "\u0661\u0660", "\uff17", "\u0967", "1_0", " 7 ", "7 ", "\t7",
                                  "7\n", "+7", "-7", "", "7.0", "1e3", "0x10", "seven", None, 7, "9" * 31])
def test_anything_else_is_not(text):
    with pytest.raises(NotAnInteger):
        parse_int(text)


def test_a_minus_sign_only_where_negatives_are_allowed():
    assert parse_int("-7", negative=True) == -7
    for text in ("--7", "- 7", "-", "7-", "-\u0663", "\u22127"):
        with pytest.raises(NotAnInteger):
            parse_int(text, negative=True)


def test_bounds_and_the_kinds_of_error():
    assert parse_int("5", low=1, high=5) == 5
    with pytest.raises(NotAnInteger, match="between 1 and 5"):
        parse_int("6", low=1, high=5)
    with pytest.raises(InvalidInput):  # a 400 wherever engine errors are mapped
        parse_int("x")
    with pytest.raises(ValueError):  # and a ValueError where int()'s failure was caught
        parse_int("x")
