"""A user's action counters (rows of ``action_states``) as plain data.

The task engine (engine/run/tasks.py) reads a user's counters once per run
and writes back the ones it touched, in one statement each for the new and
the changed rows, when the run finishes. They are Core statements
(engine/db/statements.py), not ORM entities. The run holds the user's
balance lock throughout, and nothing else writes this table.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from models import ActionState

from engine.db import statements

# The columns that identify a user's rows in every per-user table, and the
# matching filter_by() arguments for statements built once.

_table = ActionState.__table__


@dataclass(slots=True)
class Counters:
    """One action's counters for its current period (see models.ActionState)."""

    action_id: str
    action_type: str = ""
    recurrence: str = ""
    period: str = ""
    progress: int = 0
    paid_in_period: int = 0
    completions: int = 0
    first_paid_period: str | None = None
    first_paid_at: datetime | None = None
    last_paid_at: datetime | None = None
    updated_at: datetime | None = None


# The counter columns, as the dataclass names them (action_id is the row's key).
FIELDS = tuple(f.name for f in fields(Counters) if f.name != "action_id")

# Built once. SELECT is run by the caller (engine.run.tasks.Run.lookup binds the owner).
SELECT = select(_table.c.action_id, *(_table.c[f] for f in FIELDS)).where(
    *(_table.c[k] == param for k, param in statements.OWNER_PARAMS.items()))
_INSERT = insert(_table)
_UPDATE = update(_table).where(*statements.where_key(_table, (*statements.OWNER, "action_id")))


def load(rows: list) -> dict[str, Counters]:
    """The rows of SELECT, by action id (SELECT's columns are the dataclass's, in order)."""
    return {row.action_id: Counters(*row) for row in rows}


def save(session: Session, owner: dict, counters: dict[str, Counters],
         touched: set[str], new: set[str]) -> None:
    """Write the ``touched`` counters: INSERT those in ``new``, UPDATE the rest.

    ``owner``: campaign_id, env and user_id.
    """
    inserts, updates = [], []
    for action_id in sorted(touched):  # a stable order: the same rows lock in the same order
        c = counters[action_id]
        values = {f: getattr(c, f) for f in FIELDS}
        if action_id in new:
            inserts.append({**owner, "action_id": action_id, **values})
        else:
            updates.append({**statements.key_params({**owner, "action_id": action_id}), **values})
    statements.execute_many(session, _INSERT, inserts)
    statements.execute_many(session, _UPDATE, updates)
