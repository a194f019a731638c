"""awards.offer_play_link: the link is issued in the caller's transaction, its
e-mail composed there and sent only by send_after_commit; invite refusals
carry codes adapters branch on."""
from __future__ import annotations

import json
from email import message_from_bytes, policy
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from engine.access import playlinks
from engine.errors import Conflict, InvalidInput
from engine.outbox.mail import Mailer
from engine.participation import awards, invites
from engine.access import users
from models import PlayLink
from tests.engine.world import REPO, T0, World

SECRETS = ["current-key"]
DEFAULT_EXAMPLE = json.loads((REPO / "examples" / "default-example.json").read_text())


@pytest.fixture
def world(session):
    w = World(session)
    w.publish({**DEFAULT_EXAMPLE, "email": {"subject": "{name}: {balance} points"},
               "branding": {"primary_color": "#112233"}})
    return w


def alice(world, email="alice@example.com"):
    return users.ensure_user(world.s, world.org.id, "alice", "internal", T0, name="Alice", email=email)


def test_the_offer_composes_the_mail_and_sends_it_only_when_asked(world, tmp_path):
    mailer = Mailer(outbox=tmp_path / "outbox", sender="Acme <rewards@acme.test>", sender_domain="acme.test")
    offer = awards.offer_play_link(world.s, SECRETS, world.live("default"), alice(world), now=T0, hours=2,
                                   public_url="https://play.acme.test/", mailer=mailer)
    world.s.commit()
    assert offer.url.startswith("https://play.acme.test/play?token=")
    assert offer.expires_at == T0.replace(hour=14)
    assert not (tmp_path / "outbox").exists()  # nothing leaves before send_after_commit
    assert offer.send_after_commit() is False  # no SMTP host: written to the outbox, not sent
    assert offer.send_after_commit() is False  # once only
    [eml] = (tmp_path / "outbox").glob("*.eml")
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["Subject"] == "Alice: 0 points"
    assert msg["To"] == "alice@example.com"
    assert offer.url in msg.get_body(("plain",)).get_content()
    token = offer.url.split("token=")[1]
    assert playlinks.open_link(world.s, SECRETS, unquote(token), T0).user_id == alice(world).id


def test_a_bad_smtp_port_sends_nothing_and_raises_nothing(world, tmp_path):
    mailer = Mailer(outbox=tmp_path, smtp_host="127.0.0.1", smtp_port="twenty-five")
    offer = awards.offer_play_link(world.s, SECRETS, world.live("default"), alice(world), now=T0, hours=48,
                                   public_url="http://localhost", mailer=mailer)
    assert offer.send_after_commit() is False
    assert "twenty-five" in offer.mail.result.error


def test_no_link_without_a_usable_address(world, tmp_path):
    with pytest.raises(InvalidInput):
        awards.offer_play_link(world.s, SECRETS, world.live("default"), alice(world, email=None), now=T0,
                               hours=48, public_url="http://localhost", mailer=Mailer(outbox=tmp_path))
    assert world.s.scalar(select(func.count()).select_from(PlayLink)) == 0


def test_invite_refusals_carry_their_codes(session):
    w = World(session)
    doc = json.loads((REPO / "examples" / "campaign-example.json").read_text())
    w.publish({**doc, "invite_only": True})
    view = w.live(doc["id"])
    code, other = invites.generate(w.s, view.campaign, count=2, now=T0)
    invites.claim(w.s, view, w.user("alice"), code, T0)
    with pytest.raises(Conflict) as refused:
        invites.claim(w.s, view, w.user("bob"), code, T0)
    assert refused.value.code == "used_up"
    with pytest.raises(Conflict) as refused:
        invites.claim(w.s, view, w.user("alice"), other, T0)
    assert refused.value.code == "already_claimed"
