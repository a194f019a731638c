"""Core statements run on the session's DB-API connection, in its transaction.

The engine's hot statements (the key, campaign and user lookups, the run's
counters, the event, the balance row, ledger entries) are Core constructs
built once at import. Each is compiled once per dialect (and, for INSERT
and UPDATE, per set of value columns) with ``ClauseElement.compile``, and
what running it needs is kept in a :class:`Form`: the SQL text, the bind
names in order, the bind and result processors of the column types
(``TypeEngine.dialect_impl(dialect).bind_processor`` / ``result_processor``)
and a named tuple of the result columns (``selected_columns`` of a SELECT,
``exported_columns`` of a DML ... RETURNING). A call then runs the text on
a cursor of the session's DB-API connection (``Connection.connection
.dbapi_connection``): SQLAlchemy's per-execution work (the cache key, the
execution context, the result's metadata) is skipped, which is most of
what an event costs.

What SQLAlchemy would have done and this keeps:
- the transaction: ``session.connection()`` begins it (BEGIN IMMEDIATE on
  SQLite writers, engine/db/storage.py), and the session commits or rolls
  back; nothing autoflushes here: flush first when pending ORM objects
  matter;
- type conversion, through the column types' own processors;
- errors: DB-API exceptions come out as ``sqlalchemy.exc.DBAPIError``
  subclasses (``DBAPIError.instance``), which the request pipeline retries
  or turns into statuses;
- ``before_cursor_execute`` / ``after_cursor_execute`` listeners, read from
  ``Connection.dispatch`` (the event collections every Connection carries)
  and called as SQLAlchemy calls them, except that ``context`` is None:
  there is no ExecutionContext;
- Python-side scalar column defaults of an INSERT or UPDATE (``default=0``),
  taken from the compiled statement's ``insert_prefetch`` /
  ``update_prefetch`` columns.

A statement this does not handle runs with ``Connection.execute`` instead
(same results, SQLAlchemy's full cost): callable or SQL column defaults,
expanding IN parameters, bind names the dialect escapes, callable bind
values. Rows are named tuples, not ``Row`` objects.
"""
from __future__ import annotations

import collections
import threading
import weakref
from typing import Any, Callable

from sqlalchemy import bindparam, exc, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value


class Form:
    """A statement as one dialect runs it (``generic``: with
    ``Connection.execute``, the rest unset)."""

    __slots__ = ("sql", "names", "defaults", "binds", "results", "row", "generic")

    def __init__(self, sql: str = "", names: tuple[str, ...] | None = None,
                 defaults: dict[str, Any] | None = None,
                 binds: tuple[tuple[str, Callable], ...] = (),
                 results: tuple[Callable | None, ...] | None = None,
                 row: type | None = None, generic: bool = False):
        self.sql = sql
        self.names = names  # positional (qmark) dialects: every bind in order
        self.defaults = defaults or {}  # binds that carry their own value
        self.binds = binds  # (name, bind processor) of binds that have one
        self.results = results  # per result column; None when none converts
        self.row = row  # named tuple of the result columns
        self.generic = generic


_GENERIC = Form(generic=True)
# statement -> {(dialect, value keys): Form}; a statement dropped by its
# builder takes its forms with it.
_forms: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def form_of(stmt, dialect, params: dict) -> Form:
    """``stmt``'s Form for ``dialect`` and, for INSERT and UPDATE, the keys
    of ``params`` (the columns given values)."""
    keys = tuple(params) if stmt.is_dml else ()
    try:
        return _forms[stmt][dialect, keys]
    except KeyError:
        pass
    with _lock:
        by_key = _forms.setdefault(stmt, {})
        found = by_key.get((dialect, keys))
        if found is None:
            found = by_key[dialect, keys] = _compile(stmt, dialect, keys)
    return found


def _compile(stmt, dialect, keys: tuple[str, ...]) -> Form:
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if stmt.is_dml else None)
    if compiled.post_compile_params or compiled.escaped_bind_names:
        return _GENERIC
    defaults: dict[str, Any] = {}
    # Columns the statement is not given and whose Python-side default
    # SQLAlchemy computes before running it (its prefetch columns).
    prefetch = [(c, c.default) for c in compiled.insert_prefetch]
    prefetch += [(c, c.onupdate) for c in compiled.update_prefetch]
    for column, default in prefetch:
        if default is None or not default.is_scalar:
            return _GENERIC
        defaults[column.key] = default.arg
    types = {}
    for bind, name in compiled.bind_names.items():
        if bind.callable is not None:
            return _GENERIC
        if not bind.required and name not in defaults:
            defaults[name] = bind.value
        types[name] = bind.type
    names = tuple(compiled.positiontup) if compiled.positional else None
    binds = []
    for name in dict.fromkeys(names if names is not None else compiled.bind_names.values()):
        process = types[name].dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds.append((name, process))
    columns = _returned_columns(stmt)
    results = row = None
    if columns is not None:
        processors = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                           for c in columns)
        results = processors if any(processors) else None
        row = collections.namedtuple("Row", list(columns.keys()), rename=True)
    return Form(compiled.string, names, defaults, tuple(binds), results, row)


def _returned_columns(stmt):
    """The columns ``stmt`` returns, or None."""
    if stmt.is_select:
        return stmt.selected_columns
    if stmt.is_dml and stmt.exported_columns:
        return stmt.exported_columns
    return None


def _parameters(form: Form, params: dict):
    values = {**form.defaults, **params} if form.defaults else dict(params)
    for name, process in form.binds:
        values[name] = process(values[name])
    if form.names is not None:
        return tuple([values[name] for name in form.names])
    return values


def _run(conn: Connection, form: Form, parameters, many: bool):
    """A cursor that has run ``form`` with ``parameters`` (a list of them
    when ``many``); the caller closes it."""
    cursor = conn.connection.dbapi_connection.cursor()
    statement = form.sql
    # Connection.dispatch (no leading underscore) holds the listeners
    # registered on the engine and the connection; each listener of
    # before_cursor_execute returns (statement, parameters), as SQLAlchemy
    # wraps those registered without retval=True.
    dispatch = conn.dispatch
    try:
        for fn in dispatch.before_cursor_execute:
            statement, parameters = fn(conn, cursor, statement, parameters, None, many)
        if many:
            cursor.executemany(statement, parameters)
        else:
            cursor.execute(statement, parameters)
        for fn in dispatch.after_cursor_execute:
            fn(conn, cursor, statement, parameters, None, many)
    except conn.dialect.loaded_dbapi.Error as e:
        cursor.close()
        raise exc.DBAPIError.instance(statement, parameters, e, conn.dialect.loaded_dbapi.Error,
                                      dialect=conn.dialect, ismulti=many) from e
    return cursor


def _fetch(form: Form, cursor) -> list:
    try:
        raw = cursor.fetchall()
    finally:
        cursor.close()
    make = form.row
    results = form.results
    if results is None:
        return [make(*r) for r in raw]
    return [make(*[v if p is None else p(v) for p, v in zip(results, r)]) for r in raw]


def rows(session: Session, stmt, params: dict | None = None) -> list:
    """Every result row of ``stmt``; also what an INSERT, UPDATE or DELETE
    ... RETURNING returns."""
    params = params or {}
    conn = session.connection()
    form = form_of(stmt, conn.dialect, params)
    if form.generic:
        return conn.execute(stmt, params).all()
    return _fetch(form, _run(conn, form, _parameters(form, params), False))


def first(session: Session, stmt, params: dict | None = None):
    """The first result row of ``stmt``, or None."""
    found = rows(session, stmt, params)
    return found[0] if found else None


def execute(session: Session, stmt, params: dict) -> int:
    """Run a statement that returns no rows; its rowcount."""
    conn = session.connection()
    form = form_of(stmt, conn.dialect, params)
    if form.generic:
        return conn.execute(stmt, params).rowcount
    cursor = _run(conn, form, _parameters(form, params), False)
    count = cursor.rowcount
    cursor.close()
    return count


def execute_many(session: Session, stmt, param_list: list[dict]) -> None:
    """Run ``stmt`` once per parameter set (every set has the same keys)."""
    if not param_list:
        return
    conn = session.connection()
    form = form_of(stmt, conn.dialect, param_list[0])
    if form.generic:
        conn.execute(stmt, param_list)
        return
    _run(conn, form, [_parameters(form, p) for p in param_list], True).close()


def insert_returning(session: Session, stmt, params: dict):
    """Run an INSERT ... RETURNING; the returned row."""
    found = rows(session, stmt, params)
    if not found:
        raise exc.NoResultFound("No row was found when one was required")
    return found[0]


# An entity read by a Core statement: the ORM's loading (its execution
# layer, the row processors) is skipped, and the row still becomes the
# session's entity, the one row type of its aggregate.

def entity_columns(model) -> list:
    """The columns of ``model`` a Core SELECT gives entity() for it, in
    order: every mapped column but the deferred ones, which load on first
    access as they would after the ORM's own query."""
    return _shape(model)[2]


_shapes: dict = {}


def _shape(model) -> tuple:
    """(mapper, attribute keys, their columns, positions of the primary
    key among them) of ``model``."""
    found = _shapes.get(model)
    if found is None:
        mapper = inspect(model)
        props = [p for p in mapper.column_attrs if not p.deferred]
        keys = [p.key for p in props]
        pk = tuple(keys.index(mapper.get_property_by_column(c).key) for c in mapper.primary_key)
        found = _shapes[model] = (mapper, keys, [p.columns[0] for p in props], pk)
    return found


def load(session: Session, model, stmt, params: dict):
    """The ``model`` entity of the first row of ``stmt`` (a SELECT of
    entity_columns(model)), or None. Pending changes are flushed first, as
    the ORM's query would (unless the session does not autoflush now)."""
    if session.autoflush:
        session.flush()
    return entity(session, model, first(session, stmt, params))


def entity(session: Session, model, row, *, refresh: bool = False):
    """The session's ``model`` entity for ``row`` (a row of
    entity_columns(model)), or None without a row.

    As the ORM's query returns it: an entity already in the session's
    identity map keeps its loaded values (``refresh``: takes all of
    ``row``'s, as with ``populate_existing``) and takes its unloaded ones
    from ``row``; else a new persistent entity holds ``row`` as committed
    state (``set_committed_value``, ``make_transient_to_detached``, then
    ``Session.add``).
    """
    if row is None:
        return None
    mapper, keys, _, pk = _shape(model)
    found = session.identity_map.get(mapper.identity_key_from_primary_key([row[i] for i in pk]))
    if found is None:
        found = model()
        # The new instance's attribute dict (InstanceState.dict) takes the
        # row; make_transient_to_detached then makes it committed state.
        inspect(found).dict.update(zip(keys, row))
        make_transient_to_detached(found)
        session.add(found)
        return found
    unloaded = () if refresh else inspect(found).unloaded
    for key, value in zip(keys, row):
        if refresh or key in unloaded:
            set_committed_value(found, key, value)
    return found


# An UPDATE sets columns under their own names, so the row's key is bound
# under other ones (key_<column>).

def where_key(table, columns) -> list:
    """``table.<column> == :key_<column>`` for each key column."""
    return [table.c[c] == bindparam("key_" + c) for c in columns]


def key_params(key: dict) -> dict:
    """The parameters of where_key() for ``key`` (column -> value)."""
    return {"key_" + c: v for c, v in key.items()}


# A user's rows in one campaign and environment: the key of every per-user table.
OWNER = ("campaign_id", "env", "user_id")
OWNER_PARAMS = {k: bindparam(k) for k in OWNER}
