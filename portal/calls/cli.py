"""`flask calls close-due` (cron): close every call whose deadline has passed."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.extensions import db

calls_cli = AppGroup("calls", help="Calls for proposals.")


@calls_cli.command("close-due")
def close_due_command() -> None:
    """Close the open calls whose closing instant has passed; print how many were closed.

    Safe to run on several hosts at once: a call another run is closing is skipped. The server also
    closes due calls itself when their pages are visited, so this only makes the instant exact.
    """
    from portal.calls.services import close_due_calls

    closed = close_due_calls()
    db.session.commit()
    if closed:
        click.echo("closed calls: " + ", ".join(str(call.id) for call in closed))
    click.echo(f"closed {len(closed)}")
