"""QUALITY C4, evaluator rules: a member who recused from an application gets 404 on it and never sees its
scores; a member who has not submitted sees none of the others' scores on any evaluation page; scores
are locked after the decision.

"Any evaluation page" is every GET route of the `evaluation` blueprint in app.url_map, so pages added
later are probed too: each is opened with the application, call, member and sheet ids of the case.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import url_for

from portal.core import storage
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.evaluation import queries
from portal.evaluation.models import ConflictDeclaration, ScoreSheet
from portal.evaluation.services import scoring
from portal.extensions import db
from tests import factories
from tests.helpers import Page, csrf_token

COMMENT_ON_FIRST = "Pirmā pieteikuma vērtējums: ļoti vājš budžets (slepens)"
COMMENT_ON_SECOND = "Otrā pieteikuma vērtējums: spēcīgs plāns (slepens)"
OTHER_NAME = "Ādams Citsvērtētājs"


def _declare(member, application, *, recused=False):
    return factories.declare(member, application, recused=recused, reason="Mans brālis vada šo organizāciju")


@pytest.fixture()
def case(db):
    """Two applications; `other` submitted scores (with secret comments) on both; `me` recused from the
    first. A PDF is stored for the first, so a 404 there is the recusal, not a missing file."""
    ev = factories.evaluation_call(applications=2)
    first, second = ev["applications"]
    me, other, third = ev["committee"]["members"]
    other.user.full_name = OTHER_NAME
    other_sheets = [
        factories.score(other, first, 0, comment=COMMENT_ON_FIRST),
        factories.score(other, second, 3, comment=COMMENT_ON_SECOND),
    ]
    factories.score(third, first, 1, comment=COMMENT_ON_FIRST)
    _declare(me, first, recused=True)
    stored = storage.save_file(
        factories.sample_pdf(), filename="pieteikums.pdf", content_type="application/pdf"
    )
    first.versions[-1].pdf_file_id = stored.id
    db.session.flush()
    return {**ev, "first": first, "second": second, "me": me, "other": other, "other_sheets": other_sheets}


def _score_url(application, suffix=""):
    return f"/evaluation/applications/{application.id}/score{suffix}"


def evaluation_pages(app, *, application, call, member, sheet) -> list[tuple[str, str]]:
    """(endpoint, url) of every GET route of the evaluation blueprint, filled with the case's ids."""
    values = {
        "application_id": application.id,
        "call_id": call.id,
        "member_id": member.id,
        "sheet_id": sheet.id,
        "token": "x",
    }
    pages = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("evaluation.") or "GET" not in (rule.methods or ()):
                continue
            if not set(rule.arguments) <= set(values):
                pytest.fail(f"{rule.endpoint}: teach this test the parameters {sorted(rule.arguments)}")
            pages.append((rule.endpoint, url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})))
    return sorted(pages)


def test_every_evaluation_page_is_probed(app, case):
    endpoints = {
        e
        for e, _url in evaluation_pages(
            app,
            application=case["first"],
            call=case["call"],
            member=case["me"],
            sheet=case["other_sheets"][0],
        )
    }
    assert {"evaluation.score_application", "evaluation.application_pdf", "evaluation.progress"} <= endpoints


# --- a recused member ----------------------------------------------------------------------------


def test_a_recused_member_gets_404_on_everything_of_that_application(client, login_as, case):
    first = case["first"]
    criterion = scoring.quality_criteria(case["call"])[0]
    login_as(case["me"].user)
    token = csrf_token(client, "/")
    assert client.get(_score_url(first)).status_code == 404
    assert client.post(_score_url(first), data={"csrf_token": token, "lock_version": "0"}).status_code == 404
    autosave = client.post(
        _score_url(first, "/autosave"),
        json={"lock_version": 0, "scores": {str(criterion.id): {"value": 3, "comment": "x"}}},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert autosave.status_code == 404
    assert COMMENT_ON_FIRST not in autosave.get_data(as_text=True)
    submit = client.post(
        _score_url(first, "/submit"),
        data={"csrf_token": token, "lock_version": "0", f"score_{criterion.id}": "3"},
    )
    assert submit.status_code == 404
    assert client.get(f"/evaluation/applications/{first.id}/pdf").status_code == 404
    assert queries.sheet(case["me"].id, first.id) is None
    with pytest.raises(TransitionDenied):  # the service refuses too
        scoring.open_sheet(first, actor=case["me"].user)


def test_a_recused_member_cannot_obtain_its_scores_through_any_evaluation_page(app, client, login_as, case):
    me = case["me"]
    # The member has submitted on the other application, so the others' scores are visible *there*.
    factories.score(me, case["second"], 2, comment="Mans komentārs")
    login_as(me.user)
    for endpoint, url in evaluation_pages(
        app, application=case["first"], call=case["call"], member=me, sheet=case["other_sheets"][0]
    ):
        response = client.get(url)
        assert response.status_code < 500, endpoint
        body = response.get_data(as_text=True)
        assert COMMENT_ON_FIRST not in body, endpoint
    # On the application they scored they see the others' scores of that application only.
    html = client.get(_score_url(case["second"])).get_data(as_text=True)
    assert COMMENT_ON_SECOND in html
    assert COMMENT_ON_FIRST not in html


# --- a member who has not submitted yet ----------------------------------------------------------


@pytest.mark.parametrize("own", ["nothing", "draft"])
def test_before_submitting_a_member_sees_no_other_scores_anywhere(app, client, login_as, case, own):
    third_party = case["committee"]["members"][2]
    me = case["me"]
    second = case["second"]
    if own == "draft":
        factories.score(me, second, 2, submit=False, comment="Mans melnraksts")
    else:
        _declare(me, second)
    login_as(me.user)
    page = client.get(_score_url(second))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert COMMENT_ON_SECOND not in html
    assert OTHER_NAME not in html
    assert third_party.user.full_name not in Page(html).by_id("main").text
    assert "The other members' scores" not in html
    token = csrf_token(client, _score_url(second))
    sheet = queries.sheet(me.id, second.id)
    saved = client.post(
        _score_url(second, "/autosave"),
        json={"lock_version": sheet.lock_version if sheet else 0, "scores": {}},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert saved.status_code == 200
    assert COMMENT_ON_SECOND not in saved.get_data(as_text=True)
    for endpoint, url in evaluation_pages(
        app, application=second, call=case["call"], member=me, sheet=case["other_sheets"][1]
    ):
        response = client.get(url)
        assert response.status_code < 500, endpoint
        body = response.get_data(as_text=True)
        assert COMMENT_ON_SECOND not in body, endpoint
        assert COMMENT_ON_FIRST not in body, endpoint


def test_an_incomplete_submission_does_not_reveal_the_others(client, login_as, case):
    me, second = case["me"], case["second"]
    _declare(me, second)
    login_as(me.user)
    token = csrf_token(client, _score_url(second))
    response = client.post(_score_url(second, "/submit"), data={"csrf_token": token, "lock_version": "0"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "cannot be submitted" in html
    assert COMMENT_ON_SECOND not in html and OTHER_NAME not in html


# --- locked after the decision -------------------------------------------------------------------


def _decide(case):
    case["call"].status = "decided"
    for application in case["applications"]:
        application.status = "funded"
    db.session.flush()


def test_scores_are_locked_after_the_decision(client, login_as, case):
    me, second = case["me"], case["second"]
    sheet = factories.score(me, second, 2, submit=False, comment="Melnraksts")
    criteria = scoring.quality_criteria(case["call"])
    _decide(case)
    with pytest.raises(WorkflowError):
        scoring.save_scores(sheet, {c.id: (3, "Vēlu") for c in criteria}, actor=me.user)
    with pytest.raises(WorkflowError):
        scoring.submit_scores(sheet, actor=me.user)
    with pytest.raises(WorkflowError):
        scoring.reopen_sheet(case["other_sheets"][1], "Vēlu", actor=case["coordinator"])
    login_as(me.user)
    page = client.get(_score_url(second))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Scoring of this application has finished" in html
    assert not Page(html).find("input", type="radio")
    token = csrf_token(client, _score_url(second))
    values = {f"score_{c.id}": "3" for c in criteria}
    autosave = client.post(
        _score_url(second, "/autosave"),
        json={"lock_version": sheet.lock_version, "scores": {str(criteria[0].id): {"value": 3}}},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert autosave.status_code == 409 and autosave.get_json()["locked"] is True
    data = {"csrf_token": token, "lock_version": str(sheet.lock_version), **values}
    assert client.post(_score_url(second), data=data).status_code == 409
    assert client.post(_score_url(second, "/submit"), data=data).status_code == 409
    db.session.expire_all()
    stored = db.session.get(ScoreSheet, sheet.id)
    assert stored.status == "draft" and {s.value for s in stored.scores} == {2}
    # The other member's submitted sheet cannot be reopened either.
    other_sheet = case["other_sheets"][1]
    assert (
        db.session.scalar(sa.select(ScoreSheet.status).where(ScoreSheet.id == other_sheet.id)) == "submitted"
    )


def test_a_member_downloads_the_attachments_only_after_declaring_no_conflict(client, login_as, db):
    from portal.applications.models import Attachment

    ev = factories.evaluation_call(applications=1)
    application = ev["applications"][0]
    stored = storage.save_file(factories.sample_pdf(), filename="tame.pdf", content_type="application/pdf")
    attachment = Attachment(application=application, file_id=stored.id, kind="other")
    db.session.add(attachment)
    declared, recused, undecided = ev["committee"]["members"]
    db.session.add(
        ConflictDeclaration(
            member_id=recused.id, application_id=application.id, recused=True, reason="Radinieks"
        )
    )
    db.session.flush()
    factories.score(declared, application, 2, submit=False)
    url = f"/applications/{application.id}/attachments/{attachment.id}"

    login_as(declared.user)
    assert url in client.get(f"/evaluation/applications/{application.id}/score").get_data(as_text=True)
    assert client.get(url).status_code == 200
    for member in (recused, undecided):
        client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
        login_as(member.user)
        assert client.get(url).status_code == 404
