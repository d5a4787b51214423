"""The results pages through the test client: consolidating, the ranking, the decision form, the
protocol and decision downloads, the reserve list and cancelling funding; 404 for everyone else."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale

from portal.applications.workflow import ApplicationStatus
from portal.calls.workflow import CallStatus
from portal.core import storage
from portal.core.mail import OutboxMessage
from portal.core.pdf import sha256
from portal.core.timeutil import to_riga, utcnow
from portal.evaluation import queries
from portal.evaluation.models import Decision, EvaluationResult
from portal.evaluation.services import decisions
from portal.extensions import db
from portal.programmes.models import Quota
from tests.factories import (
    applicant,
    coordinator,
    evaluation_call,
    municipality,
    national_admin,
    sample_pdf,
    sample_png,
    score,
)
from tests.helpers import Page, browser_client, count_queries, csrf_token, log_in

# --- helpers ---------------------------------------------------------------------------------------


def score_all(ev, per_application=None) -> None:
    per_application = per_application or [3, 2, 2][: len(ev["applications"])]
    for application, value in zip(ev["applications"], per_application, strict=True):
        for member in ev["committee"]["members"]:
            score(member, application, value, comment=f"Komentārs {application.id}")


def post(client, url, data=None, token_from=None, **kwargs):
    token = csrf_token(client, token_from or "/")
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def today():
    return to_riga(utcnow()).date()


def decide(ev):
    decisions.record_decision(
        ev["call"],
        number="Nr. 3",
        decided_on=today(),
        file_data=sample_pdf(b"decision"),
        filename="lēmums.pdf",
        outcomes={},
        actor=ev["coordinator"],
    )


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture()
def ev(db):
    """Three admissible applications, two places, a declared committee of three (not scored yet)."""
    return evaluation_call(3, projects=2, quota=2)


@pytest.fixture()
def consolidated(ev):
    score_all(ev)
    decisions.consolidate_call(ev["call"], actor=ev["coordinator"])
    return ev


@pytest.fixture()
def decided(consolidated):
    decide(consolidated)
    return consolidated


def urls(ev) -> dict[str, tuple[str, str]]:
    call_id = ev["call"].id
    funded = ev["applications"][0].id
    return {
        "results": ("GET", f"/evaluation/calls/{call_id}/results"),
        "consolidate": ("POST", f"/evaluation/calls/{call_id}/consolidate"),
        "decision": ("GET", f"/evaluation/calls/{call_id}/decision"),
        "decision_post": ("POST", f"/evaluation/calls/{call_id}/decision"),
        "protocol": ("GET", f"/evaluation/calls/{call_id}/protocol.pdf"),
        "decision_file": ("GET", f"/evaluation/calls/{call_id}/decision.pdf"),
        "offer_reserve": ("POST", f"/evaluation/calls/{call_id}/offer-reserve"),
        "cancel_funding": ("GET", f"/evaluation/applications/{funded}/cancel-funding"),
        "cancel_funding_post": ("POST", f"/evaluation/applications/{funded}/cancel-funding"),
    }


# --- consolidation and the ranking -----------------------------------------------------------------


def test_before_consolidation_the_page_lists_what_blocks_it(client, login_as, ev):
    login_as(ev["coordinator"])
    response = client.get(f"/evaluation/calls/{ev['call'].id}/results")
    assert response.status_code == 200
    html = text(response)
    assert "No quorum: 0 of 3" in html
    assert "The scores have not been consolidated yet." in html
    assert f'action="/evaluation/calls/{ev["call"].id}/consolidate"' in html

    response = post(client, f"/evaluation/calls/{ev['call'].id}/consolidate", follow_redirects=True)
    assert response.status_code == 200
    page = Page(text(response))
    flashes = [p.text for p in page.with_class("flash-danger")]
    assert flashes[0] == "The scores cannot be consolidated yet:"
    assert any("No quorum" in f for f in flashes)
    assert queries.results(ev["call"].id) == []


def test_the_coordinator_consolidates_and_sees_the_ranking(client, login_as, ev):
    call = ev["call"]
    members = ev["committee"]["members"]
    first, second, third = ev["applications"]
    score(members[0], first, 3)
    score(members[1], first, 3)
    score(members[2], first, 1)  # a spread of 2 on every criterion
    for application, value in ((second, 2), (third, 1)):
        for member in members:
            score(member, application, value)
    login_as(ev["coordinator"])
    response = post(client, f"/evaluation/calls/{call.id}/consolidate")
    assert response.status_code == 302 and response.headers["Location"].endswith("/results#ranking")
    assert all(a.status == ApplicationStatus.SCORED for a in ev["applications"])

    html = text(client.get(f"/evaluation/calls/{call.id}/results"))
    page = Page(html)
    assert page.find("caption", id="ranking-caption")
    assert page.find("div", class_="table-wrap", role="region")
    assert len(page.find("th", scope="col")) >= 8
    assert len(page.find("th", scope="row")) == 3
    rows = {e.get("id"): " ".join(e.text.split()) for e in page.find("tr") if e.get("id")}
    top = rows[f"result-{first.id}"]
    assert "23.33 of 30" in top  # (30 + 30 + 10) / 3
    assert "Discuss:" in top and "members' scores differ by 2 or more on:" in top
    assert "Relevance to PMP risks" in top
    assert "Fund" in top
    low = rows[f"result-{third.id}"]
    assert "Failed: below the threshold of 15" in low and "Do not fund" in low
    assert "room for 2 funded projects" in html
    assert "2 applications are proposed for funding." in html
    assert "Consolidate again" in html
    assert f'href="/evaluation/calls/{call.id}/decision"' in html


def test_the_results_page_queries_do_not_grow_with_the_applications(client, login_as, db):
    # each with a reserve, so that the page takes the same branches
    small = evaluation_call(2, projects=1, quota=1)
    large = evaluation_call(6, projects=2, quota=2)
    for ev_ in (small, large):
        score_all(ev_, [3, 2] if len(ev_["applications"]) == 2 else [3, 3, 2, 2, 1, 2])
        decisions.consolidate_call(ev_["call"], actor=ev_["coordinator"])
    login_as(small["coordinator"])  # the same municipality: they coordinate both calls
    counts = {}
    for name, ev_ in (("small", small), ("large", large)):
        url = f"/evaluation/calls/{ev_['call'].id}/results"
        assert client.get(url).status_code == 200
        with count_queries(db.engine) as statements:
            assert client.get(url).status_code == 200
        counts[name] = len(statements)
    assert counts["small"] == counts["large"], counts
    for ev_ in (small, large):
        decide(ev_)
    for name, ev_ in (("small", small), ("large", large)):
        url = f"/evaluation/calls/{ev_['call'].id}/results"
        assert client.get(url).status_code == 200
        with count_queries(db.engine) as statements:
            assert client.get(url).status_code == 200
        counts[name] = len(statements)
    assert counts["small"] == counts["large"], counts


# --- the decision form -----------------------------------------------------------------------------


def _decision_data(ev, **changes):
    data = {"number": "Nr. 5 (prot. 2, 3.§)", "decided_on": today().strftime("%d.%m.%Y")}
    for application in ev["applications"]:
        result = queries.result_for(application.id)
        data[f"outcome_{application.id}"] = result.proposal
        data[f"reason_{application.id}"] = ""
    data.update(changes)
    return data


def test_the_decision_form_keeps_everything_on_an_error(client, login_as, consolidated):
    ev = consolidated
    url = f"/evaluation/calls/{ev['call'].id}/decision"
    login_as(ev["coordinator"])
    page = Page(text(client.get(url)))
    second, third = ev["applications"][1], ev["applications"][2]
    select = page.find("select", name=f"outcome_{third.id}")[0]
    selected = [o for o in page.find("option", selected="") if o.parent is select]
    assert [o.get("value") for o in selected] == ["reserve"]  # pre-set to the proposal

    data = _decision_data(
        ev,
        **{
            f"outcome_{second.id}": "reserve",  # a deviation without a reason
            f"outcome_{third.id}": "funded",
            f"reason_{third.id}": "Labāks plāns nekā otrajam",
        },
    )
    data["file"] = (io.BytesIO(sample_pdf()), "lēmums.pdf")
    response = post(client, url, data, token_from=url, content_type="multipart/form-data")
    assert response.status_code == 200
    html = text(response)
    page = Page(html)
    error = page.by_id(f"reason_{second.id}-error")
    assert error is not None and "needs a written reason" in error.text
    assert page.find("input", name="number", value="Nr. 5 (prot. 2, 3.§)")
    assert "Labāks plāns nekā otrajam" in page.by_id(f"reason_{third.id}").text
    chosen = [o for o in page.find("option", selected="") if o.parent.get("name") == f"outcome_{third.id}"]
    assert [o.get("value") for o in chosen] == ["funded"]
    assert "choose the decision's PDF file again" in html
    assert ev["call"].status == CallStatus.EVALUATION
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"decided_on": "31.02.2026"}, "decided_on", "This day does not exist"),
        ({"decided_on": "future"}, "decided_on", "cannot be in the future"),
        ({"number": ""}, "number", "Give the decision's number."),
        ({"file": "png"}, "file", ""),
        ({"file": None}, "file", "Choose the decision's PDF file."),
    ],
)
def test_the_decision_form_shows_each_refusal_by_its_field(
    client, login_as, consolidated, changes, field, message
):
    ev = consolidated
    url = f"/evaluation/calls/{ev['call'].id}/decision"
    login_as(ev["coordinator"])
    data = _decision_data(ev)
    data["file"] = (io.BytesIO(sample_pdf()), "lēmums.pdf")
    if changes.get("decided_on") == "future":
        changes["decided_on"] = (today() + timedelta(days=2)).isoformat()
    if changes.get("file") == "png":
        changes["file"] = (io.BytesIO(sample_png()), "lēmums.png")
    data.update(changes)
    if data["file"] is None:
        del data["file"]
    response = post(client, url, data, token_from=url, content_type="multipart/form-data")
    assert response.status_code == 200
    page = Page(text(response))
    error = page.by_id(f"{field}-error")
    assert error is not None and message in error.text
    assert page.find("input", name="number", value=data["number"]) or not data["number"]
    assert ev["call"].status == CallStatus.EVALUATION


def test_recording_the_decision(client, login_as, consolidated):
    ev = consolidated
    call = ev["call"]
    url = f"/evaluation/calls/{call.id}/decision"
    login_as(ev["coordinator"])
    data = _decision_data(ev, decided_on=today().isoformat())
    data["file"] = (io.BytesIO(sample_pdf(b"council")), "Domes lēmums.pdf")
    response = post(client, url, data, token_from=url, content_type="multipart/form-data")
    assert response.status_code == 302, text(response)
    assert response.headers["Location"].endswith("/results#decision")
    assert call.status == CallStatus.DECIDED
    assert [a.status for a in ev["applications"]] == ["funded", "funded", "reserve"]
    mails = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == "evaluation_result")
    ).all()
    assert sorted(m.recipient for m in mails) == sorted(u.email for u in ev["applicants"])
    decision = db.session.scalar(sa.select(Decision).where(Decision.call_id == call.id))
    assert decision.number == "5 (prot. 2, 3.§)" and decision.decided_on == today()

    html = text(client.get(f"/evaluation/calls/{call.id}/results"))
    assert "Council decision No. 5 (prot. 2, 3.§)" in html
    assert decision.protocol_sha256 in html
    assert "Status now" in html and "Cancel the funding" in html

    protocol = client.get(f"/evaluation/calls/{call.id}/protocol.pdf")
    assert protocol.status_code == 200 and protocol.mimetype == "application/pdf"
    assert protocol.headers["Content-Disposition"].startswith("attachment;")
    assert sha256(protocol.data) == decision.protocol_sha256
    upload = client.get(f"/evaluation/calls/{call.id}/decision.pdf")
    assert upload.status_code == 200 and upload.data == sample_pdf(b"council")
    assert "filename*=UTF-8''Domes%20l%C4%93mums.pdf" in upload.headers["Content-Disposition"]
    assert upload.headers["X-Content-Type-Options"] == "nosniff"

    # the form is gone once the decision is recorded
    again = client.get(url)
    assert again.status_code == 302


def test_the_decision_waits_for_the_consolidation(client, login_as, ev):
    login_as(ev["coordinator"])
    response = client.get(f"/evaluation/calls/{ev['call'].id}/decision")
    assert response.status_code == 302 and "/results" in response.headers["Location"]


# --- the protocol ----------------------------------------------------------------------------------


def test_the_coordinator_previews_the_protocol_without_storing_it(client, login_as, consolidated, app):
    ev = consolidated
    login_as(ev["coordinator"])
    before = db.session.scalar(sa.select(sa.func.count()).select_from(storage.StoredFile))
    response = client.get(f"/evaluation/calls/{ev['call'].id}/protocol.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert "projekts.pdf" in response.headers["Content-Disposition"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(storage.StoredFile)) == before
    # the national administrator sees the results, but no preview
    admin = browser_client(app)
    log_in(admin, national_admin())
    assert admin.get(f"/evaluation/calls/{ev['call'].id}/results").status_code == 200
    assert admin.get(f"/evaluation/calls/{ev['call'].id}/protocol.pdf").status_code == 404
    assert admin.get(f"/evaluation/calls/{ev['call'].id}/decision.pdf").status_code == 404


def test_the_national_administrator_downloads_the_stored_protocol(app, decided):
    admin = browser_client(app)
    log_in(admin, national_admin())
    call_id = decided["call"].id
    html = text(admin.get(f"/evaluation/calls/{call_id}/results"))
    assert "Council decision No. 3" in html
    assert 'action="/evaluation/calls/' not in html  # no buttons for someone who does not coordinate
    assert admin.get(f"/evaluation/calls/{call_id}/protocol.pdf").status_code == 200
    assert admin.get(f"/evaluation/calls/{call_id}/decision.pdf").status_code == 200


# --- outsiders -------------------------------------------------------------------------------------


def _outsiders(ev):
    return {
        "other coordinator": coordinator(municipality("0044000")),
        "evaluator": ev["committee"]["chair"].user,
        "secretary": ev["committee"]["secretary"].user,
        "applicant": ev["applicants"][0],
        "unrelated applicant": applicant(),
    }


def _request(client, method, url):
    if method == "GET":
        return client.get(url)
    return post(client, url, {"reason": "x", "number": "1"})


@pytest.mark.parametrize("state", ["evaluation", "decided"])
def test_every_page_is_404_for_outsiders(app, consolidated, state):
    ev = consolidated
    if state == "decided":
        decide(ev)
    for who, user in _outsiders(ev).items():
        client = browser_client(app)
        log_in(client, user)
        for name, (method, url) in urls(ev).items():
            response = _request(client, method, url)
            assert response.status_code == 404, (who, name, response.status_code)
    assert [a.status for a in ev["applications"]] == (
        ["funded", "funded", "reserve"] if state == "decided" else ["scored"] * 3
    )


def test_anonymous_visitors_are_sent_to_log_in(client, decided):
    for _name, (method, url) in urls(decided).items():
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302 and "/account/login" in response.headers["Location"]


# --- the reserve list and cancelling funding -------------------------------------------------------


def test_offering_the_reserve_place(client, login_as, decided):
    ev = decided
    call = ev["call"]
    results_url = f"/evaluation/calls/{call.id}/results"
    login_as(ev["coordinator"])
    html = text(client.get(results_url))
    assert "There is no room under the municipality" in html
    assert f'action="/evaluation/calls/{call.id}/offer-reserve"' not in html
    response = post(client, f"/evaluation/calls/{call.id}/offer-reserve", follow_redirects=True)
    assert "Nobody was offered the place: There is no room" in text(response)
    reserve = ev["applications"][2]
    assert reserve.status == ApplicationStatus.RESERVE

    quota = db.session.scalar(sa.select(Quota).where(Quota.round_id == call.round_id))
    quota.redistributed_in = 1
    db.session.commit()
    html = text(client.get(results_url))
    assert f'action="/evaluation/calls/{call.id}/offer-reserve"' in html
    response = post(client, f"/evaluation/calls/{call.id}/offer-reserve", token_from=results_url)
    assert response.status_code == 302
    assert reserve.status == ApplicationStatus.FUNDED
    html = text(client.get(results_url))
    assert "from the reserve list is offered the funding" in html
    assert "The reserve list is empty." in html


def test_cancelling_funding_offers_the_place_to_the_reserve(client, login_as, decided):
    ev = decided
    funded, _second, reserve = ev["applications"]
    url = f"/evaluation/applications/{funded.id}/cancel-funding"
    login_as(ev["coordinator"])
    html = text(client.get(url))
    assert re.search(r"offered to the next application on the reserve list: “[^”]+” \(Biedrība", html)
    response = post(client, url, {"reason": ""}, token_from=url)
    assert response.status_code == 200
    assert Page(text(response)).by_id("reason-error") is not None
    assert funded.status == ApplicationStatus.FUNDED

    response = post(client, url, {"reason": "Līgums netika parakstīts laikā"}, token_from=url)
    assert response.status_code == 302
    assert funded.status == ApplicationStatus.NOT_FUNDED
    assert reserve.status == ApplicationStatus.FUNDED
    html = text(client.get(response.headers["Location"]))
    assert "The funding of" in html and "is cancelled" in html
    assert "from the reserve list is offered the funding" in html
    # a second attempt: the application is no longer funded
    again = client.get(url)
    assert again.status_code == 302


# --- the applicant's result partial ----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "lv"])
def test_the_applicant_partial_shows_only_numbered_members(app, decided, lang):
    ev = decided
    application = ev["applications"][2]
    result = db.session.scalar(
        sa.select(EvaluationResult).where(EvaluationResult.application_id == application.id)
    )
    with app.test_request_context("/"), force_locale(lang):
        html = render_template(
            "evaluation/_applicant_result.html",
            result=result,
            member_scores=decisions.applicant_scores(application),
            max_score=30,
        )
    page = Page(html)
    assert len(page.find("caption")) == 3  # one table per member, numbered
    assert "Member 1" in html or "1. " in html
    assert f"Komentārs {application.id}" in html
    assert f"Komentārs {ev['applications'][0].id}" not in html
    for member in ev["committee"]["members"]:
        assert member.user.full_name not in html
    assert "Reserve list" in html or "Rezerves" in html
    assert "20 of 30" in html or "20 no 30" in html
    if lang == "en":
        assert "Relevance to PMP risks and the municipal prevention plan" in html
    else:
        assert "Atbilstība PMP riskiem un pašvaldības prevencijas plānam" in html


# --- markup ----------------------------------------------------------------------------------------


def _shell_problems(app, html: str) -> list[str]:
    from tests.test_accessibility_markup import _statement_url, markup_problems

    problems = markup_problems(html, lang="en", statement_url=_statement_url(app))
    page = Page(html)
    if any("style" in e.attrs or any(a.startswith("on") for a in e.attrs) for e in page.elements):
        problems.append("style= or on*= attribute")
    if any(not s.get("src") for s in page.find("script")) or page.find("style"):
        problems.append("inline <script> or <style>")
    labelled = {e.get("for") for e in page.find("label")}
    for control in page.find("select") + page.find("textarea") + page.find("input"):
        if control.get("type") in ("hidden", "submit") or control.get("name") == "lang":
            continue
        if control.get("id") not in labelled:
            problems.append(f"unlabelled {control}")
    return problems


def test_the_pages_have_the_accessible_shell(app, client, login_as, consolidated):
    ev = consolidated
    call_id = ev["call"].id
    login_as(ev["coordinator"])
    pages = {"results": text(client.get(f"/evaluation/calls/{call_id}/results"))}
    url = f"/evaluation/calls/{call_id}/decision"
    pages["decision"] = text(client.get(url))
    data = _decision_data(ev, number="", decided_on="31.31.2026")
    pages["decision with errors"] = text(post(client, url, data, token_from=url))
    page = Page(pages["decision with errors"])
    assert page.find("div", class_="error-summary")
    assert page.by_id("number").get("aria-invalid") == "true"
    assert "number-error" in page.by_id("number").get("aria-describedby")
    decide(ev)
    pages["results decided"] = text(client.get(f"/evaluation/calls/{call_id}/results"))
    pages["cancel funding"] = text(
        client.get(f"/evaluation/applications/{ev['applications'][0].id}/cancel-funding")
    )
    failures = [
        f"{name}: {problem}" for name, html in pages.items() for problem in _shell_problems(app, html)
    ]
    assert not failures, "\n".join(failures)


def test_the_coordinator_publishes_the_results_from_the_results_page(client, login_as, decided):
    call = decided["call"]
    login_as(decided["coordinator"])
    page = Page(text(client.get(f"/evaluation/calls/{call.id}/results")))
    forms = [f for f in page.find("form") if f.get("action", "").endswith(f"/calls/{call.id}/publish")]
    assert len(forms) == 1

    response = post(
        client, f"/evaluation/calls/{call.id}/publish", token_from=f"/evaluation/calls/{call.id}/results"
    )
    assert response.status_code == 302
    db.session.refresh(call)
    assert call.status == CallStatus.RESULTS_PUBLISHED
    after = text(client.get(f"/evaluation/calls/{call.id}/results"))
    assert f"/results/{call.id}" in after and f"/calls/{call.id}/archive" in after
    assert client.get(f"/results/{call.id}").status_code == 200
