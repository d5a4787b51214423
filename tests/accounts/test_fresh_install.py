"""QUALITY A8: a freshly migrated database has no accounts at all (no default or well-known users)."""

from __future__ import annotations

import sqlalchemy as sa


def test_fresh_database_has_no_users(tmp_path):
    engine_url = f"sqlite:///{tmp_path / 'fresh.db'}"

    from flask_migrate import upgrade

    from portal import create_app
    from portal.config import TestConfig

    class FreshConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = engine_url

    app = create_app(FreshConfig)
    with app.app_context():
        upgrade()
        from portal.extensions import db

        with db.engine.connect() as connection:
            users = connection.execute(sa.text("SELECT count(*) FROM users")).scalar_one()
            memberships = connection.execute(sa.text("SELECT count(*) FROM memberships")).scalar_one()
        db.engine.dispose()
    assert users == 0
    assert memberships == 0
