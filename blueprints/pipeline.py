"""The one request pipeline: every API dialect, the widget, the play pages and
the dashboard run their work through :func:`run`.

- The work runs in one transaction, committed once when it returns and
  rolled back when it raises (nothing half-done), or rolled back on purpose
  when the work said so (``unit.keep_nothing()``: refused answers, replays,
  dry runs).
- A transient lock failure (a lost race, engine.db.storage.is_retryable)
  runs the work again from the start; still locked after every retry, or a
  database that is down, is a 503.
- A typed engine error becomes a status through the adapter's own table
  (:class:`Errors`), and the adapter renders it: a JSON envelope, a toast, an
  error page or a flash message. A concurrent insert of the same thing
  (IntegrityError) is a 409. No client input reaches a 500.
- Hooks registered with ``unit.after_commit`` run once the transaction
  committed and before the answer is written: side effects that must not
  happen for a rolled-back change, like sending e-mail.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import request
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from engine.db.storage import is_retryable, retrying, writing
from engine.errors import (Conflict, EngineError, Forbidden, IdempotencyMismatch, InvalidInput, NotFound,
    Unauthorized)
from extensions import db
from settings import current_settings

log = logging.getLogger(__name__)

BASE_STATUSES: dict[type, int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    IdempotencyMismatch: 422,
}

BUSY = "the database is busy; retry later"
UNAVAILABLE = "the database is unavailable; retry later"
RACE = "conflict with a concurrent request; retry it"


@dataclass
class Errors:
    """An adapter's table of engine error -> status, and how it renders an error.

    ``render(status, message, exc)`` answers the client; ``exc`` is the engine
    error, or None for the pipeline's own (503, 409 after a race, 413 ...).
    ``http``: render Werkzeug's HTTP errors (an oversized body ...) too;
    otherwise Flask answers them as usual.
    """

    render: Callable[[int, str, EngineError | None], Any]
    statuses: dict[type, int] = field(default_factory=lambda: dict(BASE_STATUSES))
    default: int = 400
    http: bool = True

    def status_of(self, exc: EngineError) -> int:
        for cls in type(exc).__mro__:
            if cls in self.statuses:
                return self.statuses[cls]
        return self.default


class Unit:
    """One attempt of the work: its after-commit hooks and its answer."""

    def __init__(self):
        self.answer: Any = None
        self.hooks: list[Callable[["Unit"], None]] = []
        self.commit = True

    def after_commit(self, hook: Callable[["Unit"], None]) -> None:
        """Run ``hook(unit)`` after the commit; it may replace ``unit.answer``."""
        self.hooks.append(hook)

    def keep_nothing(self) -> None:
        """Roll the transaction back instead of committing it."""
        self.commit = False


def run(work: Callable[[Unit], Any], *, write: bool, errors: Errors):
    """``work(unit)`` in one transaction, retried after a lost race; see the module doc.

    ``write``: take SQLite's write lock up front (engine.db.storage.writing).
    """
    with writing(write):
        try:
            return retrying(lambda: _attempt(work, errors))
        except OperationalError:  # still locked after every retry
            db.session.rollback()
            log.warning("gave up on %s %s after retries", request.method, request.path)
            return errors.render(503, BUSY, None)


def _attempt(work, errors: Errors):
    session = db.session
    unit = Unit()
    try:
        unit.answer = work(unit)
        if not unit.commit:
            session.rollback()
            return unit.answer
        session.commit()
        for hook in unit.hooks:
            hook(unit)
        return unit.answer
    except EngineError as exc:
        session.rollback()
        return errors.render(errors.status_of(exc), exc.message, exc)
    except HTTPException as exc:  # 413 from reading an oversized body, and the like
        session.rollback()
        if not errors.http:
            raise
        return errors.render(exc.code or 400, http_message(exc), None)
    except IntegrityError:
        # A concurrent request created the same thing first; ours changed nothing.
        session.rollback()
        log.info("integrity conflict on %s %s", request.method, request.path, exc_info=True)
        return errors.render(409, RACE, None)
    except OperationalError as exc:
        session.rollback()
        if is_retryable(exc):
            raise  # retrying() runs the work again
        log.exception("database error on %s %s", request.method, request.path)
        return errors.render(503, UNAVAILABLE, None)
    except BaseException:
        session.rollback()
        raise


def http_message(exc: HTTPException) -> str:
    if exc.code == 413:
        max_len = current_settings().max_content_length
        return f"request body too large (the limit is {max_len} bytes)"
    return exc.description or exc.name
