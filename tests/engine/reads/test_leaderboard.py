"""Ranks from the bucket index agree with a brute-force sort."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from engine.definitions import campaigns
from engine.reads import leaderboard
from engine import ledger
from engine.access import organizations, users

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)


def test_rank_standings_and_around_match_a_sorted_list(session):
    org = organizations.create_organization(session, "acme", NOW)
    campaigns.put_draft(session, org.id, "lb", {"id": "lb", "name": "LB"}, NOW)
    campaign, _ = campaigns.publish(session, org.id, "lb", NOW)
    rnd = random.Random(3)
    people = [users.ensure_user(session, org.id, f"u{i}", "internal", NOW) for i in range(120)]
    t = NOW
    for step in range(400):
        user = rnd.choice(people)
        t += timedelta(seconds=rnd.choice([0, 1, 7]))  # 0: several users reach a total at once
        amount = rnd.choice([5, 10, 10, 50, 64, 128, 1000, 70000]) * rnd.choice([1, 1, 1, -1])
        try:
            ledger.post_entry(session, campaign_id=campaign.id, user_id=user.id, env="live",
                              kind="reward" if amount > 0 else "withdraw", amount=amount, now=t,
                              strict=True)
        except Exception:
            session.rollback()
            continue
        session.commit()
    view = campaigns.view(campaign, "live")
    balances = [ledger.get_balances(session, campaign.id, u.id, "live") for u in people]
    from models import Balance
    rows = [session.get(Balance, (campaign.id, u.id, "live")) for u in people]
    ranked = sorted((r for r in rows if r is not None and r.total > 0),
                    key=lambda r: (-r.total, r.total_reached_at, r.user_id))
    expected = [r.user_id for r in ranked]
    assert len(expected) > 50 and any(b.total <= 0 for b in balances)
    assert [s.user_id for s in leaderboard.standings(session, view, limit=1000)] == expected
    for position, uid in enumerate(expected, start=1):
        assert leaderboard.rank_of(session, view, uid) == position
    for uid in (expected[0], expected[len(expected) // 2], expected[-1]):
        i = expected.index(uid)
        got = leaderboard.around(session, view, uid, 3)
        assert [s.user_id for s in got] == expected[max(0, i - 3): i + 4]
        assert [s.rank for s in got] == list(range(max(0, i - 3) + 1, min(len(expected), i + 4) + 1))
    unranked = [r.user_id for r in rows if r is not None and r.total <= 0]
    assert all(leaderboard.rank_of(session, view, uid) is None for uid in unranked)


def test_emails_are_masked_on_leaderboards():
    from models import User
    assert leaderboard.public_name(User(account="x", name="jane.doe@example.com")) == "j***@example.com"
    assert leaderboard.public_name(User(account="bob@mail.test", name=None)) == "b***@mail.test"
    assert leaderboard.public_name(User(account="x", name="Jane")) == "Jane"
