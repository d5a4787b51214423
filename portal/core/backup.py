"""Backups and restores of the portal's database (QUALITY H7; DESIGN §7: stored files live in the
database, so one backup holds everything).

A backup is two files: the dump at PATH and a sidecar PATH.json (the manifest). The dump is a plain
SQLite database written through the SQLite backup API, or a `pg_dump --format=custom` archive; either can
also be restored by hand with the standard tools. The manifest records the engine, the Alembic revision,
the UTC time, the row count of every table, the sum of every exact-number (money) column, and the dump's
size and SHA-256. The counts and sums are taken from the same snapshot as the dump (SQLite: from the copy;
PostgreSQL: pg_dump runs on the snapshot the counting transaction exported), so a backup of a database in
use still verifies exactly.

A restore goes only into an empty database and never deletes anything: replacing a live database is done
by restoring into a new one and pointing DATABASE_URL at it, which keeps the old one for inspection and
cannot be stopped by the append-only audit table (QUALITY F5). The dump's SHA-256 is checked before
anything is written; afterwards the row counts, sums and stored files' hashes are checked against the
manifest and the revision against this code's head.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection, Engine

from portal.core.timeutil import utcnow

FORMAT = "jip-portal-backup/1"
SIDECAR_SUFFIX = ".json"
_CHUNK = 1024 * 1024


class BackupRefused(Exception):
    """The backup or restore was refused before anything was written (bad input, tampered file, ...)."""


class ToolFailed(Exception):
    """pg_dump or pg_restore failed (its message is kept)."""


class RestoreMismatch(Exception):
    """The restored database differs from the backup's manifest."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class RestoreReport:
    tables: int
    rows: int
    stored_files: int
    stored_bytes: int
    seconds: float
    revision: str | None
    head: str
    backup_created_at: str
    upgrade_needed: bool = False
    unknown_revision: bool = False
    notes: list[str] = field(default_factory=list)


# --- helpers ------------------------------------------------------------------------------------------


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def engine_kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise BackupRefused(f"unsupported database engine {backend!r} (SQLite or PostgreSQL only)")
    return backend


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupRefused("the SQLite database must be a file (DATABASE_URL=sqlite:////path/portal.db)")
    return Path(url.database)


def _readonly_sqlite(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path))


def pg_tool(name: str) -> str:
    """Return the path of a PostgreSQL client program: from PATH, else the newest under
    /usr/lib/postgresql/*/bin (a newer pg_dump dumps any older server)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    if candidates:
        return candidates[-1]
    raise BackupRefused(
        f"{name} not found on PATH or under /usr/lib/postgresql/*/bin (install postgresql-client)"
    )


def _pg_args(url: URL) -> tuple[str, dict[str, str]]:
    """The libpq connection URI without the password, and an environment with PGPASSWORD: the password
    never appears on a command line (visible in `ps`)."""
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        tool = Path(args[0]).name
        raise ToolFailed(f"{tool} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def _create_private(path: Path) -> None:
    """Create an empty file readable by its owner only: a backup holds personal data and password hashes."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


# --- what a database holds ----------------------------------------------------------------------------


def _money(value, scale: int | None) -> str:
    if value is None:
        return "0"
    amount = Decimal(str(value))
    if scale:
        amount = amount.quantize(Decimal(1).scaleb(-scale))
    return str(amount)


def table_checks(conn: Connection) -> dict[str, dict]:
    """Rows per table and the sum of every exact-number column: {table: {"rows": n, "sums": {col: "…"}}}."""
    inspector = sa.inspect(conn)
    quote = conn.dialect.identifier_preparer.quote
    checks = {}
    for table in sorted(inspector.get_table_names()):
        numeric = [
            (c["name"], getattr(c["type"], "scale", None))
            for c in inspector.get_columns(table)
            if isinstance(c["type"], sa.Numeric) and not isinstance(c["type"], sa.Float)
        ]
        columns = ["count(*)"] + [f"sum({quote(name)})" for name, _ in numeric]
        row = conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM {quote(table)}").one()  # noqa: S608
        checks[table] = {
            "rows": int(row[0]),
            "sums": {
                name: _money(value, scale) for (name, scale), value in zip(numeric, row[1:], strict=True)
            },
        }
    return checks


def _revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def is_empty(engine: Engine) -> bool:
    """Say whether the database holds no tables, views or sequences at all."""
    if engine.url.get_backend_name() == "sqlite":
        path = _sqlite_file(engine.url)
        if not path.exists() or path.stat().st_size == 0:
            return True
        with _readonly_sqlite(path) as conn:
            return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    with engine.connect() as conn:
        count = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "AND left(n.nspname, 3) <> 'pg_' AND n.nspname <> 'information_schema'"
        ).scalar()
    return count == 0


# --- backup -------------------------------------------------------------------------------------------


def backup(engine: Engine, path: Path) -> dict:
    """Write a consistent backup of the engine's database to `path` and its manifest beside it; return the
    manifest. Refuses to overwrite an existing file."""
    path = Path(path)
    kind = engine_kind(engine.url)
    sidecar = sidecar_path(path)
    for existing in (path, sidecar):
        if existing.exists():
            raise BackupRefused(
                f"{existing} already exists; choose a new name (backups are never overwritten)"
            )
    if not path.parent.is_dir():
        raise BackupRefused(f"directory {path.parent} does not exist")
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    _create_private(partial)
    started = time.monotonic()
    try:
        if kind == "sqlite":
            revision, checks = _backup_sqlite(engine.url, partial)
        else:
            revision, checks = _backup_postgresql(engine, partial)
        manifest = {
            "format": FORMAT,
            "engine": kind,
            "created_at": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
            "alembic_revision": revision,
            "dump": path.name,
            "size": partial.stat().st_size,
            "sha256": file_sha256(partial),
            "tables": checks,
            "seconds": round(time.monotonic() - started, 3),
        }
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _create_private(sidecar)
    sidecar.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def _backup_sqlite(url: URL, target: Path) -> tuple[str | None, dict]:
    source_path = _sqlite_file(url)
    if not source_path.exists():
        raise BackupRefused(f"the database file {source_path} does not exist")
    source = _readonly_sqlite(source_path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # one step: a consistent snapshot even while the portal writes
    finally:
        copy.close()
        source.close()
    # Counted on the copy: exactly what the backup holds.
    copy_engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with copy_engine.connect() as conn:
            return _revision(conn), table_checks(conn)
    finally:
        copy_engine.dispose()


def _backup_postgresql(engine: Engine, target: Path) -> tuple[str | None, dict]:
    conninfo, env = _pg_args(engine.url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            # pg_dump reads the very snapshot the counts are taken from.
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            revision, checks = _revision(conn), table_checks(conn)
            _run(
                [
                    pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-password",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    f"--dbname={conninfo}",
                ],
                env,
            )
    return revision, checks


# --- restore ------------------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict:
    sidecar = sidecar_path(path)
    if not sidecar.exists():
        raise BackupRefused(f"the manifest {sidecar} is missing: it is written next to every backup")
    try:
        manifest = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupRefused(f"the manifest {sidecar} cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"{sidecar} is not a manifest of this portal's backups ({FORMAT})")
    return manifest


def restore(engine: Engine, path: Path, *, migrations_dir: str | Path) -> RestoreReport:
    """Restore the backup at `path` into the engine's database, which must be empty; verify it against the
    manifest (RestoreMismatch if it differs) and report. BackupRefused when nothing was written."""
    path = Path(path)
    kind = engine_kind(engine.url)
    if not path.is_file():
        raise BackupRefused(f"{path} does not exist")
    manifest = read_manifest(path)
    if manifest.get("engine") != kind:
        raise BackupRefused(
            f"the backup is of a {manifest.get('engine')} database; DATABASE_URL names a {kind} database"
        )
    if file_sha256(path) != manifest.get("sha256"):
        raise BackupRefused(
            f"{path} does not match the SHA-256 in its manifest: the file is damaged or altered"
        )
    if not is_empty(engine):
        raise BackupRefused(
            "the database named by DATABASE_URL is not empty: restore into a new, empty database and then "
            "point DATABASE_URL at it (a restore never deletes data)"
        )
    started = time.monotonic()
    engine.dispose()
    if kind == "sqlite":
        _restore_sqlite(path, _sqlite_file(engine.url))
    else:
        _restore_postgresql(engine, path)
    engine.dispose()
    report = _verify(engine, manifest, migrations_dir)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _restore_sqlite(dump: Path, target: Path) -> None:
    source = _readonly_sqlite(dump)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
        problem = destination.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        destination.close()
        source.close()
    if problem != "ok":
        raise RestoreMismatch([f"SQLite quick_check: {problem}"])


def _restore_postgresql(engine: Engine, dump: Path) -> None:
    conninfo, env = _pg_args(engine.url)
    # One transaction: a failed restore leaves the database empty. Objects belong to the restoring role
    # (--no-owner); privileges are restored as dumped, so an audit table the app role cannot change stays so.
    _run(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={conninfo}",
            str(dump),
        ],
        env,
    )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")  # a dump holds no planner statistics


def _stored_files(engine: Engine) -> tuple[int, int, int]:
    """(files, bytes, files whose bytes do not match their SHA-256). Files emptied by the retention job
    (no bytes, size kept) are not counted as damaged."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("stored_files"):
            return 0, 0, 0
        files, size = conn.exec_driver_sql("SELECT count(*), coalesce(sum(size), 0) FROM stored_files").one()
        if engine.url.get_backend_name() == "postgresql":
            damaged = conn.exec_driver_sql(
                "SELECT count(*) FROM stored_files WHERE length(data) > 0 "
                "AND encode(sha256(data), 'hex') <> sha256"
            ).scalar()
            return int(files), int(size), int(damaged)
    raw = sqlite3.connect(_sqlite_file(engine.url))
    try:
        raw.create_function(
            "sha256_hex",
            1,
            lambda data: hashlib.sha256(data).hexdigest() if data else None,
            deterministic=True,
        )
        damaged = raw.execute(
            "SELECT count(*) FROM stored_files WHERE length(data) > 0 AND sha256_hex(data) <> sha256"
        ).fetchone()[0]
    finally:
        raw.close()
    return int(files), int(size), int(damaged)


def _verify(engine: Engine, manifest: dict, migrations_dir: str | Path) -> RestoreReport:
    with engine.connect() as conn:
        checks, revision = table_checks(conn), _revision(conn)
    expected = manifest.get("tables", {})
    problems = []
    for table in sorted(set(expected) | set(checks)):
        if table not in checks:
            problems.append(f"table {table} is missing")
        elif table not in expected:
            problems.append(f"table {table} is not in the backup's manifest")
        elif checks[table] != expected[table]:
            problems.append(f"table {table}: restored {checks[table]}, backed up {expected[table]}")
    if revision != manifest.get("alembic_revision"):
        problems.append(f"revision {revision}, backed up {manifest.get('alembic_revision')}")
    files, size, damaged = _stored_files(engine)
    if damaged:
        problems.append(f"{damaged} stored files do not match their SHA-256")
    if problems:
        raise RestoreMismatch(problems)

    scripts = ScriptDirectory(str(migrations_dir))
    head = scripts.get_current_head()
    known = revision is not None and _known(scripts, revision)
    return RestoreReport(
        tables=len(checks),
        rows=sum(c["rows"] for c in checks.values()),
        stored_files=files,
        stored_bytes=size,
        seconds=0.0,
        revision=revision,
        head=head,
        backup_created_at=manifest.get("created_at", "?"),
        upgrade_needed=known and revision != head,
        unknown_revision=not known,
    )


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
        return False
