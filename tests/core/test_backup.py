"""The restore drill (QUALITY H7): `flask backup` of a database holding a real scene, `flask restore` into
a new empty database, then the restored portal is checked: revision, every table's rows and money sums,
a stored file's bytes, and a login with password and TOTP.

Runs on whichever engine TEST_DATABASE_URL names, in databases of its own (like tests/test_migrations.py):
SQLite files, or PostgreSQL databases created next to the test database.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from portal import create_app
from portal.config import TestConfig, normalise_database_url
from portal.core import backup, backup_cli
from portal.extensions import db
from tests import factories
from tests.helpers import browser_client, log_in

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


@pytest.fixture(scope="module")
def new_database(tmp_path_factory):
    """A function returning the URL of a new empty database; all are dropped after the module."""
    url = normalise_database_url(os.environ.get("TEST_DATABASE_URL") or "")
    directory = tmp_path_factory.mktemp("backup-dbs")
    created: list[str] = []
    if not url.startswith("postgresql"):
        yield lambda: f"sqlite:///{directory}/{uuid.uuid4().hex[:8]}.db"
        return
    base = make_url(url)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")

    def new() -> str:
        name = f"{base.database}_bak_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        created.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    yield new
    with admin.connect() as conn:
        for name in created:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


_apps = []


def _app_for(url: str):
    class _Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(_Config)
    if "backup" not in app.cli.commands:  # until portal/cli.py registers them
        backup_cli.init_app(app)
    _apps.append(app)
    return app


@pytest.fixture(scope="module", autouse=True)
def _dispose_engines():
    yield
    for app in _apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _cli(app, *args):
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def _checks(app) -> dict:
    with app.app_context(), db.engine.connect() as conn:
        return backup.table_checks(conn)


def _count_tables(app) -> int:
    with app.app_context():
        return len(sa.inspect(db.engine).get_table_names())


@pytest.fixture(scope="module")
def scene(new_database, tmp_path_factory):
    """A migrated database with a decided call (applications, committee, scores, a decision file), a
    signed contract with its advance paid (a payment, the contract PDF), audit and outbox rows; and its
    backup made through the CLI."""
    from portal.contracts.models import Contract

    source = _app_for(new_database())
    with source.app_context():
        upgrade()
        contract, ev = factories.contract_in("advance_paid")
        db.session.commit()
        coordinator = ev["coordinator"]
        facts = SimpleNamespace(
            app=source,
            contract_id=contract.id,
            application_id=contract.application_id,
            pdf_file_id=contract.pdf_file_id,
            pdf=factories.sample_pdf(),
            coordinator=SimpleNamespace(
                email=coordinator.email, has_totp=coordinator.has_totp, totp_secret=coordinator.totp_secret
            ),
            coordinator_name=coordinator.full_name,
        )
        assert db.session.get(Contract, contract.id).pdf_file.data == facts.pdf
        db.session.remove()
    facts.checks = _checks(source)
    for table in ("applications", "payments", "stored_files", "audit_events", "outbox_messages", "scores"):
        assert facts.checks[table]["rows"] > 0, table
    assert facts.checks["payments"]["sums"]["amount"] not in {"0", "0.00"}

    facts.path = tmp_path_factory.mktemp("backups") / "portal.dump"
    facts.backup_result = _cli(source, "backup", str(facts.path))
    return facts


def test_backup_writes_a_private_dump_and_its_manifest(scene):
    result = scene.backup_result
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output
    manifest = json.loads(backup.sidecar_path(scene.path).read_text())
    assert manifest["alembic_revision"] == HEAD
    assert manifest["sha256"] == backup.file_sha256(scene.path)
    assert manifest["size"] == scene.path.stat().st_size
    assert manifest["created_at"].endswith("Z")
    assert manifest["tables"] == scene.checks  # counted on the same snapshot as the dump
    for file in (scene.path, backup.sidecar_path(scene.path)):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600  # personal data and password hashes

    again = _cli(scene.app, "backup", str(scene.path))
    assert again.exit_code == backup_cli.EXIT_REFUSED
    assert "already exists" in again.stderr


def test_restore_drill(scene, new_database):
    from portal.core.storage import StoredFile, read_file
    from portal.payments.models import Payment

    restored = _app_for(new_database())
    result = _cli(restored, "restore", str(scene.path))
    assert result.exit_code == 0, result.output
    rows = sum(t["rows"] for t in scene.checks.values())
    assert f"tables: {len(scene.checks)}\n" in result.output
    assert f"rows: {rows} " in result.output
    assert "seconds: " in result.output

    # alembic current == head; every table's rows and money sums as in the source database.
    with restored.app_context():
        assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == HEAD
        assert db.session.scalar(sa.select(sa.func.sum(Payment.amount))) > 0
        stored = db.session.get(StoredFile, scene.pdf_file_id)
        assert read_file(stored) == scene.pdf  # the bytes, checked against their SHA-256
        db.session.remove()
    assert _checks(restored) == scene.checks

    # Smoke: the restored portal serves pages, and the coordinator logs in with password and TOTP.
    client = browser_client(restored)
    assert client.get("/").status_code == 200
    response = log_in(client, scene.coordinator)
    assert response.status_code == 302, response.get_data(as_text=True)
    dashboard = client.get("/account/")
    assert dashboard.status_code == 200
    assert scene.coordinator_name in dashboard.get_data(as_text=True)
    page = client.get(f"/contracts/applications/{scene.application_id}")
    assert page.status_code == 200
    pdf = client.get(f"/contracts/{scene.contract_id}/files/pdf")
    assert pdf.status_code == 200
    assert pdf.data == scene.pdf


def test_a_tampered_backup_is_refused(scene, new_database, tmp_path):
    tampered = tmp_path / scene.path.name
    shutil.copy(scene.path, tampered)
    shutil.copy(backup.sidecar_path(scene.path), backup.sidecar_path(tampered))
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))

    target = _app_for(new_database())
    result = _cli(target, "restore", str(tampered))
    assert result.exit_code == backup_cli.EXIT_REFUSED
    assert "does not match the SHA-256" in result.stderr
    assert _count_tables(target) == 0


def test_restoring_into_a_database_that_is_not_empty_is_refused(scene):
    result = _cli(scene.app, "restore", str(scene.path))
    assert result.exit_code == backup_cli.EXIT_REFUSED
    assert "is not empty" in result.stderr
    assert _checks(scene.app) == scene.checks
