"""QUALITY C3 — mass assignment: fields a form does not have are never read.

Posting `status`, `score`, `amount`, `municipality_id`, `organisation_id`, `is_admin`, `version` … to the
forms that change money, ownership or state leaves those values as they were; and no code copies request
data onto a model wholesale (the grep gate: forms name their fields, services take named arguments).
Organisation edits and score sheets have their own C3 tests (tests/organisations/test_views.py,
tests/evaluation/test_scoring_views.py).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from portal.applications.models import Application
from portal.calls.models import Call
from portal.extensions import db
from tests import factories
from tests.applications.test_autosave import autosave
from tests.calls.test_views import form_values, post
from tests.helpers import csrf_token

PORTAL = Path(__file__).resolve().parents[2] / "portal"
EXTRA = {
    "status": "funded",
    "score": "99",
    "amount": "1.00",
    "municipality_id": "999",
    "organisation_id": "999",
    "call_id": "999",
    "is_admin": "1",
    "version": "999",
    "lock_version": "999",
    "created_by_id": "1",
}


def _row(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def test_no_code_copies_request_data_onto_a_model():
    # populate_obj, keyword-splatting request data, or setattr(obj, name, <request data>)
    wholesale = re.compile(
        r"populate_obj\(|\*\*request\.(form|args|values|json)|setattr\([^,]+,[^,]+,\s*request\."
    )
    found = [
        f"{path.relative_to(PORTAL)}:{number}"
        for path in PORTAL.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if wholesale.search(line)
    ]
    assert not found, found


def test_the_call_form_ignores_status_amount_and_ownership(client, login_as, db):
    muni = factories.municipality()
    call = factories.open_call(muni)
    coordinator = factories.coordinator(muni)
    before = (call.status, call.amount, call.municipality_id, call.programme_id, call.round_id)
    login_as(coordinator)
    response = post(client, f"/calls/{call.id}/edit", form_values(call, title="Labots nosaukums") | EXTRA)
    assert response.status_code in (200, 302)
    saved = _row(Call, call.id)
    assert (saved.status, saved.amount, saved.municipality_id, saved.programme_id, saved.round_id) == before
    assert saved.amount == Decimal("4600.00")


def test_a_draft_ignores_status_amount_and_ownership_from_the_form_and_the_autosave(client, login_as, db):
    application, user = factories.draft_application()
    before = (application.status, application.organisation_id, application.call_id)
    login_as(user)
    url = f"/applications/{application.id}/edit/project"
    token = csrf_token(client, url)
    client.post(url, data={"csrf_token": token, "title": "Virsraksts", "action": "save"} | EXTRA)
    autosave(client, application, token, {"title": "Cits virsraksts"} | EXTRA)
    saved = _row(Application, application.id)
    assert saved.title == "Cits virsraksts"  # the named field is saved …
    assert (saved.status, saved.organisation_id, saved.call_id) == before  # … nothing else
    assert saved.lock_version > 1  # the version comes from the server, not from the posted field
