"""`flask seed-demo`: idempotent, refused without DEMO_MODE, and it shows the capabilities in use."""

import pytest
import sqlalchemy as sa

from portal import demo
from portal.accounts.models import User
from portal.programmes.models import Quota


@pytest.fixture()
def demo_mode(app):
    app.config["DEMO_MODE"] = True
    yield
    app.config["DEMO_MODE"] = False


def test_refused_without_demo_mode(app, db):
    with pytest.raises(demo.DemoRefused):
        demo.seed()


def test_seed_is_idempotent(demo_mode, db):
    created = demo.seed()
    assert len(created["users"]) == len(demo.ACCOUNTS)
    assert demo.seed()["users"] == []
    users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    assert users == len(demo.ACCOUNTS)
    assert all(u.is_demo for u in db.session.scalars(sa.select(User)))
    quotas = db.session.scalars(sa.select(Quota)).all()
    assert len(quotas) == 43 and sum(q.quota for q in quotas) == 120
    assert "Demo-parole-2026" in demo.describe(created)


def test_demo_has_calls_in_several_stages(demo_mode, db):
    from portal.applications.models import Application
    from portal.calls.models import Call

    demo.seed()
    statuses = sorted(db.session.scalars(sa.select(Call.status)))
    assert statuses == ["closed", "draft", "open"]
    submitted = db.session.scalars(sa.select(Application).where(Application.status == "submitted")).all()
    assert len(submitted) == 3 and all(a.versions[0].pdf_sha256 for a in submitted)
