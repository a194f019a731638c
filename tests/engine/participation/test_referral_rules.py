"""When referral bonuses are paid, and who counts as active."""
from __future__ import annotations

from datetime import timedelta

from engine.reads import stats
from engine.participation import referrals

from tests.engine.world import T0, World, balances, example, ticks, tick, custom


def test_bonuses_wait_while_the_campaign_is_paused_and_are_paid_on_the_next_input(session):
    w = World(session)
    doc = custom([tick("t")], pid="ref", referrals={"referee_bonus": 25, "referrer_bonus": 50},
                 status="paused")
    w.publish(doc)
    view = w.live("ref")
    alice, bob = w.user("alice"), w.user("bob")
    referrals.set_referrer(session, view, bob, alice, T0)
    session.commit()
    assert balances(session, view, bob).ref_xp == 0 and balances(session, view, alice).ref_xp == 0
    doc["status"] = "active"
    w.publish(doc)
    view = w.live("ref")
    ticks(session, view, bob, T0 + timedelta(hours=1))
    assert balances(session, view, bob).ref_xp == 25 and balances(session, view, alice).ref_xp == 50
    ticks(session, view, bob, T0 + timedelta(hours=2))  # paid once only
    assert balances(session, view, alice).ref_xp == 50


def test_a_referrer_credited_for_a_referee_is_not_counted_active(session):
    w = World(session)
    w.publish(example())
    view = w.live("summer_games")
    alice, bob = w.user("alice"), w.user("bob")
    ticks(session, view, alice, T0)  # alice is active at T0
    later = T0 + timedelta(days=8)
    referrals.set_referrer(session, view, bob, alice, later)
    session.commit()
    assert balances(session, view, alice).ref_xp == 50  # her share arrived...
    # ...but only bob did something in the last 7 days
    assert stats.participation(session, view, later) == (2, 1)
