"""Cron jobs of contracts: `flask contracts lapse-unsigned` (contracts not signed by their deadline lapse
and their places go to the reserve list) and `flask contracts start-due` (projects with a signed contract
start on their start date)."""

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


@contracts_cli.command("start-due")
def start_due_command() -> None:
    """Start every project whose contract is signed and whose start date has come; print how many
    started. Idempotent: safe to run every hour."""
    from portal.contracts.lifecycle import start_due

    started = start_due()
    db.session.commit()
    click.echo(f"started {started}")
