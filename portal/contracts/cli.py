"""`flask contracts lapse-unsigned` (cron): contracts not signed by their deadline lapse and their places
go to the reserve list."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.extensions import db

contracts_cli = AppGroup("contracts", help="Contracts of funded projects.")


@contracts_cli.command("lapse-unsigned")
def lapse_unsigned_command() -> None:
    """Let every contract not signed by its deadline lapse and offer its place to the reserve list; print
    how many lapsed. Idempotent: safe to run every hour."""
    from portal.contracts.signing import lapse_unsigned

    lapsed = lapse_unsigned()
    db.session.commit()
    click.echo(f"lapsed {lapsed}")
