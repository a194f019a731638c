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

import demo as demo_setup
from engine.definitions import campaigns
from engine.access import keys, operators, organizations, tokens, users
from engine.errors import EngineError
from extensions import db
from settings import current_settings, services


org_cli = AppGroup("org", help="Organizations.")
key_cli = AppGroup("key", help="API keys.")
operator_cli = AppGroup("operator", help="Dashboard operators.")
campaign_cli = AppGroup("campaign", help="Campaign definitions.")


def _now():
    return services().clock.now()


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
@click.option("--reset", is_flag=True,
              help="a new API key (the old one is revoked), operator password and webhook secret")
@with_appcontext
def demo(reset):
    """A demo organization with both example campaigns published and a few days
    of activity; prints the URLs, the login and, last, the API key.

    The key and the password are kept in the instance folder (demo.json): run
    again, it prints the same ones; --reset makes new ones.
    """
    from engine.outbox import webhooks

    app = current_app
    settings = current_settings()
    base = settings.public_url
    kept = demo_setup.read_state(app.instance_path)
    try:
        org = organizations.ensure_organization(db.session, demo_setup.DEMO_ORG, _now())
        for doc in demo_setup.example_campaigns(base):
            campaign = push(org.name, doc, publish=True)
            click.echo(f"campaign {campaign.pid} published (version {campaign.version})", err=True)
        identity = _demo_key(kept, org.id)
        if identity is not None and not reset:
            state = kept
        else:
            if identity is not None:  # --reset: the old key stops working
                keys.revoke_key(db.session, org.id, identity.key_id, _now())
            _, raw = keys.create_key(db.session, org.id, _now(), label="demo")
            keep = kept is not None and not reset
            state = demo_setup.DemoState(
                key=raw, password=kept.password if keep else secrets.token_urlsafe(12),
                hook_secret=kept.hook_secret if keep else webhooks.generate_secret(),
                # The activity lives in the database that knew the key.
                seeded=bool(kept and kept.seeded and identity is not None))
        player = users.ensure_user(db.session, org.id, demo_setup.DEMO_PLAYER, users.INTERNAL_PLATFORM, _now(),
                                   name="Demo Player")
        operators.ensure_operator(db.session, org.id, demo_setup.DEMO_OPERATOR, state.password, _now())
        db.session.flush()
    except EngineError as exc:
        _fail(exc)
    db.session.commit()
    demo_setup.write_state(app.instance_path, state)
    if not state.seeded or reset:
        hook_uri = base + "/demo/webhook"
        try:
            webhooks.check_uri(hook_uri, settings.webhook_allow_private)
        except EngineError as exc:
            click.echo(f"no demo webhook: {exc.message} (scripts/serve sets WEBHOOK_ALLOW_PRIVATE=1)",
                       err=True)
            hook_uri = None
        if not state.seeded:
            problems = demo_setup.seed_activity(app, state.key, hook_uri, state.hook_secret)
            state.seeded = True
            demo_setup.write_state(app.instance_path, state)
            click.echo(f"demo activity: {demo_setup.SEED_DAYS + 1} days seeded", err=True)
        else:  # --reset: the demo hook signs with the new secret from now on
            problems = demo_setup.register_hook(app, state.key, hook_uri, state.hook_secret)
        for problem in problems:
            click.echo(f"demo activity: {problem}", err=True)
    click.echo(f"organization: {org.name} (id {org.id})", err=True)
    token = tokens.make_widget_token(settings.signing_secrets, org.id, player.id)
    click.echo(f"landing page: {base}/   API reference: {base}/docs   demo page: {base}/demo", err=True)
    click.echo(f"widget preview (user {demo_setup.DEMO_PLAYER}): "
               f"{base}/widget/{demo_setup.DEMO_CAMPAIGN}?user_token={token}", err=True)
    click.echo(f"{'':35}{base}/widget/default?user_token={token}", err=True)
    click.echo(f"dashboard: {base}/dashboard/login  e-mail {demo_setup.DEMO_OPERATOR}  password {state.password}",
               err=True)
    click.echo(f"embed snippet: {demo_setup.embed_snippet(base, token)}", err=True)
    click.echo(f"(kept in {demo_setup.state_path(app.instance_path)}; flask demo --reset makes new ones)",
               err=True)
    click.echo(state.key)


def _demo_key(kept, org_id: int):
    """The identity of the kept demo key, if this database knows it for the demo org."""
    if kept is None:
        return None
    try:
        identity = keys.authenticate(db.session, kept.key)
    except EngineError:
        return None
    return identity if identity.org_id == org_id else None


webhooks_cli = AppGroup("webhooks", help="Webhook delivery.")


@webhooks_cli.command("work")
@click.option("--once", is_flag=True, help="deliver what is due now, then exit")
@click.option("--interval", default=1.0, show_default=True, help="seconds between polls when idle")
def webhooks_work(once, interval):
    """Deliver webhook messages (run beside the server; several on PostgreSQL)."""
    import time as _time

    from engine.outbox import webhook_delivery

    settings = webhook_delivery.Settings(
        allow_private=current_settings().webhook_allow_private,
        lease=timedelta(seconds=current_settings().webhook_lease_seconds))
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
