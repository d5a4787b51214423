"""Command-line groups. Commands only parse arguments and call services."""

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db

mail_cli = AppGroup("mail", help="The e-mail outbox.")


@mail_cli.command("send-queued")
@click.option("--limit", default=500, show_default=True, help="Most messages to send in this run.")
def send_queued_command(limit: int) -> None:
    """Send due messages from the outbox (cron-friendly; safe to run on several hosts at once)."""
    from portal.core.mail import send_queued

    sent = send_queued(limit=limit)
    click.echo(f"sent {sent}")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo data once (idempotent) and print the demo accounts."""
    from portal import demo

    created = demo.seed()
    db.session.commit()
    click.echo(demo.describe(created))


@click.command("seed-municipalities")
def seed_municipalities_command() -> None:
    """Insert the municipalities that are missing (the migration already does this)."""
    from portal.municipalities.services import ensure_municipalities

    added = ensure_municipalities()
    db.session.commit()
    click.echo(f"added {added}")


def init_app(app: Flask) -> None:
    app.cli.add_command(mail_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_municipalities_command)
