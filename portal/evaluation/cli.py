"""`flask evaluation expire-clarifications` (cron): reject the applications whose clarification deadline
passed without an answer."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.extensions import db

evaluation_cli = AppGroup("evaluation", help="The evaluation of calls.")


@evaluation_cli.command("expire-clarifications")
def expire_clarifications_command() -> None:
    """Reject every application whose clarification request was not answered by its deadline; print how
    many were rejected. Idempotent: running it again rejects nothing more (safe to run every hour)."""
    from portal.evaluation.services.checks import expire_clarifications

    rejected = expire_clarifications()
    db.session.commit()
    click.echo(f"rejected {rejected}")
