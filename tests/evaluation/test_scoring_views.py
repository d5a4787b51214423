"""The scoring screen, its autosave, submission, the submitted PDF, the coordinator's progress matrix and
reopening a sheet (issue 5)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.core import storage
from portal.core.audit import AuditEvent
from portal.evaluation import queries
from portal.evaluation.models import ScoreSheet
from portal.evaluation.services import scoring
from portal.extensions import db
from tests import factories
from tests.helpers import Page, count_queries, csrf_token

OTHER_COMMENT = "Ļoti pārliecinošs jauniešu plāns, citu vērtētāja komentārs"


_declare = factories.declare


@pytest.fixture()
def ev(db):
    return factories.evaluation_call(applications=2)


def _url(application, suffix=""):
    return f"/evaluation/applications/{application.id}/score{suffix}"


def _criteria(ev):
    return scoring.quality_criteria(ev["call"])


def _sheet(member, application):
    return queries.sheet(member.id, application.id)


def _autosave(client, application, body, token):
    return client.post(
        _url(application, "/autosave"),
        json=body,
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )


def _form_data(criteria, token, version, values=None, comments=None):
    data = {"csrf_token": token, "lock_version": str(version)}
    for c in criteria:
        value = (values or {}).get(c.id)
        if value is not None:
            data[f"score_{c.id}"] = str(value)
        data[f"comment_{c.id}"] = (comments or {}).get(c.id, "")
    return data


# --- the page -------------------------------------------------------------------------------------


def test_the_scoring_screen_shows_the_application_and_the_criteria(client, login_as, ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    application.problem = "Jaunieši pamet skolu pēc 9. klases"
    db.session.flush()
    version = application.versions[-1]
    version.data = {**version.data, "problem": "Jaunieši pamet skolu pēc 9. klases"}
    db.session.flush()
    login_as(member.user)
    response = client.get(_url(application))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = Page(html)
    assert "Jaunieši pamet skolu pēc 9. klases" in html
    criteria = _criteria(ev)
    for criterion in criteria:
        fieldset = page.by_id(f"score_{criterion.id}-fieldset")
        assert fieldset is not None and fieldset.tag == "fieldset"
        legends = [e for e in page.find("legend") if e.parent is fieldset]
        assert legends and criterion.title_en in legends[0].text
        for level in "0123":
            radio = page.by_id(f"score_{criterion.id}-{level}")
            assert radio.get("type") == "radio" and radio.get("name") == f"score_{criterion.id}"
            label = page.find("label", for_=f"score_{criterion.id}-{level}")
            assert criterion.levels[level]["en"] in label[0].text
        assert page.by_id(f"comment_{criterion.id}").tag == "textarea"
        assert "Required when you give 0 or 1." in page.by_id(f"comment_{criterion.id}-hint").text
    assert page.find("button", formaction=_url(application, "/submit"))
    assert page.by_id("scoring-status").get("aria-live") == "polite"
    assert page.find("script", src="/static/js/scoring.js")
    assert page.find("link", href="/static/css/scoring.css")
    # Reading the application is audited; opening the page does not create a sheet (GET changes nothing).
    assert _sheet(member, application) is None
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "application.viewed", AuditEvent.object_id == application.id)
        )
        == 1
    )
    # No PDF stored: no link to it, and the route says 404.
    assert not page.find("a", href=f"/evaluation/applications/{application.id}/pdf")
    assert client.get(f"/evaluation/applications/{application.id}/pdf").status_code == 404


def test_the_latvian_page_shows_the_latvian_descriptors(client, login_as, ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    member.user.locale = "lv"
    db.session.flush()
    login_as(member.user)
    html = client.get(_url(application)).get_data(as_text=True)
    criterion = _criteria(ev)[0]
    assert criterion.levels["3"]["lv"] in html
    assert criterion.title_lv in html


@pytest.mark.parametrize("who", ["undeclared", "recused", "secretary", "outsider", "coordinator", "foreign"])
def test_whoever_may_not_score_gets_404(client, login_as, ev, who, caplog):
    application = ev["applications"][0]
    members = ev["committee"]["members"]
    _declare(members[1], application, recused=True)
    users = {
        "undeclared": members[0].user,
        "recused": members[1].user,
        "secretary": ev["committee"]["secretary"].user,
        "outsider": factories.evaluator(application.call.municipality),
        "coordinator": ev["coordinator"],
        "foreign": factories.evaluator(factories.municipality("0040000")),
    }
    login_as(users[who])
    token = csrf_token(client, "/")
    caplog.clear()
    assert client.get(_url(application)).status_code == 404
    assert client.post(_url(application), data={"csrf_token": token, "lock_version": "0"}).status_code == 404
    assert _autosave(client, application, {"lock_version": 0, "scores": {}}, token).status_code == 404
    assert client.post(_url(application, "/submit"), data={"csrf_token": token}).status_code == 404
    assert client.get(f"/evaluation/applications/{application.id}/pdf").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet)) == 0
    # Each refusal is a security event (QUALITY C5).
    denied = [
        r for r in caplog.records if r.name == "portal.security" and "evaluation_denied" in r.getMessage()
    ]
    assert len(denied) == 5


def test_the_submitted_pdf_is_served_as_a_download(client, login_as, ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    stored = storage.save_file(
        factories.sample_pdf(), filename="pieteikums.pdf", content_type="application/pdf"
    )
    application.versions[-1].pdf_file_id = stored.id
    db.session.flush()
    login_as(member.user)
    page = Page(client.get(_url(application)).get_data(as_text=True))
    assert page.find("a", href=f"/evaluation/applications/{application.id}/pdf")
    response = client.get(f"/evaluation/applications/{application.id}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


# --- autosave -------------------------------------------------------------------------------------


def test_autosave_roundtrip_and_a_stale_tab_gets_409(client, login_as, ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    criteria = _criteria(ev)
    login_as(member.user)
    token = csrf_token(client, _url(application))
    first = _autosave(
        client,
        application,
        {"lock_version": 0, "scores": {str(criteria[0].id): {"value": 3, "comment": "Izcili"}}},
        token,
    )
    assert first.status_code == 200, first.get_data(as_text=True)
    body = first.get_json()
    assert body["saved_at"] and isinstance(body["lock_version"], int)
    assert body["message"].startswith("Saved at")
    sheet = _sheet(member, application)
    assert {s.criterion_id: (s.value, s.comment) for s in sheet.scores}[criteria[0].id] == (3, "Izcili")
    second = _autosave(
        client,
        application,
        {
            "lock_version": body["lock_version"],
            "scores": {str(criteria[1].id): {"value": "1", "comment": None}},
        },
        token,
    )
    assert second.status_code == 200
    assert second.get_json()["lock_version"] > body["lock_version"]
    # Another tab still holding the first version: refused, nothing overwritten.
    stale = _autosave(
        client,
        application,
        {"lock_version": body["lock_version"], "scores": {str(criteria[0].id): {"value": 0, "comment": "x"}}},
        token,
    )
    assert stale.status_code == 409
    assert stale.get_json()["conflict"] is True
    assert "another window" in stale.get_json()["error"]["message"]
    db.session.expire_all()
    values = {s.criterion_id: s.value for s in _sheet(member, application).scores}
    assert values[criteria[0].id] == 3 and values[criteria[1].id] == 1
    # A page loaded before the sheet existed (version 0) does not overwrite it either.
    assert (
        _autosave(
            client, application, {"lock_version": 0, "scores": {str(criteria[0].id): {"value": 0}}}, token
        ).status_code
        == 409
    )


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"scores": {}},
        {"lock_version": "1", "scores": {}},
        {"lock_version": True, "scores": {}},
        {"lock_version": 0},
        {"lock_version": 0, "scores": []},
        {"lock_version": 0, "scores": {"abc": {"value": 1}}},
        {"lock_version": 0, "scores": {"1": 3}},
        {"lock_version": 0, "scores": {"1": {"value": 7}}},
        {"lock_version": 0, "scores": {"1": {"value": True}}},
        {"lock_version": 0, "scores": {"1": {"value": 1.5}}},
        {"lock_version": 0, "scores": {"1": {"value": 1, "comment": 5}}},
        {"lock_version": 0, "scores": {"1": {"value": 1, "comment": "x" * 6000}}},
    ],
)
def test_a_malformed_autosave_is_400_never_500(client, login_as, ev, body):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    login_as(member.user)
    token = csrf_token(client, _url(application))
    if body is None:
        response = client.post(
            _url(application, "/autosave"),
            data="not json",
            headers={"X-CSRFToken": token, "Content-Type": "application/json", "Accept": "application/json"},
        )
    else:
        response = _autosave(client, application, body, token)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]
    assert _sheet(member, application) is None


def test_autosave_of_a_submitted_sheet_is_409(client, login_as, ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    sheet = factories.score(member, application, 2)
    criterion = _criteria(ev)[0]
    login_as(member.user)
    token = csrf_token(client, _url(application))
    response = _autosave(
        client,
        application,
        {"lock_version": sheet.lock_version, "scores": {str(criterion.id): {"value": 0, "comment": "x"}}},
        token,
    )
    assert response.status_code == 409
    assert response.get_json()["locked"] is True
    db.session.expire_all()
    assert {s.value for s in _sheet(member, application).scores} == {2}


def test_autosave_without_the_csrf_header_is_refused(client, login_as, ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    login_as(member.user)
    response = client.post(
        _url(application, "/autosave"),
        json={"lock_version": 0, "scores": {}},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert _sheet(member, application) is None


# --- saving and submitting with the buttons -------------------------------------------------------


def test_the_save_button_stores_the_draft(client, login_as, ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    criteria = _criteria(ev)
    login_as(member.user)
    token = csrf_token(client, _url(application))
    data = _form_data(criteria, token, 0, values={criteria[0].id: 2}, comments={criteria[0].id: "Labi"})
    data["status"] = "submitted"  # never read (QUALITY C3)
    response = client.post(_url(application), data=data)
    assert response.status_code == 302
    sheet = _sheet(member, application)
    assert sheet.status == "draft"
    assert {s.criterion_id: (s.value, s.comment) for s in sheet.scores}[criteria[0].id] == (2, "Labi")
    page = Page(client.get(_url(application)).get_data(as_text=True))
    assert page.by_id(f"score_{criteria[0].id}-2").get("checked") is not None
    assert page.find("input", name="lock_version")[0].get("value") == str(sheet.lock_version)


@pytest.mark.parametrize("bogus", ["x", "7", "-1", "2.5"])
def test_a_bogus_level_from_the_form_is_an_error_by_the_field(client, login_as, ev, bogus):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    criteria = _criteria(ev)
    login_as(member.user)
    token = csrf_token(client, _url(application))
    data = _form_data(criteria, token, 0, values={criteria[1].id: 2})
    data[f"score_{criteria[0].id}"] = bogus
    for url in (_url(application), _url(application, "/submit")):
        response = client.post(url, data=data)
        assert response.status_code == 200
        page = Page(response.get_data(as_text=True))
        assert "0 to 3" in page.by_id(f"score_{criteria[0].id}-error").text
        assert page.by_id(f"score_{criteria[1].id}-2").get("checked") is not None
    assert _sheet(member, application) is None


def test_a_stale_save_button_keeps_the_input_and_says_why(client, login_as, ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    sheet = factories.score(member, application, 2, submit=False)
    criteria = _criteria(ev)
    login_as(member.user)
    token = csrf_token(client, _url(application))
    data = _form_data(criteria, token, sheet.lock_version - 1, values={c.id: 3 for c in criteria})
    response = client.post(_url(application), data=data)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "another window" in html
    page = Page(html)
    assert page.by_id(f"score_{criteria[0].id}-3").get("checked") is not None
    db.session.expire_all()
    assert {s.value for s in _sheet(member, application).scores} == {2}


def test_submit_errors_are_shown_next_to_each_field_and_the_input_kept(client, login_as, ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    criteria = _criteria(ev)
    login_as(member.user)
    token = csrf_token(client, _url(application))
    values = {c.id: 2 for c in criteria[2:]}
    values[criteria[0].id] = 0  # a 0 without a comment; criteria[1] not scored
    response = client.post(_url(application, "/submit"), data=_form_data(criteria, token, 0, values=values))
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    summary = page.by_id("error-summary")
    assert summary is not None and "cannot be submitted" in summary.text
    assert page.find("a", href=f"#comment_{criteria[0].id}")
    assert page.find("a", href=f"#score_{criteria[1].id}-0")
    comment_error = page.by_id(f"comment_{criteria[0].id}-error")
    assert comment_error is not None and "0 or 1" in comment_error.text
    assert f"comment_{criteria[0].id}-error" in page.by_id(f"comment_{criteria[0].id}").get(
        "aria-describedby"
    )
    assert page.by_id(f"score_{criteria[1].id}-error") is not None
    assert page.by_id(f"score_{criteria[0].id}-0").get("checked") is not None
    sheet = _sheet(member, application)
    assert sheet.status == "draft"
    # What was posted is saved as the draft, and the form carries the new version (Save works next).
    stored = {s.criterion_id: s.value for s in sheet.scores}
    assert stored[criteria[0].id] == 0 and stored[criteria[1].id] is None
    assert page.find("input", name="lock_version")[0].get("value") == str(sheet.lock_version)


def test_submit_locks_the_sheet_and_shows_it_read_only(client, login_as, ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    criteria = _criteria(ev)
    login_as(member.user)
    token = csrf_token(client, _url(application))
    values = {c.id: 3 for c in criteria}
    values[criteria[0].id] = 1
    response = client.post(
        _url(application, "/submit"),
        data=_form_data(criteria, token, 0, values=values, comments={criteria[0].id: "Vāja saikne ar plānu"}),
    )
    assert response.status_code == 302
    sheet = _sheet(member, application)
    assert sheet.is_submitted and sheet.submitted_at is not None
    html = client.get(_url(application)).get_data(as_text=True)
    page = Page(html)
    assert "Submitted at" in html
    assert not page.find("input", type="radio") and not page.find("textarea")
    assert "Vāja saikne ar plānu" in html
    assert not page.find("button", formaction=_url(application, "/submit"))


# --- other members' scores ------------------------------------------------------------------------


def test_others_scores_are_hidden_before_the_own_submission_and_shown_after(client, login_as, ev):
    application = ev["applications"][0]
    me, other = ev["committee"]["members"][:2]
    factories.score(other, application, 1, comment=OTHER_COMMENT)
    _declare(me, application)
    login_as(me.user)
    html = client.get(_url(application)).get_data(as_text=True)
    assert OTHER_COMMENT not in html
    assert other.user.full_name not in html
    token = csrf_token(client, _url(application))
    saved = _autosave(client, application, {"lock_version": 0, "scores": {}}, token)
    assert OTHER_COMMENT not in saved.get_data(as_text=True)
    criteria = _criteria(ev)
    client.post(
        _url(application, "/submit"),
        data=_form_data(
            criteria, token, saved.get_json()["lock_version"], values={c.id: 2 for c in criteria}
        ),
    )
    assert _sheet(me, application).is_submitted
    html = client.get(_url(application)).get_data(as_text=True)
    assert OTHER_COMMENT in html
    assert other.user.full_name in html
    page = Page(html)
    table = page.by_id("others-caption").parent
    assert table.tag == "table" and "Weighted total" in table.text and other.user.full_name in table.text


# --- the coordinator's progress matrix ------------------------------------------------------------


def _progress_url(call):
    return f"/evaluation/calls/{call.id}/progress"


def test_the_progress_matrix_shows_states_in_words_and_no_scores(client, login_as, ev):
    app1, app2 = ev["applications"]
    chair, second, third = ev["committee"]["members"]
    factories.score(chair, app1, 1, comment=OTHER_COMMENT)
    factories.score(second, app1, 2, submit=False, comment=OTHER_COMMENT)
    _declare(third, app1, recused=True)
    _declare(chair, app2)
    login_as(ev["coordinator"])
    response = client.get(_progress_url(ev["call"]))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = Page(html)
    table = page.find("table")[0]
    assert page.find("caption")
    assert all(th.get("scope") in ("col", "row") for th in page.find("th") if "table" in th.ancestors)
    rows = [e for e in page.find("tr") if "tbody" in e.ancestors]
    first = " ".join(rows[0].text.split())
    assert "submitted" in first and "draft" in first and "recused" in first
    assert "1 of 2" in first  # one submitted of the two members who did not recuse
    second_row = " ".join(rows[1].text.split())
    assert "not started" in second_row and "no declaration yet" in second_row
    assert OTHER_COMMENT not in html
    assert "Quorum" in html and "Voting members" in html
    assert table is not None
    # A Reopen form for the submitted sheet, none for the draft.
    sheet = _sheet(chair, app1)
    assert page.find("form", action=f"/evaluation/sheets/{sheet.id}/reopen")
    draft = _sheet(second, app1)
    assert not page.find("form", action=f"/evaluation/sheets/{draft.id}/reopen")


@pytest.mark.parametrize("who", ["member", "secretary", "foreign_coordinator", "applicant"])
def test_the_progress_matrix_is_for_the_coordinator_only(client, login_as, ev, who):
    users = {
        "member": ev["committee"]["chair"].user,
        "secretary": ev["committee"]["secretary"].user,
        "foreign_coordinator": factories.coordinator(factories.municipality("0040000")),
        "applicant": ev["applicants"][0],
    }
    login_as(users[who])
    assert client.get(_progress_url(ev["call"])).status_code == 404


def test_the_progress_matrix_of_an_open_call_is_404(client, login_as, db):
    muni = factories.municipality()
    call = factories.open_call(muni)
    coordinator = factories.coordinator(muni)
    login_as(coordinator)
    assert client.get(_progress_url(call)).status_code == 404


def test_the_progress_query_count_does_not_grow_with_the_applications(app, client, login_as, db):
    counts = []
    for n, code in ((2, "0020000"), (6, "0044000")):
        ev = factories.evaluation_call(applications=n, muni=factories.municipality(code))
        for application in ev["applications"]:
            for member in ev["committee"]["members"][:2]:
                factories.score(member, application, 2)
            _declare(ev["committee"]["members"][2], application, recused=True)
        login_as(ev["coordinator"])
        client.get(_progress_url(ev["call"]))  # warm up (login redirects, caches)
        with count_queries(db.engine) as statements:
            response = client.get(_progress_url(ev["call"]))
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("Reopen:") == 2 * n
        counts.append(len(statements))
        client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    assert counts[0] == counts[1], counts


# --- reopening ------------------------------------------------------------------------------------


def test_reopen_needs_a_reason_then_gives_the_sheet_back(client, login_as, ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    sheet = factories.score(member, application, 2)
    login_as(ev["coordinator"])
    token = csrf_token(client, _progress_url(ev["call"]))
    url = f"/evaluation/sheets/{sheet.id}/reopen"
    response = client.post(url, data={f"sheet{sheet.id}-csrf_token": token, f"sheet{sheet.id}-reason": "  "})
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.by_id("error-summary") is not None
    assert page.by_id(f"sheet{sheet.id}-reason-error") is not None
    assert page.by_id(f"reopen-{sheet.id}").get("open") is not None
    db.session.expire_all()
    assert db.session.get(ScoreSheet, sheet.id).is_submitted
    response = client.post(
        url, data={f"sheet{sheet.id}-csrf_token": token, f"sheet{sheet.id}-reason": "Kļūda 2. kritērijā"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    reopened = db.session.get(ScoreSheet, sheet.id)
    assert reopened.status == "draft" and reopened.submitted_at is None
    # The member sees why, and can score again.
    client.post("/account/logout", data={"csrf_token": token})
    login_as(member.user)
    html = client.get(_url(application)).get_data(as_text=True)
    assert "Kļūda 2. kritērijā" in html
    assert Page(html).find("input", type="radio")


@pytest.mark.parametrize("who", ["member", "foreign_coordinator"])
def test_only_the_coordinator_may_reopen(client, login_as, ev, who):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    sheet = factories.score(member, application, 2)
    user = member.user if who == "member" else factories.coordinator(factories.municipality("0040000"))
    login_as(user)
    token = csrf_token(client, "/")
    response = client.post(
        f"/evaluation/sheets/{sheet.id}/reopen",
        data={f"sheet{sheet.id}-csrf_token": token, f"sheet{sheet.id}-reason": "Kļūda"},
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ScoreSheet, sheet.id).is_submitted


def test_no_reopen_button_and_no_reopening_after_consolidation(client, login_as, db):
    from portal.evaluation.services import decisions

    ev = factories.evaluation_call(applications=1)
    application = ev["applications"][0]
    sheets = [factories.score(m, application, 2) for m in ev["committee"]["members"]]
    decisions.consolidate_call(ev["call"], actor=ev["coordinator"])
    login_as(ev["coordinator"])
    html = client.get(_progress_url(ev["call"])).get_data(as_text=True)
    assert "Reopen:" not in html
    token = csrf_token(client, _progress_url(ev["call"]))
    sheet = sheets[0]
    response = client.post(
        f"/evaluation/sheets/{sheet.id}/reopen",
        data={f"sheet{sheet.id}-csrf_token": token, f"sheet{sheet.id}-reason": "Par vēlu"},
    )
    assert response.status_code == 409
    assert "consolidated" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ScoreSheet, sheet.id).is_submitted
