"""E-mail: the play-link message and how it leaves (SPEC §7).

The message is built from the campaign's ``email`` template (``subject``,
``heading``, ``body``, ``cta_text``, where ``{name}``, ``{balance}`` and
``{link}`` are replaced) and its ``branding`` (logo, colors), with a
plain-text and an HTML part. Placeholders are replaced in one pass, so a
name that itself contains ``{link}`` stays text; in the HTML part the
template and every value are escaped.

Sending: through SMTP when a host is configured, and then a message
counts as sent only once the server accepted it; with no host the message
is written as an ``.eml`` file into an outbox folder, so a fresh install
works (and that is not "sent"). Failures are logged and reported, never
raised: the caller's change (an award) is already committed.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import re
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from engine.definitions.branding import Brand
from engine.errors import InvalidInput
from engine.numbers import NotAnInteger, parse_int

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = {
    "subject": "{name}, your points are waiting",
    "heading": "You have {balance} points",
    "body": "Use your points to play for prizes.",
    "cta_text": "Play now",
}
SMTP_TIMEOUT = 15.0
IMPLICIT_TLS_PORT = 465

_PLACEHOLDER = re.compile(r"\{(name|balance|link)\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# -- building -----------------------------------------------------------------------------

def check_address(value) -> str:
    """A single mailbox (``local@domain``) usable as a recipient; InvalidInput otherwise.

    Refuses anything that could add a header or a second recipient.
    """
    if not isinstance(value, str) or _CONTROL.search(value) or not value.strip():
        raise InvalidInput("email must be a single e-mail address")
    value = value.strip()
    try:
        address = Address(addr_spec=value)
    except (ValueError, IndexError, TypeError, HeaderParseError):
        raise InvalidInput("email must be a single e-mail address") from None
    if not address.username or not address.domain or address.addr_spec != value:
        raise InvalidInput("email must be a single e-mail address")
    return value


def fill(text: str, values: dict[str, str], *, html: bool = False) -> str:
    """Replace {name}, {balance} and {link} in one pass; escape everything for HTML."""
    if html:
        return _PLACEHOLDER.sub(lambda m: escape(values[m.group(1)]), escape(text))
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _sender(configured: str | None, brand_name: str, fallback_domain: str) -> Address:
    """SMTP_FROM as an address (its display name kept, else the brand's); a setting
    that does not parse as one falls back to ``noreply@<fallback_domain>``."""
    display, addr = parseaddr(configured or "")
    if configured and _CONTROL.search(configured):
        display, addr = "", ""
    display = _one_line(display or brand_name)[:200]
    try:
        if addr and "@" in addr:
            return Address(display_name=display, addr_spec=addr)
    except (ValueError, IndexError, TypeError, HeaderParseError):
        pass
    if configured:
        log.warning("SMTP_FROM %r is not an e-mail address; using noreply@%s", configured, fallback_domain)
    return Address(display_name=display, username="noreply", domain=fallback_domain)


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def play_link_message(*, to: str, brand: Brand, name: str, balance: int, link: str,
                      expires_at: datetime, now: datetime, template: dict | None = None,
                      sender: str | None = None, sender_domain: str = "localhost") -> EmailMessage:
    """The play-link e-mail: a plain-text part and an HTML part, branded.

    ``template`` is the campaign's ``email`` section (missing keys take
    :data:`DEFAULT_TEMPLATE`'s), ``brand`` its look (engine.definitions.branding).
    ``sender`` is SMTP_FROM (``addr`` or ``Name <addr>``); without one,
    ``noreply@<sender_domain>`` in the brand's name.
    """
    tpl = {**DEFAULT_TEMPLATE, **{k: v for k, v in (template or {}).items()
                                  if k in DEFAULT_TEMPLATE and isinstance(v, str)}}
    values = {"name": name, "balance": str(balance), "link": link}
    expiry = expires_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    msg = EmailMessage()
    sender_address = _sender(sender, brand.name, sender_domain)
    msg["Subject"] = _one_line(fill(tpl["subject"], values))[:998]
    msg["From"] = sender_address
    msg["To"] = check_address(to)
    msg["Date"] = format_datetime(now.astimezone(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=sender_address.domain or "localhost")
    msg["Auto-Submitted"] = "auto-generated"

    heading, body, cta = (fill(tpl[k], values) for k in ("heading", "body", "cta_text"))
    msg.set_content(
        f"{heading}\n\n{body}\n\n{cta}: {link}\n\n"
        f"This link works once and expires at {expiry}.\n"
    )
    msg.add_alternative(_html(tpl, values, brand, expiry), subtype="html")
    return msg


def _html(tpl: dict, values: dict, brand: Brand, expiry: str) -> str:
    primary, accent = brand.primary, brand.accent
    link = escape(values["link"])
    heading, body, cta, title = (fill(tpl[k], values, html=True)
                                 for k in ("heading", "body", "cta_text", "subject"))
    body = body.replace("\n", "<br>\n")
    logo_html = (f'<img src="{escape(brand.logo_url)}" alt="{escape(brand.name)}" height="48" '
                 f'style="display:block;margin:0 auto;max-height:48px;border:0">'
                 if brand.logo_url else f'<strong style="font-size:18px">{escape(brand.name)}</strong>')
    page = ("margin:0;padding:0;background:#F4F4F5;color:#18181B;"
            "font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif")
    card = f"max-width:560px;background:#FFFFFF;border-radius:8px;border-top:6px solid {accent}"
    button = (f"display:inline-block;padding:12px 28px;border-radius:6px;background:{primary};"
              f"color:{brand.on_primary};font-weight:600;text-decoration:none")
    table = 'role="presentation" width="100%" cellpadding="0" cellspacing="0"'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body style="{page}">
<table {table} style="background:#F4F4F5">
<tr><td align="center" style="padding:24px 12px">
<table {table} style="{card}">
<tr><td align="center" style="padding:24px 24px 8px">{logo_html}</td></tr>
<tr><td style="padding:8px 24px">
<h1 style="margin:0 0 12px;font-size:24px;color:{primary}">{heading}</h1>
<p style="margin:0;font-size:16px;line-height:1.5">{body}</p>
</td></tr>
<tr><td align="center" style="padding:24px"><a href="{link}" style="{button}">{cta}</a></td></tr>
<tr><td style="padding:0 24px 24px;font-size:12px;line-height:1.5;color:#71717A">
If the button does not work, open this address: <a href="{link}" style="color:{primary}">{link}</a><br>
This link works once and expires at {escape(expiry)}.
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"""


def sender_domain(public_url: str) -> str:
    """The domain of ``noreply@``: PUBLIC_URL's host when it is a name, else localhost."""
    host = urlsplit(public_url).hostname or ""
    if "." in host and not host.replace(".", "").isdigit():
        return host
    return "localhost"


# -- delivering ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpSettings:
    """SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD (SPEC §9)."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    timeout: float = SMTP_TIMEOUT


@dataclass(frozen=True)
class MailResult:
    sent: bool  # an SMTP server accepted the message; nothing else counts
    path: Path | None = None  # the .eml written when no SMTP server is configured
    error: str | None = None


@dataclass(frozen=True)
class Mailer:
    """How e-mail leaves this install: SMTP_* and SMTP_FROM (SPEC §9), and the
    outbox folder that takes the messages when no SMTP_HOST is set."""

    outbox: Path
    smtp_host: str = ""
    smtp_port: str = "25"  # checked at send time: a bad value fails that send, logged
    smtp_user: str | None = None
    smtp_password: str | None = None
    sender: str | None = None
    sender_domain: str = "localhost"

    def send(self, message: EmailMessage, now: datetime) -> MailResult:
        """Send ``message`` (see :func:`send_mail`); never raises."""
        host = self.smtp_host.strip()
        smtp = None
        if host:
            try:
                # ASCII digits only: int() would also take "٢٥", "2_5" and " 25 "
                port = parse_int(str(self.smtp_port or "25"), name="SMTP_PORT")
            except NotAnInteger:
                log.warning("SMTP_PORT %r is not a number; e-mail %s not sent", self.smtp_port,
                            message.get("Message-ID"))
                return MailResult(sent=False, error=f"SMTP_PORT {self.smtp_port!r} is not a number")
            smtp = SmtpSettings(host=host, port=port, user=self.smtp_user or None,
                                password=self.smtp_password or None)
        return send_mail(message, smtp, self.outbox, now)


@dataclass
class PendingMail:
    """A message composed inside a transaction, to leave only once it committed.

    Composed before the commit because the ORM objects it reads expire then;
    sending touches no database. ``message`` is None when it could not be
    built (logged): the change it belongs to stands without it.
    """

    message: EmailMessage | None
    mailer: Mailer
    now: datetime
    result: MailResult | None = None

    def send_after_commit(self) -> bool:
        """Send once; True when an SMTP server accepted the message."""
        if self.message is None:
            return False
        if self.result is None:
            self.result = self.mailer.send(self.message, self.now)
            if self.result.path is not None:
                log.info("no SMTP_HOST: e-mail %s written to %s", self.message.get("Message-ID"),
                         self.result.path)
        return self.result.sent


class PlaintextLoginRefused(smtplib.SMTPException):
    """Credentials are configured but the server offers no TLS: we do not send them in clear."""


def send_mail(message: EmailMessage, smtp: SmtpSettings | None, outbox: Path, now: datetime) -> MailResult:
    """Send ``message`` through ``smtp``, or write it into ``outbox`` when there is none.

    Never raises: a failure is logged and comes back as ``sent=False``.
    """
    if smtp is None or not smtp.host:
        try:
            return MailResult(sent=False, path=write_eml(message, outbox, now))
        except OSError as exc:
            log.exception("could not write the e-mail into %s", outbox)
            return MailResult(sent=False, error=str(exc))
    try:
        send_smtp(message, smtp)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        log.warning("SMTP %s:%s did not accept the e-mail %s: %s", smtp.host, smtp.port,
                    message.get("Message-ID"), exc, exc_info=True)
        return MailResult(sent=False, error=str(exc))
    return MailResult(sent=True)


def send_smtp(message: EmailMessage, s: SmtpSettings) -> None:
    """One SMTP session: implicit TLS on port 465; elsewhere STARTTLS whenever the
    server offers it, and login only when a user is configured (never in clear
    to a host that is not this machine). Raises on any refusal."""
    context = ssl.create_default_context()
    if s.port == IMPLICIT_TLS_PORT:
        client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
    else:
        client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
    with client:
        client.ehlo()
        encrypted = s.port == IMPLICIT_TLS_PORT
        if not encrypted and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
            encrypted = True
        if s.user:
            if not encrypted and not _is_loopback(s.host):
                raise PlaintextLoginRefused(
                    f"{s.host} offers no TLS; refusing to send SMTP credentials in clear")
            client.login(s.user, s.password or "")
        refused = client.send_message(message)
        if refused:  # some recipients refused (with one recipient, smtplib raises instead)
            raise smtplib.SMTPRecipientsRefused(refused)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def write_eml(message: EmailMessage, outbox: Path, now: datetime) -> Path:
    """``outbox/<UTC timestamp>-<random id>.eml``, written whole or not at all."""
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = outbox / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
    tmp = path.with_suffix(".eml.tmp")
    tmp.write_bytes(message.as_bytes())
    os.replace(tmp, path)
    return path

