"""Subject access (QUALITY F8): "Download my data" returns all personal data stored about the user as JSON,
never secrets or other people's data, with a constant number of queries and one audit row per export."""

from __future__ import annotations

import json
from unittest.mock import ANY

import sqlalchemy as sa

from portal.accounts import subject_access
from portal.applications.models import ApplicationVersion
from portal.core.enums import Role
from portal.core.mail import queue_email
from portal.extensions import db
from tests import factories
from tests.accounts.util import audit_actions
from tests.factories import UserFactory
from tests.helpers import log_in


def _person_with_data(app, *, applications: int, call=None, name="Līga Bērziņa", email="liga@example.lv"):
    user = UserFactory(full_name=name, email=email, with_totp=True)
    call = call or factories.open_call()
    for number in range(applications):
        org = factories.OrganisationFactory()
        factories.membership(user, Role.APPLICANT, organisation=org, representative=True)
        application, _ = factories.draft_application(call, org, user=user)
        db.session.add(
            ApplicationVersion(
                application_id=application.id,
                number=number + 1,
                data={"contact": {"name": name, "email": email.upper()}, "title": "Cits"},
            )
        )
    with app.test_request_context("/"):
        queue_email(user.email, "account_password_changed", locale="en", user=user, via_reset=False)
    db.session.flush()
    return user, org, call


def _count_queries(app, func):
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        func()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def test_export_holds_the_persons_data_but_no_secrets_and_is_audited(app, db):
    user, org, _ = _person_with_data(app, applications=1)
    stranger = UserFactory(full_name="Cits Cilvēks")
    with app.test_request_context("/"):
        data = subject_access.export_personal_data(user, actor=user)
    text = json.dumps(data, ensure_ascii=False)
    assert data["account"]["email"] == "liga@example.lv"
    assert data["account"]["stored_secrets"]["totp_secret"].startswith("stored")
    assert user.password_hash not in text and user.totp_secret not in text
    assert stranger.email not in text
    assert data["memberships"][0]["organisation"]["id"] == org.id
    assert data["organisations"][0]["name"] == org.name and org.iban not in text
    [application] = data["applications"]
    mentions = application["versions"][0]["mentions"]
    assert {m["path"] for m in mentions} == {"contact.name", "contact.email"}
    assert data["emails_to_you"][0]["subject"] == "Your password has been changed"
    assert all(e["at"].endswith("+00:00") for e in data["audit_events_by_you"])
    assert audit_actions(user).count("personal_data_exported") == 1


def test_export_runs_a_constant_number_of_queries(app, db):
    small, _, call = _person_with_data(app, applications=1)
    big, _, _ = _person_with_data(app, applications=4, call=call, name="Anna Ozola", email="anna@example.lv")
    db.session.expire_all()
    with app.test_request_context("/"):
        few = _count_queries(app, lambda: subject_access.export_personal_data(small, actor=small))
    db.session.expire_all()
    with app.test_request_context("/"):
        many = _count_queries(app, lambda: subject_access.export_personal_data(big, actor=big))
    assert few == many


def test_download_needs_a_login_and_gives_only_your_own_data(client, app):
    anonymous = client.get("/account/my-data.json")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/account/login")
    user = UserFactory()
    other = UserFactory()
    log_in(client, user)
    response = client.get("/account/my-data.json", query_string={"user": other.id})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_json()
    assert data["account"]["id"] == user.id and other.email not in response.get_data(as_text=True)
    assert data["sessions"][0]["ip"] == "127.0.0.1"
    assert audit_actions(user).count("personal_data_exported") == 1


def test_an_evaluators_seats_declarations_and_scores_are_in_the_export(app, db):
    ev = factories.evaluation_call(applications=2)
    chair = ev["committee"]["chair"]
    first, second = ev["applications"]
    factories.score(chair, first, 2, comment="Skaidrs mērķis")
    factories.declare(chair, second, recused=True, reason="Brālēns vada biedrību")
    other = ev["committee"]["members"][1]
    factories.score(other, first, 3, comment="Cita vērtētāja piezīme")
    with app.test_request_context("/"):
        data = subject_access.export_personal_data(chair.user, actor=chair.user)
    [seat] = data["committees"]
    assert seat["call_id"] == ev["call"].id and seat["role"] == "chair"
    recusals = [d for d in seat["conflict_declarations"] if d["recused"]]
    assert recusals == [
        {"application_id": second.id, "recused": True, "reason": "Brālēns vada biedrību", "declared_at": ANY}
    ]
    [sheet] = seat["score_sheets"]
    assert sheet["application_id"] == first.id and sheet["status"] == "submitted"
    assert {s["comment"] for s in sheet["scores"]} == {"Skaidrs mērķis"} and {
        s["value"] for s in sheet["scores"]
    } == {2}
    assert "Cita vērtētāja piezīme" not in json.dumps(data, ensure_ascii=False)
