"""`flask backup PATH` and `flask restore PATH` (QUALITY H7). The work is in portal/core/backup.py.

Exit status: 0 done and verified; 1 failed (pg_dump/pg_restore error, or the restored database differs
from the manifest); 2 refused before anything was written (bad path, missing or tampered backup, database
not empty); 3 restored and verified, but the schema is not this code's head (the message says what to do).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from portal.core import backup as service
from portal.extensions import db

EXIT_FAILED = 1
EXIT_REFUSED = 2
EXIT_NOT_AT_HEAD = 3


def _fail(message: str, status: int) -> None:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(status)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Back up the database named by DATABASE_URL to PATH (a consistent copy while the portal runs),
    with its manifest in PATH.json."""
    try:
        manifest = service.backup(db.engine, path)
    except service.BackupRefused as exc:
        _fail(str(exc), EXIT_REFUSED)
    except service.ToolFailed as exc:
        _fail(str(exc), EXIT_FAILED)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(
        f"Backup written: {path} ({_size(manifest['size'])}, sha256 {manifest['sha256']}), "
        f"manifest {service.sidecar_path(path)}\n"
        f"{manifest['engine']} at revision {manifest['alembic_revision']}, {manifest['created_at']}: "
        f"{len(manifest['tables'])} tables, {rows} rows, {manifest['seconds']:.2f} s"
    )


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(path: Path) -> None:
    """Restore the backup at PATH into the database named by DATABASE_URL, which must be empty; then
    verify it against the backup's manifest and report. Never deletes data: to replace a database,
    restore into a new one and point DATABASE_URL at it."""
    try:
        report = service.restore(db.engine, path, migrations_dir=current_app.extensions["migrate"].directory)
    except service.BackupRefused as exc:
        _fail(f"{exc}. Nothing was restored.", EXIT_REFUSED)
    except service.ToolFailed as exc:
        _fail(f"{exc}. The restore ran in one transaction: nothing was restored.", EXIT_FAILED)
    except service.RestoreMismatch as exc:
        problems = "\n  ".join(exc.problems)
        _fail(f"the restored database differs from the backup:\n  {problems}", EXIT_FAILED)
    click.echo(
        f"Restored {path} (backup of {report.backup_created_at}) and verified:\n"
        f"  tables: {report.tables}\n"
        f"  rows: {report.rows} (every table's count and money sums equal the manifest's)\n"
        f"  stored files: {report.stored_files} ({_size(report.stored_bytes)}), bytes match their SHA-256\n"
        f"  revision: {report.revision} (this code's head: {report.head})\n"
        f"  seconds: {report.seconds:.2f} (the recovery time for this size)"
    )
    if report.unknown_revision:
        _fail(
            f"this code does not know revision {report.revision}: deploy the code the backup was made with "
            "(or a newer one) before serving this database",
            EXIT_NOT_AT_HEAD,
        )
    if report.upgrade_needed:
        _fail(
            f"the database is at revision {report.revision}, this code expects {report.head}: "
            "run `flask --app wsgi db upgrade` before serving it",
            EXIT_NOT_AT_HEAD,
        )


def init_app(app: Flask) -> None:
    """Register `flask backup` and `flask restore`."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
