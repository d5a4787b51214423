"""QUALITY A4: the login counter lives in the database, so every worker shares it.

Two app instances (as two gunicorn workers would be) on one database file: failures counted by one
block the next attempt on the other. There is no in-process limiter store to misconfigure.
"""

import sqlalchemy as sa
from flask_migrate import upgrade

from portal import create_app
from portal.accounts.models import LoginAttempt, User
from portal.accounts.passwords import hash_password
from portal.config import TestConfig
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests.helpers import browser_client, csrf_token


def test_two_workers_share_the_login_counter(tmp_path):
    class SharedConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/shared.db"

    first, second = create_app(SharedConfig), create_app(SharedConfig)
    with first.app_context():
        upgrade()
        db.session.add(
            User(
                email="kopigs@example.lv",
                full_name="Kopīgs",
                locale="en",
                password_hash=hash_password("pareiza parole 123"),
                email_confirmed_at=utcnow(),
            )
        )
        db.session.commit()

    def attempt(app, password):
        client = browser_client(app)
        token = csrf_token(client, "/account/login")
        return client.post(
            "/account/login", data={"email": "kopigs@example.lv", "password": password, "csrf_token": token}
        )

    limit = first.config["LOGIN_MAX_FAILURES"]
    for i in range(limit):
        assert attempt((first, second)[i % 2], "nepareiza parole").status_code == 200
    assert attempt(second, "pareiza parole 123").status_code == 429
    assert attempt(first, "pareiza parole 123").status_code == 429
    with second.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt)) == limit + 2
        db.engine.dispose()
    with first.app_context():
        db.engine.dispose()
