"""CSV exports neutralise cells a spreadsheet would run as formulas (OWASP CSV injection)."""
from __future__ import annotations

import csv
import io

import pytest

from engine.reads.exports import csv_text, neutralise


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", '=HYPERLINK("http://x")'])
def test_a_cell_that_starts_a_formula_gets_a_leading_quote(cell):
    assert neutralise(cell) == "'" + cell
    [row] = list(csv.reader(io.StringIO(csv_text(["a"], [[cell]]), newline="")))[1:]
    assert row == ["'" + cell]


@pytest.mark.parametrize("cell", ["alice", "a=1", "", " =1", "'=1", 5, -5, None])
def test_other_cells_and_numbers_are_written_as_they_are(cell):
    assert neutralise(cell) == cell


def test_the_header_is_neutralised_too():
    assert csv_text(["=x", "y"], []) == "'=x,y\r\n"
