"""`flask reports …`: cron-friendly report commands (issue 8)."""

from flask.cli import AppGroup

reports_cli = AppGroup("reports", help="Closing reports: reminders.")
retention_cli = AppGroup("retention", help="Anonymise what the retention period no longer allows keeping.")
