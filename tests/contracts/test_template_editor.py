"""The municipality's contract text (issue 7): saved only by its coordinators and only when it holds
nothing but text and known placeholders, audited, restorable; the editor page keeps a refused text and
shows the message by the field; the preview is a PDF filled in with a funded application."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.contracts import generation, templating
from portal.core.audit import AuditEvent
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db as _db
from tests import factories
from tests.helpers import Page, csrf_token
from tests.test_accessibility_markup import _statement_url, markup_problems

BODY = "Līgums Nr. {{ number }}\n\nFinansējuma saņēmējs: {{ organisation }}."


def _events(action):
    return _db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def _url(path, programme, muni):
    return f"/contracts/template{path}?programme={programme.id}&municipality={muni.id}"


def test_saving_and_restoring_the_municipality_s_text(db):
    programme, muni = factories.programme(), factories.municipality()
    coordinator = factories.coordinator(muni)
    default = generation.default_template_body(programme)
    templating.save_template(programme, muni.id, BODY, actor=coordinator)
    assert generation.template_for(programme, muni.id) == BODY
    templating.save_template(programme, muni.id, BODY + " Beigas.", actor=coordinator)
    saved = _events("contract_template.saved")
    assert len(saved) == 2 and saved[1].before_data()["body_sha256"] == saved[0].after_data()["body_sha256"]
    assert saved[0].municipality_id == muni.id

    assert templating.reset_template(programme, muni.id, actor=coordinator) is True
    assert generation.template_for(programme, muni.id) == default
    assert _events("contract_template.reset")
    assert templating.reset_template(programme, muni.id, actor=coordinator) is False


def test_only_a_valid_text_by_the_municipality_s_coordinator_is_saved(db):
    programme, muni = factories.programme(), factories.municipality()
    coordinator = factories.coordinator(muni)
    personal = "Pārstāvis Jānis Bērziņš, personas kods 010190-12345, {{ organisation }}"
    for broken in (
        "",
        "{{ nav }}",
        "{{ number.__class__ }}",
        "{% if 1 %}x{% endif %}",
        "{{ number",
        personal,
    ):
        with force_locale("en"), pytest.raises(WorkflowError) as refused:
            templating.save_template(programme, muni.id, broken, actor=coordinator)
        assert refused.value.field == "body"
    other = factories.coordinator(factories.municipality("0044000"))
    with pytest.raises(TransitionDenied):
        templating.save_template(programme, muni.id, BODY, actor=other)
    with pytest.raises(TransitionDenied):
        templating.reset_template(programme, muni.id, actor=factories.applicant())
    assert templating.own_template(programme, muni.id) is None and not _events("contract_template.saved")


def test_the_editor_saves_keeps_a_refused_text_and_restores(client, login_as):
    programme, muni = factories.programme(), factories.municipality()
    coordinator = factories.coordinator(muni)
    login_as(coordinator)
    page = client.get(_url("", programme, muni))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "{{ amount_words }}" in html and "Latvian words" in html
    assert markup_problems(html, lang="en", statement_url=_statement_url(client.application)) == []

    token = csrf_token(client, _url("", programme, muni))
    refused = client.post(_url("", programme, muni), data={"body": "Nr. {{ nav }}", "csrf_token": token})
    page = Page(refused.get_data(as_text=True))
    assert refused.status_code == 200
    assert "Unknown placeholder" in page.by_id("body-error").text
    assert page.by_id("body").text.strip() == "Nr. {{ nav }}"

    saved = client.post(_url("", programme, muni), data={"body": BODY, "csrf_token": token})
    assert saved.status_code == 302
    assert templating.own_template(programme, muni.id).body == BODY
    html = client.get(_url("", programme, muni)).get_data(as_text=True)
    assert "Restore the programme" in html
    assert markup_problems(html, lang="en", statement_url=_statement_url(client.application)) == []
    restored = client.post(_url("/reset", programme, muni), data={"csrf_token": token})
    assert restored.status_code == 302 and templating.own_template(programme, muni.id) is None


def test_the_editor_refuses_a_personal_code_by_the_field_and_keeps_the_text(client, login_as):
    programme, muni = factories.programme(), factories.municipality()
    login_as(factories.coordinator(muni))
    token = csrf_token(client, _url("", programme, muni))
    body = "Pārstāvis: Jānis Bērziņš (p.k. 010190 12345), {{ organisation }}."
    refused = client.post(_url("", programme, muni), data={"body": body, "csrf_token": token})
    page = Page(refused.get_data(as_text=True))
    assert refused.status_code == 200 and "identity code" in page.by_id("body-error").text
    assert page.by_id("body").text.strip() == body
    assert templating.own_template(programme, muni.id) is None


def test_another_municipality_s_coordinator_gets_404(client, login_as):
    programme, muni = factories.programme(), factories.municipality()
    login_as(factories.coordinator(factories.municipality("0044000")))
    assert client.get(_url("", programme, muni)).status_code == 404
    token = csrf_token(client, "/account/settings")
    for path in ("", "/reset", "/preview"):
        assert (
            client.post(_url(path, programme, muni), data={"body": BODY, "csrf_token": token}).status_code
            == 404
        )
    assert templating.own_template(programme, muni.id) is None


def test_the_preview_is_a_pdf_of_a_funded_application_and_a_broken_text_stays_in_the_editor(client, login_as):
    ev = factories.decided_call(2, funded=1, scores=(3, 2))
    call = ev["call"]
    login_as(ev["coordinator"])
    url = _url("/preview", call.programme, call.municipality)
    token = csrf_token(client, _url("", call.programme, call.municipality))
    broken = client.post(url, data={"body": "{{ organisation.__class__ }}", "csrf_token": token})
    assert broken.status_code == 200 and "text/html" in broken.content_type
    assert Page(broken.get_data(as_text=True)).by_id("body-error") is not None

    preview = client.post(url, data={"body": BODY, "csrf_token": token})
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert preview.data.startswith(b"%PDF") and preview.headers["Content-Disposition"].startswith("inline")
    assert templating.own_template(call.programme, call.municipality_id) is None  # a preview saves nothing


def test_the_preview_needs_a_funded_application(client, login_as):
    programme, muni = factories.programme(), factories.municipality()
    login_as(factories.coordinator(muni))
    token = csrf_token(client, _url("", programme, muni))
    response = client.post(_url("/preview", programme, muni), data={"body": BODY, "csrf_token": token})
    assert response.status_code == 200
    assert "A preview needs one funded application" in response.get_data(as_text=True)
