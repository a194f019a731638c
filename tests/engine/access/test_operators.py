"""Operators without Flask: the login throttle's clients and the sessions that end."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.access import operators
from engine.errors import Unauthorized
from tests.engine.world import T0, World

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("address,client", [
    ("203.0.113.5", "203.0.113.5"), ("::ffff:203.0.113.5", "203.0.113.5"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"), ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    (None, "unknown"), ("", "unknown"), ("not an address", "unknown"),
])
def test_a_client_is_its_address_and_an_ipv6_one_its_64(address, client):
    assert operators.client_key(address) == client


@pytest.fixture
def op(session):
    world = World(session)
    op = operators.create_operator(session, world.org.id, "op@acme.test", PASSWORD, T0)
    session.commit()
    return op


def valid(session, op, generation=None, logged_in=T0, seen=T0, now=T0):
    return operators.session_operator(
        session, op.id, op.session_generation if generation is None else generation,
        logged_in.timestamp(), seen.timestamp(), now) is not None


def test_a_session_holds_within_its_idle_and_absolute_lifetimes(session, op):
    assert valid(session, op)
    assert valid(session, op, now=T0 + timedelta(hours=8))
    assert not valid(session, op, now=T0 + timedelta(hours=8, seconds=1))
    late = T0 + timedelta(days=7)
    assert valid(session, op, seen=late - timedelta(hours=1), now=late)
    assert not valid(session, op, seen=late, now=late + timedelta(seconds=1))
    assert not valid(session, op, seen=T0 - timedelta(seconds=1))  # seen before its login: forged


def test_ending_sessions_and_a_new_password_bump_the_generation(session, op):
    g = op.session_generation
    operators.end_sessions_of(session, op.id)
    assert not valid(session, op, generation=g) and valid(session, op)
    g = op.session_generation
    with pytest.raises(Unauthorized):
        operators.change_password(session, op.id, "wrong", "another passphrase")
    assert valid(session, op, generation=g)
    operators.change_password(session, op.id, PASSWORD, "another passphrase")
    assert not valid(session, op, generation=g) and valid(session, op)
    assert operators.check_login(session, "op@acme.test", "another passphrase") is not None
