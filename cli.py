"""The command line of SPEC §9 (`flask --app app ...`). Scripts depend on it:
keep names, arguments and what is printed last exactly as they are.
"""
from __future__ import annotations

import json
import secrets
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from blueprints._api import signing_secrets
from engine.definitions import campaigns
from engine.access import keys, operators, organizations, tokens, users
from engine.errors import EngineError
from extensions import db

EXAMPLES = Path(__file__).parent / "examples"
DEMO_ORG = "demo"
DEMO_OPERATOR = "demo@questkit.local"

org_cli = AppGroup("org", help="Organizations.")
key_cli = AppGroup("key", help="API keys.")
operator_cli = AppGroup("operator", help="Dashboard operators.")
campaign_cli = AppGroup("campaign", help="Campaign definitions.")


def _now():
    return current_app.extensions["questkit"].clock.now()


def _fail(exc: EngineError):
    db.session.rollback()
    lines = [exc.message] + [f"  {i['path'] or '(root)'}: {i['message']}"
                             for i in getattr(exc, "issues", [])]
    raise click.ClickException("\n".join(lines))


@org_cli.command("create")
@click.argument("org")
def org_create(org):
    """Create organization ORG and print its id."""
    try:
        created = organizations.create_organization(db.session, org, _now())
    except EngineError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(created.id)


@key_cli.command("create")
@click.argument("org")
@click.option("--publishable", is_flag=True, help="a pk_live_ key that only reads games data")
def key_create(org, publishable):
    """Create an API key for ORG (creating ORG if needed); the key is the last line."""
    try:
        organization = organizations.ensure_organization(db.session, org, _now())
        _, raw = keys.create_key(db.session, organization.id, _now(),
                                 kind="publishable" if publishable else "secret")
    except EngineError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"organization: {organization.name} (id {organization.id})", err=True)
    click.echo("store this key now: it is not shown again", err=True)
    click.echo(raw)


@operator_cli.command("create")
@click.argument("org")
@click.argument("email")
@click.option("--password", required=True, help="at least 8 characters")
def operator_create(org, email, password):
    """Create a dashboard operator for ORG (creating ORG if needed)."""
    try:
        organization = organizations.ensure_organization(db.session, org, _now())
        op = operators.create_operator(db.session, organization.id, email, password, _now())
    except EngineError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"operator {op.email} created for {organization.name}")


def push(org_name: str, doc, publish: bool):
    organization = organizations.get_organization(db.session, org_name)
    campaigns.check_definition(doc)  # before doc["id"] is trusted
    campaign = campaigns.put_draft(db.session, organization.id, doc["id"], doc, _now())
    if publish:
        campaign, _ = campaigns.publish(db.session, organization.id, campaign.pid, _now())
    return campaign


@campaign_cli.command("push")
@click.argument("org")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--publish", is_flag=True, help="publish the draft right away")
def campaign_push(org, file, publish):
    """Store FILE as the draft of its campaign in ORG (and publish it)."""
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise click.ClickException(f"{file}: not valid JSON: {exc}") from None
    try:
        campaign = push(org, doc, publish)
    except EngineError as exc:
        _fail(exc)
    db.session.commit()
    state = f"published as version {campaign.version}" if publish else "saved as draft"
    click.echo(f"campaign {campaign.pid}: {state}")


@click.command("demo")
@with_appcontext
def demo():
    """A demo organization with both example campaigns published; prints a key."""
    try:
        org = organizations.ensure_organization(db.session, DEMO_ORG, _now())
        for name in ("default-example.json", "campaign-example.json"):
            doc = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
            campaign = push(org.name, doc, publish=True)
            click.echo(f"campaign {campaign.pid} published (version {campaign.version})", err=True)
        _, raw = keys.create_key(db.session, org.id, _now(), label="demo")
        player = users.ensure_user(db.session, org.id, "demo_player", users.INTERNAL_PLATFORM, _now(),
                                   name="Demo Player")
        password = secrets.token_urlsafe(12)
        operators.ensure_operator(db.session, org.id, DEMO_OPERATOR, password, _now())
        db.session.flush()
    except EngineError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"organization: {org.name} (id {org.id})", err=True)
    token = tokens.make_widget_token(signing_secrets(), org.id, player.id)
    base = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    click.echo(f"widget preview (user demo_player): {base}/widget/summer_games?user_token={token}", err=True)
    click.echo(f"                                   {base}/widget/default?user_token={token}", err=True)
    click.echo(f"dashboard: {base}/dashboard/login  e-mail {DEMO_OPERATOR}  password {password}", err=True)
    click.echo(f'embed snippet: <script src="{base}/embed.js" data-campaign="summer_games" '
               f'data-user-token="{token}" async></script>', err=True)
    click.echo(raw)


webhooks_cli = AppGroup("webhooks", help="Webhook delivery.")


@webhooks_cli.command("work")
@click.option("--once", is_flag=True, help="deliver what is due now, then exit")
@click.option("--interval", default=1.0, show_default=True, help="seconds between polls when idle")
def webhooks_work(once, interval):
    """Deliver webhook messages (run beside the server; several on PostgreSQL)."""
    import time as _time

    from blueprints.campaign_api import allow_private_webhooks
    from engine.outbox import webhook_delivery

    settings = webhook_delivery.Settings(
        allow_private=allow_private_webhooks(),
        lease=timedelta(seconds=float(current_app.config.get("WEBHOOK_LEASE_SECONDS", 60))))
    sent = 0
    while True:
        n = webhook_delivery.deliver_due(db.session, _now(), settings)
        sent += n
        if n == 0:
            if once:
                break
            _time.sleep(interval)
    db.session.remove()
    click.echo(f"{sent} delivery attempts", err=True)


def register_cli(app) -> None:
    for group in (org_cli, key_cli, operator_cli, campaign_cli, webhooks_cli, demo):
        app.cli.add_command(group)
