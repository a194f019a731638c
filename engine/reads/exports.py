"""CSV exports: every table the dashboard hands out as a file goes through here.

Spreadsheet programs run a cell that begins with ``=``, ``+``, ``-`` or ``@``
(and, in some, a tab or a carriage return) as a formula, so text a participant
or partner chose (an account, a code) could become a live ``=HYPERLINK(...)``
in an operator's spreadsheet. Such cells get a leading single quote, as the
OWASP CSV injection guidance prescribes; numbers are written as they are.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell):
    """The cell as a spreadsheet shows it as text: a quote before a formula start."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """The header and rows as CSV text, every text cell neutralised."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([neutralise(c) for c in header])
    for row in rows:
        w.writerow([neutralise(c) for c in row])
    return out.getvalue()
