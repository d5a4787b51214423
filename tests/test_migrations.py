"""The migrations are the only source of the schema (QUALITY A8; STYLE "Migrations").

Runs on whichever engine TEST_DATABASE_URL names, in a database of its own: a fresh SQLite file, or on
PostgreSQL a fresh database created next to the test database (the session `app` fixture's database
is never touched here).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from portal import create_app
from portal.accounts.models import User
from portal.config import TestConfig
from portal.extensions import db
from portal.municipalities.models import Municipality

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _normalise(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@pytest.fixture(scope="module")
def fresh_url(tmp_path_factory):
    """The URL of an empty database that only this module uses; dropped afterwards."""
    url = _normalise(os.environ.get("TEST_DATABASE_URL") or "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path_factory.mktemp('migrations')}/migrations.db"
        return
    base = make_url(url)
    name = f"{base.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def migration_app(fresh_url):
    """An app bound to the fresh database, its context pushed for the module's tests."""

    class _Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = fresh_url

    app = create_app(_Config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def _schema_diff() -> list:
    """What `flask db check` would find: differences between the models and the migrated database."""
    opts = {
        k: v
        for k, v in current_app.extensions["migrate"].configure_args.items()
        if k != "process_revision_directives"
    }
    opts.setdefault("compare_type", True)
    with db.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)


def _count(stmt) -> int:
    return db.session.scalar(stmt)


def _assert_seed_data() -> None:
    kinds = dict(
        db.session.execute(sa.select(Municipality.kind, sa.func.count()).group_by(Municipality.kind))
        .tuples()
        .all()
    )
    assert kinds == {"novads": 36, "valstspilseta": 7}
    assert _count(sa.select(sa.func.count()).select_from(User)) == 0  # QUALITY A8: no default accounts
    db.session.rollback()


def test_exactly_one_head():
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert len(heads) == 1, f"migrations have {len(heads)} heads {heads}: merge them"


def test_upgrade_on_empty_database(migration_app):
    assert _tables() == set()
    upgrade()
    assert set(db.metadata.tables) <= _tables()
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == head
    db.session.rollback()


def test_models_match_migrations(migration_app):
    upgrade()
    diff = _schema_diff()
    assert diff == [], "models and migrations differ (write a migration):\n" + "\n".join(map(repr, diff))


def test_fresh_install_has_municipalities_and_no_users(migration_app):
    upgrade()
    _assert_seed_data()


def test_downgrade_to_base_and_upgrade_again(migration_app):
    upgrade()
    downgrade(revision="base")
    assert _tables() <= {"alembic_version"}, f"left behind by downgrade: {_tables() - {'alembic_version'}}"
    upgrade()
    assert _schema_diff() == []
    _assert_seed_data()
