"""`flask reports …`: cron-friendly report commands (issue 8)."""

from flask.cli import AppGroup

reports_cli = AppGroup("reports", help="Closing reports: reminders.")
retention_cli = AppGroup("retention", help="Anonymise what the retention period no longer allows keeping.")


@reports_cli.command("remind")
def remind() -> None:
    """E-mail the reminders due today (14 and 3 days before the report's due date, overdue); each once."""
    import click

    from portal.extensions import db
    from portal.reports.services.reminders import send_reminders

    count = send_reminders()
    db.session.commit()
    click.echo(f"Reminders sent: {count}")


import click  # noqa: E402 - the retention command's option (appended after the reports commands)


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only say what would be anonymised; change nothing.")
def retention_run(dry_run: bool) -> None:
    """Anonymise the applications closed longer than RETENTION_YEARS (QUALITY F4); cron-friendly."""
    from portal.extensions import db
    from portal.reports.retention import run_retention

    report = run_retention(dry_run=dry_run)
    if not dry_run:  # a dry run changed nothing
        db.session.commit()
    click.echo(report.summary())
