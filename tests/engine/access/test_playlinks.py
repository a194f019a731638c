"""engine.access.playlinks: signed, expiring, single-use links, without Flask."""
from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from engine.access import playlinks, tokens
from engine.errors import InvalidInput
from engine.access.playlinks import (PlayLinkExpired, PlayLinkInvalid, PlayLinkTampered, PlayLinkUnknown,
    PlayLinkUsed)
from models import PlayLink
from tests.engine.world import T0, World

SECRETS = ["old-key", "current-key"]


@pytest.fixture
def world(session):
    return World(session)


def issue(world, hours=48, now=T0, secrets=SECRETS):
    user = world.user("alice", "internal")
    issued = playlinks.issue_link(world.s, secrets, org_id=world.org.id, user_id=user.id,
                                  campaign_id=world.live("default").campaign.id, now=now, hours=hours)
    world.s.commit()
    return issued


def test_token_carries_only_ids_and_the_nonce(world):
    issued = issue(world)
    payload = URLSafeTimedSerializer(SECRETS, salt=playlinks.PLAY_LINK_SALT).loads(issued.token)
    link = issued.link
    assert payload == {"o": world.org.id, "u": link.user_id, "c": link.campaign_id, "n": link.nonce}
    assert len(link.nonce) >= 32
    assert issued.expires_at == T0 + timedelta(hours=48)


def test_open_does_not_spend_and_spend_works_once(world):
    issued = issue(world)
    for _ in range(3):
        assert playlinks.open_link(world.s, SECRETS, issued.token, T0).used_at is None
    link = playlinks.spend_link(world.s, SECRETS, issued.token, T0 + timedelta(minutes=5))
    world.s.commit()
    assert link.used_at == T0 + timedelta(minutes=5)
    for check in (playlinks.open_link, playlinks.spend_link):
        with pytest.raises(PlayLinkUsed):
            check(world.s, SECRETS, issued.token, T0 + timedelta(minutes=6))


def test_expiry_follows_the_engine_clock(world):
    issued = issue(world, hours=1)
    just_before = T0 + timedelta(hours=1) - timedelta(seconds=1)
    assert playlinks.open_link(world.s, SECRETS, issued.token, just_before)
    for check in (playlinks.open_link, playlinks.spend_link):
        with pytest.raises(PlayLinkExpired):
            check(world.s, SECRETS, issued.token, T0 + timedelta(hours=1))
    assert world.s.scalars(select(PlayLink.used_at)).one() is None


def test_tampered_tokens_are_refused(world):
    token = issue(world).token
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (flipped, token + "x", "garbage", "", None, 42, "x" * 5000,
                URLSafeTimedSerializer(["someone-else"], salt=playlinks.PLAY_LINK_SALT).dumps({"n": "x"})):
        with pytest.raises(PlayLinkTampered):
            playlinks.open_link(world.s, SECRETS, bad, T0)


def test_other_salts_do_not_pass_for_a_play_link(world):
    user = world.user("alice", "internal")
    session_token = tokens.make_play_session(SECRETS, world.org.id, user.id, 1, T0.timestamp())
    with pytest.raises(PlayLinkTampered):
        playlinks.open_link(world.s, SECRETS, session_token, T0)


def test_well_signed_but_unknown_links_are_refused(world):
    issued = issue(world)
    forge = tokens.timed_serializer(SECRETS, playlinks.PLAY_LINK_SALT, T0.timestamp())
    ids = {"o": world.org.id, "u": issued.link.user_id, "c": issued.link.campaign_id}
    for payload in ({**ids, "n": "no-such-nonce"}, {**ids, "o": world.org.id + 1, "n": issued.link.nonce},
                    {**ids, "u": issued.link.user_id + 1, "n": issued.link.nonce}):
        with pytest.raises(PlayLinkUnknown):
            playlinks.open_link(world.s, SECRETS, forge.dumps(payload), T0)
    assert issubclass(PlayLinkUnknown, PlayLinkInvalid) and issubclass(PlayLinkTampered, PlayLinkInvalid)


def test_links_signed_before_a_key_rotation_still_work(world):
    issued = issue(world, secrets=["old-key"])
    assert playlinks.open_link(world.s, ["old-key", "new-key"], issued.token, T0)
    with pytest.raises(PlayLinkTampered):
        playlinks.open_link(world.s, ["new-key"], issued.token, T0)


@pytest.mark.parametrize("hours", [0, 721, -1, True, 1.5, "48", None])
def test_hours_must_be_1_to_720(world, hours):
    with pytest.raises(InvalidInput):
        issue(world, hours=hours)


def test_a_link_spent_by_another_transaction_cannot_be_spent_again(world, db_url):
    """The conditional UPDATE decides: a second session that read the link as
    unused before the first committed still cannot spend it."""
    issued = issue(world)
    engine = create_engine(db_url)
    try:
        with Session(engine) as other:
            assert playlinks.open_link(other, SECRETS, issued.token, T0).used_at is None  # read: unused
            playlinks.spend_link(world.s, SECRETS, issued.token, T0)
            world.s.commit()
            # ``other`` still holds its unused copy of the row in its identity map.
            with pytest.raises(PlayLinkUsed):
                playlinks.spend_link(other, SECRETS, issued.token, T0)
    finally:
        engine.dispose()
