"""Statements run by engine/db/statements.py behave as the ORM's own
execution would: same values both ways, inside the session's transaction,
errors as SQLAlchemy exceptions, cursor listeners called. Both databases."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.definitions import campaigns
from engine.access import organizations, users
from engine.db import statements
from engine.outbox import webhooks
from models import Balance, Campaign, Event, User

T = datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=timezone.utc)
_events = Event.__table__
INSERT_EVENT = insert(_events).returning(_events.c.id)
EVENT_BY_ID = select(_events).where(_events.c.id == bindparam("id"))


@pytest.fixture
def owner(session):
    org = organizations.create_organization(session, "acme", T)
    user = users.ensure_user(session, org.id, "ann", "web", T)
    session.commit()
    return org, user


def event_values(session, org, user, **over):
    """An event of ``user`` in the organization's default campaign."""
    campaign = campaigns.get_campaign(session, org.id, campaigns.DEFAULT_PID)
    return {"campaign_id": campaign.id, "user_id": user.id, "env": "live", "name": "Spin",
            "category": None, "data": {"bet": 5, "tags": ["a"]}, "client_id": "e1",
            "ts": 1_700_000_000_000, "received_at": T, **over}


def test_values_go_in_and_come_out_as_the_orm_reads_them(session, owner):
    org, user = owner
    values = event_values(session, org, user)
    row = statements.insert_returning(session, INSERT_EVENT, values)
    got = statements.first(session, EVENT_BY_ID, {"id": row.id})
    session.commit()
    orm = session.get(Event, row.id)
    for name, value in values.items():
        assert getattr(got, name) == value == getattr(orm, name), name
    assert got.received_at.tzinfo is not None  # UTCDateTime's own processor ran
    assert statements.first(session, EVENT_BY_ID, {"id": row.id + 1000}) is None


def test_a_statements_write_is_part_of_the_sessions_transaction(session, owner):
    org, user = owner
    row = statements.insert_returning(session, INSERT_EVENT, event_values(session, org, user))
    session.rollback()
    assert session.get(Event, row.id) is None
    row = statements.insert_returning(session, INSERT_EVENT, event_values(session, org, user, client_id="e2"))
    session.commit()
    assert session.get(Event, row.id).client_id == "e2"


def test_statements_follow_the_sessions_transactions_and_savepoints(session, owner):
    """A commit ends the transaction the statements ran in, the next one
    begins another, and a savepoint's rollback undoes what ran inside it."""
    org, user = owner
    values = event_values(session, org, user)
    first = statements.insert_returning(session, INSERT_EVENT, values)
    session.commit()
    assert not session.in_transaction()
    assert statements.first(session, EVENT_BY_ID, {"id": first.id}) is not None
    assert session.in_transaction()
    savepoint = session.begin_nested()
    second = statements.insert_returning(session, INSERT_EVENT, {**values, "client_id": "e2"})
    savepoint.rollback()
    assert statements.first(session, EVENT_BY_ID, {"id": second.id}) is None
    session.rollback()
    assert statements.first(session, EVENT_BY_ID, {"id": first.id}).client_id == "e1"


def test_a_database_error_is_sqlalchemys_and_the_session_recovers(session, owner):
    org, user = owner
    statements.insert_returning(session, INSERT_EVENT, event_values(session, org, user))
    session.commit()
    with pytest.raises(IntegrityError):  # the same client id twice for the user
        statements.insert_returning(session, INSERT_EVENT, event_values(session, org, user))
    session.rollback()
    row = statements.insert_returning(session, INSERT_EVENT, event_values(session, org, user, client_id="e3"))
    session.commit()
    assert session.get(Event, row.id) is not None


def test_execute_many_and_rowcount(session, owner):
    org, user = owner
    other = users.ensure_user(session, org.id, "bob", "web", T)
    rename = update(User.__table__).where(User.id == bindparam("key_id"))
    statements.execute_many(session, rename, [{"name": "Ann", "key_id": user.id},
                                            {"name": "Bob", "key_id": other.id}])
    assert statements.execute(session, rename, {"name": "Nobody", "key_id": -1}) == 0
    session.commit()
    session.expire_all()
    assert (session.get(User, user.id).name, session.get(User, other.id).name) == ("Ann", "Bob")


def test_an_insert_gets_the_python_side_defaults_it_was_not_given(session, owner):
    org, user = owner
    # Balance.xp has default=0, a Python-side default of the column.
    campaign = campaigns.get_campaign(session, org.id, campaigns.DEFAULT_PID)
    key = {"campaign_id": campaign.id, "user_id": user.id, "env": "live"}
    statements.execute(session, insert(Balance.__table__), key)
    session.commit()
    assert session.get(Balance, (campaign.id, user.id, "live")).xp == 0


def test_cursor_listeners_see_the_statements(session, owner):
    org, user = owner
    engine = session.get_bind()
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", record)
    try:
        statements.first(session, EVENT_BY_ID, {"id": 1})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    queries = [s for s in seen if s != "BEGIN"]  # the session's transaction began here (SQLite)
    assert len(queries) == 1 and queries[0].startswith("SELECT") and "FROM events" in queries[0]


def test_a_hook_unregistered_earlier_in_the_transaction_gets_no_message(session, owner):
    """webhooks.emit reads the hooks with engine.db.statements, which do not
    autoflush: it flushes first, so a change made earlier in the same
    transaction counts."""
    org, user = owner
    campaign = campaigns.get_campaign(session, org.id, campaigns.DEFAULT_PID)
    emit = dict(campaign_id=campaign.id, env="live", user_id=user.id, type="points.rewarded",
                data={"amount": 1}, now=T)
    webhooks.register(session, org.id, scope="user_activity", hook_id="h1",
                      uri="http://127.0.0.1:9/hook", secret="s", pids=[], now=T, allow_private=True)
    session.commit()
    assert webhooks.emit(session, **emit) == 1
    session.rollback()
    webhooks.unregister(session, org.id, scope="user_activity", hook_id="h1", now=T)
    assert webhooks.emit(session, **emit) == 0


def test_an_insert_gets_its_callable_defaults_too(session, owner):
    """User.attributes has default=dict, a callable: such a statement runs
    through SQLAlchemy's own execution, which calls it."""
    org, _ = owner
    table = User.__table__
    statements.execute(session, insert(table), {"org_id": org.id, "account": "cal", "platform": "web",
                                                 "created_at": T, "token_generation": 0})
    session.commit()
    assert users.find_user(session, org.id, "cal", "web").attributes == {}


def test_literal_and_expanding_parameters(session, owner):
    org, user = owner
    other = users.ensure_user(session, org.id, "bob", "web", T)
    session.commit()
    table = User.__table__
    ids = [user.id, other.id]
    by_ids = (select(table.c.account).where(table.c.id.in_(bindparam("ids", expanding=True)))
              .order_by(table.c.account))
    assert [r.account for r in statements.rows(session, by_ids, {"ids": ids})] == ["ann", "bob"]
    one = select(table.c.account).where(table.c.org_id == org.id).order_by(table.c.account).limit(1)
    assert [tuple(r) for r in statements.rows(session, one)] == [("ann",)]


CAMPAIGN_BY_PID = select(*statements.entity_columns(Campaign)).where(
    Campaign.org_id == bindparam("org_id"), Campaign.pid == bindparam("pid"))


def test_a_loaded_row_is_the_sessions_entity(session, owner):
    """statements.load gives the entity the ORM would: persistent in the
    session, the one the identity map holds, its deferred columns loaded on
    access, its changes flushed like any other."""
    org, _ = owner
    params = {"org_id": org.id, "pid": campaigns.DEFAULT_PID}
    session.commit()
    session.expunge_all()
    campaign = statements.load(session, Campaign, CAMPAIGN_BY_PID, params)
    assert campaign in session and not session.is_modified(campaign)
    assert session.get(Campaign, campaign.id) is campaign
    assert statements.load(session, Campaign, CAMPAIGN_BY_PID, params) is campaign
    assert campaign.live["id"] == campaigns.DEFAULT_PID  # a deferred column, loaded now
    assert campaign.created_at.tzinfo is not None
    campaign.slug = "renamed"
    campaign_id = campaign.id
    session.commit()
    session.expunge_all()
    assert session.get(Campaign, campaign_id).slug == "renamed"
    assert statements.load(session, Campaign, CAMPAIGN_BY_PID, {**params, "pid": "nope"}) is None


def test_load_flushes_pending_changes_first_as_a_query_would(session, owner):
    org, _ = owner
    campaign = campaigns.get_campaign(session, org.id, campaigns.DEFAULT_PID)
    session.add(Campaign(org_id=org.id, pid="fresh", slug="fresh", draft={}, draft_rev="0",
                         version=0, created_at=T, draft_updated_at=T))
    fresh = statements.load(session, Campaign, CAMPAIGN_BY_PID, {"org_id": org.id, "pid": "fresh"})
    assert fresh is not None and fresh.id != campaign.id


def test_an_entity_in_the_session_keeps_its_values_unless_refreshed(session, owner):
    org, _ = owner
    params = {"org_id": org.id, "pid": campaigns.DEFAULT_PID}
    campaign = statements.load(session, Campaign, CAMPAIGN_BY_PID, params)
    row = statements.first(session, CAMPAIGN_BY_PID, params)
    statements.execute(session, update(Campaign.__table__).where(Campaign.id == bindparam("key_id")),
                       {"slug": "elsewhere", "key_id": campaign.id})
    assert statements.load(session, Campaign, CAMPAIGN_BY_PID, params).slug == row.slug
    changed = statements.first(session, CAMPAIGN_BY_PID, params)
    assert statements.entity(session, Campaign, changed, refresh=True) is campaign
    assert campaign.slug == "elsewhere" and not session.is_modified(campaign)
