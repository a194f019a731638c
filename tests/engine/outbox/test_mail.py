"""engine.outbox.mail: the play-link message and its delivery, without Flask.

Delivery goes to a real SMTP server on 127.0.0.1 (aiosmtpd).
"""
from __future__ import annotations

import json
import logging
import smtplib
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from engine.outbox import mail
from engine.definitions.branding import brand_of, text_color_on
from engine.errors import InvalidInput
from tests.smtp_server import free_port, smtp_server

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
LINK = "https://play.example.com/play?token=abc.def-ghi"
DEFAULT = json.loads((Path(__file__).resolve().parents[3] / "examples" / "default-example.json").read_text())


def message(**over):
    args = dict(to="alice@example.com", brand=brand_of(DEFAULT), name="Alice", balance=5500, link=LINK,
                expires_at=NOW + timedelta(hours=48), now=NOW, template=DEFAULT["email"],
                sender="rewards@acme.example")
    args.update(over)
    return mail.play_link_message(**args)


def parts(msg):
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


# -- building -------------------------------------------------------------------------------

def test_message_fills_the_campaign_template_in_both_parts():
    msg = message()
    assert msg["Subject"] == "Alice, your Acme points are waiting"
    assert msg["To"] == "alice@example.com"
    assert msg["From"] == "Acme Rewards <rewards@acme.example>"
    assert msg.is_multipart() and msg.get_content_type() == "multipart/alternative"
    text, html = parts(msg)
    for part in (text, html):
        assert "You have 5500 points" in part
        assert "Thanks for being with us, Alice. Use your points to play for prizes." in part
        assert "Play now" in part
        assert LINK in part
        assert "{name}" not in part and "{balance}" not in part and "{link}" not in part
    assert f"Play now: {LINK}" in text


def test_html_part_carries_the_branding():
    _, html = parts(message())
    assert '<img src="https://example.com/acme.png" alt="Acme Rewards"' in html
    assert "#0F766E" in html  # primary: heading and button
    assert "#F97316" in html  # accent: the card's top border
    assert f'<a href="{LINK}"' in html


def test_user_text_is_escaped_in_html_and_kept_verbatim_in_text():
    name = '<script>alert("x")</script> & Bob'
    msg = message(name=name)
    text, html = parts(msg)
    assert name in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Bob" in html
    assert msg["Subject"] == f"{name}, your Acme points are waiting"


def test_the_template_itself_is_escaped_in_html():
    tpl = {"subject": "Hi", "heading": "<i>{name}</i>", "body": "a < b & c\nnext line", "cta_text": "Go >"}
    _, html = parts(message(template=tpl))
    assert "&lt;i&gt;Alice&lt;/i&gt;" in html
    assert "a &lt; b &amp; c<br>\nnext line" in html
    assert "Go &gt;" in html


def test_placeholders_are_replaced_in_one_pass():
    # A name that spells a placeholder stays text: it never pulls the link in twice.
    msg = message(name="{link} {balance}")
    text, _ = parts(msg)
    assert "Thanks for being with us, {link} {balance}." in text
    assert mail.fill("{name}{name}", {"name": "{name}", "balance": "1", "link": "l"}) == "{name}{name}"


def test_a_name_with_line_breaks_cannot_add_headers():
    msg = message(name="Eve\r\nBcc: victim@example.com")
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Eve Bcc: victim@example.com, your Acme points are waiting"
    headers = msg.as_bytes().split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in headers


@pytest.mark.parametrize("bad", ["a@b\r\nBcc: x@y", "Alice <a@b.c>", "a@b.c, d@e.f", "a b@c.d", "@b.c",
                                 "a@", "", None, 5])
def test_recipient_must_be_one_plain_address(bad):
    with pytest.raises(InvalidInput):
        mail.check_address(bad)


def test_defaults_without_an_email_template_or_branding():
    msg = message(template=None, brand=brand_of({"id": "default", "name": "Shop"}), sender=None,
                  sender_domain="shop.example")
    assert msg["Subject"] == "Alice, your points are waiting"
    assert msg["From"] == "Shop <noreply@shop.example>"
    text, html = parts(msg)
    assert "You have 5500 points" in text and "Play now" in text
    assert "#4F46E5" in html and "<img" not in html


def test_sender_keeps_a_configured_display_name():
    assert message(sender="Acme Team <team@acme.example>")["From"] == "Acme Team <team@acme.example>"


def test_button_text_color_reads_on_the_primary_color():
    assert text_color_on("#0F766E") == "#FFFFFF"
    assert text_color_on("#FFD700") == "#111827"
    assert text_color_on("#fff") == "#111827"


def test_branding_that_would_break_css_or_html_is_ignored():
    brand = brand_of({"name": "X", "branding": {"primary_color": "red;}</style>", "accent_color": "#12",
                                                "logo_url": "javascript:alert(1)"}})
    assert (brand.primary, brand.accent, brand.logo_url) == ("#4F46E5", "#F97316", None)


# -- delivering ----------------------------------------------------------------------------

def test_without_smtp_the_message_is_written_to_the_outbox_and_not_sent(tmp_path):
    delivery = mail.send_mail(message(), None, tmp_path / "outbox", NOW)
    assert delivery.sent is False
    assert delivery.path.parent == tmp_path / "outbox"
    assert delivery.path.name.startswith("20261122T120000Z-") and delivery.path.suffix == ".eml"
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [delivery.path.name]  # no temp file left
    written = message_from_bytes(delivery.path.read_bytes(), policy=policy.default)
    assert written["Subject"] == "Alice, your Acme points are waiting"
    assert LINK in parts(written)[0]


def test_smtp_server_receives_the_message():
    with smtp_server() as server:
        delivery = mail.send_mail(message(), mail.SmtpSettings("127.0.0.1", server.port), Path("/nonexistent"),
                                NOW)
        assert delivery.sent is True and delivery.path is None
        [got] = server.messages
    assert got.rcpt_tos == ["alice@example.com"]
    assert got.mail_from == "rewards@acme.example"
    assert got.message["Subject"] == "Alice, your Acme points are waiting"
    text, html = parts(got.message)
    assert LINK in text and LINK in html


def test_smtp_login_is_used_when_a_user_is_configured():
    with smtp_server(users={"mailer": "s3cret"}) as server:
        settings = mail.SmtpSettings("127.0.0.1", server.port, user="mailer", password="s3cret")
        assert mail.send_mail(message(), settings, Path("/nonexistent"), NOW).sent is True
        assert server.logins == ["mailer"]
        assert len(server.messages) == 1


def test_wrong_smtp_credentials_are_not_sent(caplog):
    with smtp_server(users={"mailer": "s3cret"}) as server:
        settings = mail.SmtpSettings("127.0.0.1", server.port, user="mailer", password="wrong")
        with caplog.at_level(logging.WARNING, logger="engine.outbox.mail"):
            assert mail.send_mail(message(), settings, Path("/nonexistent"), NOW).sent is False
        assert server.messages == []
    assert any("did not accept" in r.getMessage() for r in caplog.records)


def test_a_refusing_smtp_server_means_not_sent_and_is_logged(caplog):
    with smtp_server() as server:
        server.refuse("550 5.7.1 No thanks")
        with caplog.at_level(logging.WARNING, logger="engine.outbox.mail"):
            delivery = mail.send_mail(message(), mail.SmtpSettings("127.0.0.1", server.port),
                                    Path("/nonexistent"), NOW)
    assert delivery.sent is False and "No thanks" in delivery.error
    [record] = [r for r in caplog.records if r.name == "engine.outbox.mail"]
    assert record.levelno == logging.WARNING and record.exc_info is not None


ARABIC_INDIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")


def test_the_mailer_reads_smtp_port_in_ascii_digits_only(tmp_path):
    """int() reads each of these as the server's port; the mailer sends through none of them."""
    with smtp_server() as server:
        port = str(server.port)
        for bad in (port.translate(ARABIC_INDIC), f" {port} ", f"+{port}", f"{port[0]}_{port[1:]}"):
            delivery = mail.Mailer(outbox=tmp_path, smtp_host="127.0.0.1", smtp_port=bad).send(message(), NOW)
            assert delivery.sent is False and "SMTP_PORT" in delivery.error, bad
        assert server.messages == []
        assert mail.Mailer(outbox=tmp_path, smtp_host="127.0.0.1", smtp_port=port).send(message(), NOW).sent
        assert len(server.messages) == 1


def test_a_closed_port_means_not_sent(caplog):
    settings = mail.SmtpSettings("127.0.0.1", free_port(), timeout=5)
    with caplog.at_level(logging.WARNING, logger="engine.outbox.mail"):
        delivery = mail.send_mail(message(), settings, Path("/nonexistent"), NOW)
    assert delivery.sent is False and delivery.error
    assert any(r.name == "engine.outbox.mail" for r in caplog.records)


def test_credentials_never_go_in_clear_to_another_machine(monkeypatch):
    """No STARTTLS offered and a remote host: login is refused before any AUTH."""
    with smtp_server(users={"mailer": "s3cret"}) as server:
        monkeypatch.setattr(mail, "_is_loopback", lambda host: False)
        settings = mail.SmtpSettings("127.0.0.1", server.port, user="mailer", password="s3cret")
        with pytest.raises(mail.PlaintextLoginRefused):
            mail.send_smtp(message(), settings)
        assert server.logins == [] and server.messages == []
    assert issubclass(mail.PlaintextLoginRefused, smtplib.SMTPException)


@pytest.mark.parametrize("configured", ["not an address", "a@b\r\nBcc: x@y", "<>", "@"])
def test_a_bad_smtp_from_falls_back_to_noreply(configured):
    msg = message(sender=configured, sender_domain="acme.example")
    assert msg["From"].addresses[0].addr_spec == "noreply@acme.example"
    assert "\n" not in str(msg["From"])
