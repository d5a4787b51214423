"""Command-line groups. Commands only parse arguments and call services."""

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db

mail_cli = AppGroup("mail", help="The e-mail outbox.")
accounts_cli = AppGroup("accounts", help="User accounts.")

# Exit status for bad input, as `quotas compute` uses (DESIGN §8).
EXIT_BAD_INPUT = 2


@accounts_cli.command("create-admin")
@click.option("--email", required=True, help="The administrator's e-mail address (the login).")
@click.option("--name", "full_name", required=True, help="The administrator's full name.")
def create_admin_command(email: str, full_name: str) -> None:
    """Create a confirmed national administrator; TOTP is set up at the first login."""
    from portal.admin.services import AdminRuleError, create_national_admin

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_national_admin(email, full_name, password)
    except AdminRuleError as exc:
        db.session.rollback()
        click.echo(f"Error ({exc.field or 'input'}): {exc.message}", err=True)
        raise click.exceptions.Exit(EXIT_BAD_INPUT) from None
    db.session.commit()
    click.echo(
        f"Created national administrator {user.email}. Two-step login (TOTP) is set up at the first login."
    )


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
    from portal.core.backup_cli import backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(mail_cli)
    app.cli.add_command(accounts_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_municipalities_command)
